import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The agent mu-plugin, shipped in the package's `agent/` folder (its modules beside it). Found by
 * looking upwards from this module, which runs from src/ (tests), dist/ or dist-bench/src/.
 */
function findAgentFile(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = path.join(dir, 'agent', 'wpfleet-agent.php');
    if (fs.existsSync(file)) return file;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('agent/wpfleet-agent.php is missing from the wpfleet package');
    dir = up;
  }
}

export const AGENT_FILE = findAgentFile();
