import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A file of the wpfleet package, such as `agent/wpfleet-agent.php` or the compiled PHP host,
 * found by looking upwards from this module, which runs from src/ (tests), dist/ or
 * dist-bench/src/ (benchmarks).
 */
export function packageFile(relative: string): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = path.join(dir, relative);
    if (fs.existsSync(file)) return file;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`${relative} is missing from the wpfleet package`);
    dir = up;
  }
}
