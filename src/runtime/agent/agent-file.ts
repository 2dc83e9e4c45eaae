import { fileURLToPath } from 'node:url';

/** The agent mu-plugin, shipped in the package beside src/ and dist/ (its modules beside it). */
export const AGENT_FILE = fileURLToPath(
  new URL('../../../agent/wpfleet-agent.php', import.meta.url),
);
