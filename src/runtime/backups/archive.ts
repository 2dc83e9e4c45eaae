import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import {
  FILES_PART,
  MANIFEST,
  parseManifest,
  type BackupManifest,
  type ManifestFile,
  type ManifestPart,
} from './manifest.js';
import { readTar, TarWriter } from './tar.js';

/** wp-content's `database/` holds the SQLite database: it is the database part, not files. */
const SKIPPED_TOP = new Set(['database']);

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Size and sha256 of a file, read as a stream. */
export async function digestFile(file: string): Promise<ManifestPart> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of fs.createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { name: path.basename(file), size, sha256: hash.digest('hex') };
}

/** Entries of wp-content to archive, sorted, parents before children, relative with `/`. */
function listContent(root: string): { rel: string; directory: boolean }[] {
  const out: { rel: string; directory: boolean }[] = [];
  const walk = (dir: string, rel: string): void => {
    const entries = fs.readdirSync(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (rel === '' && SKIPPED_TOP.has(entry.name) && entry.isDirectory()) continue;
      if (entry.isDirectory()) {
        out.push({ rel: childRel, directory: true });
        walk(path.join(dir, entry.name), childRel);
      } else if (entry.isFile()) {
        out.push({ rel: childRel, directory: false });
      }
    }
  };
  walk(root, '');
  return out;
}

/**
 * Archives wp-content (without its database folder) as a gzipped tar and returns the list of
 * files with their sizes and checksums. Files are read asynchronously, so the edge keeps serving.
 */
export async function archiveContent(contentDir: string, dest: string): Promise<ManifestFile[]> {
  const gzip = zlib.createGzip({ level: 6 });
  const done = pipeline(gzip, fs.createWriteStream(dest));
  const tar = new TarWriter(gzip);
  const files: ManifestFile[] = [];
  try {
    for (const entry of listContent(contentDir)) {
      const full = path.join(contentDir, ...entry.rel.split('/'));
      let stat: fs.Stats;
      let data: Buffer;
      try {
        stat = await fs.promises.stat(full);
        data = entry.directory ? Buffer.alloc(0) : await fs.promises.readFile(full);
      } catch (err) {
        // Removed while we walked (a cache file…): it is not part of the snapshot.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      await tar.add({
        path: entry.rel,
        type: entry.directory ? 'directory' : 'file',
        mode: stat.mode,
        mtime: stat.mtimeMs / 1000,
        data,
      });
      if (!entry.directory)
        files.push({ path: entry.rel, size: data.length, sha256: sha256(data) });
    }
    await tar.finish();
    gzip.end();
    await done;
  } catch (err) {
    gzip.destroy();
    await done.catch(() => undefined);
    throw err;
  }
  return files;
}

export interface VerifyResult {
  ok: boolean;
  manifest: BackupManifest | null;
  /** One line per problem found. */
  problems: string[];
  files: number;
  bytes: number;
}

/** Reads the tar entries of a files part, calling `each` per entry. */
async function eachEntry(
  archive: string,
  each: (entry: {
    path: string;
    directory: boolean;
    mode: number;
    mtime: number;
    data: Buffer;
  }) => Promise<void> | void,
): Promise<void> {
  const gunzip = zlib.createGunzip();
  const source = fs.createReadStream(archive);
  source.on('error', (err) => gunzip.destroy(err));
  source.pipe(gunzip);
  try {
    for await (const entry of readTar(gunzip)) {
      await each({
        path: entry.path,
        directory: entry.type === 'directory',
        mode: entry.mode,
        mtime: entry.mtime,
        data: entry.data,
      });
    }
  } finally {
    source.destroy();
    gunzip.destroy();
  }
}

/**
 * Re-reads every part of a stored backup and checks every checksum: each part's against the
 * manifest, then each file of the archive against the manifest's file list.
 */
export async function verifyBackup(dir: string): Promise<VerifyResult> {
  const problems: string[] = [];
  let manifest: BackupManifest;
  try {
    manifest = parseManifest(fs.readFileSync(path.join(dir, MANIFEST), 'utf8'));
  } catch (err) {
    return {
      ok: false,
      manifest: null,
      problems: [`manifest: ${(err as Error).message}`],
      files: 0,
      bytes: 0,
    };
  }
  let bytes = 0;
  for (const part of manifest.parts) {
    const file = path.join(dir, part.name);
    if (!fs.existsSync(file)) {
      problems.push(`${part.name}: missing`);
      continue;
    }
    const actual = await digestFile(file);
    bytes += actual.size;
    if (actual.size !== part.size) {
      problems.push(`${part.name}: ${actual.size} bytes, the manifest says ${part.size}`);
    } else if (actual.sha256 !== part.sha256) {
      problems.push(`${part.name}: sha256 ${actual.sha256} does not match the manifest's`);
    }
  }
  if (!manifest.parts.some((p) => p.name === manifest.database.part)) {
    problems.push(`${manifest.database.part}: the database part is not in the manifest`);
  }
  const expected = new Map(manifest.files.map((f) => [f.path, f]));
  let files = 0;
  try {
    await eachEntry(path.join(dir, FILES_PART), (entry) => {
      if (entry.directory) return;
      files += 1;
      const want = expected.get(entry.path);
      if (want === undefined) {
        problems.push(`${entry.path}: in the archive but not in the manifest`);
        return;
      }
      expected.delete(entry.path);
      if (entry.data.length !== want.size || sha256(entry.data) !== want.sha256) {
        problems.push(`${entry.path}: checksum does not match the manifest`);
      }
    });
  } catch (err) {
    problems.push(`${FILES_PART}: unreadable (${(err as Error).message})`);
  }
  for (const missing of expected.keys()) problems.push(`${missing}: missing from the archive`);
  return { ok: problems.length === 0, manifest, problems, files, bytes };
}

/** Unpacks the files part into `dest` (which must not exist), restoring modes and times. */
export async function extractContent(archive: string, dest: string): Promise<number> {
  fs.mkdirSync(dest, { recursive: true });
  const root = path.resolve(dest);
  let count = 0;
  const dirTimes: [string, number][] = [];
  await eachEntry(archive, async (entry) => {
    const target = path.resolve(root, ...entry.path.split('/'));
    if (!target.startsWith(root + path.sep))
      throw new Error(`unsafe path in archive: ${entry.path}`);
    if (entry.directory) {
      fs.mkdirSync(target, { recursive: true, mode: entry.mode & 0o7777 });
      dirTimes.push([target, entry.mtime]);
      return;
    }
    fs.mkdirSync(path.dirname(target), { recursive: true });
    await fs.promises.writeFile(target, entry.data, { mode: entry.mode & 0o7777 });
    await fs.promises.utimes(target, entry.mtime, entry.mtime);
    count += 1;
  });
  for (const [dir, mtime] of dirTimes.reverse()) fs.utimesSync(dir, mtime, mtime);
  return count;
}
