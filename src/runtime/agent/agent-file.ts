import { packageFile } from '../package-path.js';

/** The agent mu-plugin, shipped in the package's `agent/` folder (its modules beside it). */
export const AGENT_FILE = packageFile('agent/wpfleet-agent.php');
