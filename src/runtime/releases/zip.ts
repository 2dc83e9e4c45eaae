import { openAsBlob } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { decodeZip } from '@php-wasm/stream-compression';
import { ReleaseError } from './errors.js';

/**
 * Unpacks a zip into `dir` (created). Entries that would land outside `dir` (absolute paths,
 * `..`) are refused: a zip is input from outside.
 */
export async function unzipTo(zipFile: string, dir: string): Promise<number> {
  await fs.mkdir(dir, { recursive: true });
  let blob: Blob;
  try {
    blob = await openAsBlob(zipFile);
  } catch {
    throw new ReleaseError('invalid', `cannot read ${zipFile}`);
  }
  let count = 0;
  try {
    for await (const entry of decodeZip(blob.stream())) {
      const name = entry.name.replace(/\\/g, '/');
      const parts = name.split('/').filter((p) => p !== '' && p !== '.');
      if (name.startsWith('/') || parts.includes('..') || parts.length === 0) {
        throw new ReleaseError('invalid', `${zipFile} holds an unsafe path "${entry.name}"`);
      }
      const target = path.join(dir, ...parts);
      if (name.endsWith('/')) {
        await fs.mkdir(target, { recursive: true });
        continue;
      }
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.writeFile(target, new Uint8Array(await entry.arrayBuffer()));
      count++;
    }
  } catch (err) {
    if (err instanceof ReleaseError) throw err;
    throw new ReleaseError(
      'invalid',
      `${zipFile} is not a readable zip (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  if (count === 0) throw new ReleaseError('invalid', `${zipFile} holds no files`);
  return count;
}

/**
 * The WordPress root in an unpacked zip or a given folder: the folder itself, or its one
 * subfolder (wordpress.org's zips hold `wordpress/`).
 */
export async function findWordPressRoot(dir: string, label = dir): Promise<string> {
  const isRoot = async (d: string): Promise<boolean> =>
    fs.stat(path.join(d, 'wp-includes', 'version.php')).then(
      (s) => s.isFile(),
      () => false,
    );
  if (await isRoot(dir)) return dir;
  const entries = (await fs.readdir(dir, { withFileTypes: true })).filter(
    (e) => e.name !== '__MACOSX',
  );
  const only = entries[0];
  if (entries.length === 1 && only !== undefined) {
    const sub = path.join(dir, only.name);
    if ((await fs.stat(sub)).isDirectory() && (await isRoot(sub))) return sub;
  }
  throw new ReleaseError(
    'invalid',
    `${label} is not a WordPress tree: no wp-includes/version.php at its top or in its one folder`,
  );
}
