import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Every entry under a folder: files with their hash, mode and mtime, folders, and symlinks as
 * links (never followed). Two states equal only if nothing in the tree was written, touched,
 * added, removed or linked.
 */
export function treeState(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      const rel = path.relative(dir, full);
      if (entry.isSymbolicLink()) out[rel] = `link:${fs.readlinkSync(full)}`;
      else if (entry.isDirectory()) {
        out[`${rel}/`] = 'dir';
        walk(full);
      } else {
        const stat = fs.statSync(full);
        const hash = createHash('sha256').update(fs.readFileSync(full)).digest('hex');
        out[rel] = `${hash} ${(stat.mode & 0o7777).toString(8)} ${stat.mtimeMs}`;
      }
    }
  };
  walk(dir);
  return out;
}
