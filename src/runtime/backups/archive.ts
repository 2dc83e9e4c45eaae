import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import zlib from 'node:zlib';
import { GzipWriter, looksIncompressible } from './gzip-writer.js';
import {
  FILES_PART,
  MANIFEST,
  parseManifest,
  type BackupManifest,
  type ManifestFile,
  type ManifestPart,
} from './manifest.js';
import { offload } from './offload.js';
import { TarWriter } from './tar.js';
import { readTar, type TarReadEntry } from './tar-reader.js';

/** wp-content's `database/` holds the SQLite database: it is the database part, not files. */
const SKIPPED_TOP = new Set(['database']);

/** Files are read (and digests computed) in chunks of this size. */
const CHUNK = 1 << 20;

/**
 * Size and sha256 of a file, read a chunk at a time into one buffer: a part of a backup is as
 * large as the install, and a new buffer per chunk would leave the process tens of MB of garbage
 * to collect (V8 collects external memory only after it has grown by about 64 MB).
 */
export async function digestFile(file: string): Promise<ManifestPart> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(CHUNK);
  let size = 0;
  const handle = await fs.promises.open(file, 'r');
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, size);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      size += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return { name: path.basename(file), size, sha256: hash.digest('hex') };
}

/**
 * Entries of wp-content to archive, sorted, parents before children, relative with `/`, listed
 * as the archive is written. A folder removed meanwhile (a cache…) is left out.
 */
async function* listContent(
  dir: string,
  rel = '',
): AsyncGenerator<{ rel: string; directory: boolean }> {
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (rel !== '' && (err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
    if (rel === '' && SKIPPED_TOP.has(entry.name) && entry.isDirectory()) continue;
    if (entry.isDirectory()) {
      yield { rel: childRel, directory: true };
      yield* listContent(path.join(dir, entry.name), childRel);
    } else if (entry.isFile()) {
      yield { rel: childRel, directory: false };
    }
  }
}

/**
 * `length` bytes (at most `buffer`'s) of an open file from `position`, read into `buffer`,
 * zero-filled past the file's end: a file that shrank since it was measured still gives what its
 * tar header announced, and the manifest's checksum is of what the archive holds.
 */
async function readAt(
  file: fs.promises.FileHandle,
  position: number,
  length: number,
  buffer: Buffer,
): Promise<Buffer> {
  const chunk = buffer.subarray(0, length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await file.read(chunk, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return chunk.fill(0, filled);
}

/**
 * Exactly `size` bytes of an open file in chunks, the first already read into `buffer`, each
 * hashed too. Every chunk is read into `buffer`: the archive writer has taken the last one in
 * before it asks for the next.
 */
async function* fileChunks(
  file: fs.promises.FileHandle,
  size: number,
  first: Buffer,
  buffer: Buffer,
  hash: Hash,
): AsyncGenerator<Buffer> {
  let chunk = first;
  let position = 0;
  for (;;) {
    hash.update(chunk);
    yield chunk;
    position += chunk.length;
    if (position >= size) return;
    chunk = await readAt(file, position, Math.min(CHUNK, size - position), buffer);
  }
}

/** Files this large or larger are sampled to see whether deflate gains anything on them. */
const SAMPLED = 64 * 1024;

/**
 * Archives wp-content (without its database folder) as a gzipped tar and returns the list of
 * files with their sizes and checksums. Taking a backup runs it in a child process at a lower
 * priority (archiveContent); this is the work itself, in this process. Files are listed and
 * read asynchronously, a chunk at a time, so no file is ever held in memory whole. Files that
 * deflate cannot shrink (media, archives: most of an uploads folder's bytes) are stored in the
 * gzip stream as they are, which saves most of the CPU a backup takes.
 */
export async function writeContentArchive(
  contentDir: string,
  dest: string,
): Promise<ManifestFile[]> {
  const out = fs.createWriteStream(dest);
  const closed = finished(out);
  closed.catch(() => undefined);
  const gzip = new GzipWriter(out, 6);
  const tar = new TarWriter(gzip);
  // One buffer for every file's chunks: a new one each time would leave tens of MB of garbage.
  const buffer = Buffer.allocUnsafe(CHUNK);
  const files: ManifestFile[] = [];
  try {
    for await (const entry of listContent(contentDir)) {
      const full = path.join(contentDir, ...entry.rel.split('/'));
      let file: fs.promises.FileHandle | undefined;
      let stat: fs.Stats;
      try {
        if (entry.directory) stat = await fs.promises.stat(full);
        else {
          file = await fs.promises.open(full, 'r');
          stat = await file.stat();
        }
      } catch (err) {
        await file?.close();
        // Removed while we walked (a cache file…): it is not part of the snapshot.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      const meta = { path: entry.rel, mode: stat.mode, mtime: stat.mtimeMs / 1000 };
      if (file === undefined) {
        await tar.addDirectory(meta);
        continue;
      }
      try {
        const hash = createHash('sha256');
        const first = await readAt(file, 0, Math.min(CHUNK, stat.size), buffer);
        // The end of the first chunk: past the headers of a media file, into its data.
        const incompressible =
          stat.size >= SAMPLED && looksIncompressible(first.subarray(-SAMPLED));
        const chunks = fileChunks(file, stat.size, first, buffer, hash);
        await tar.addFile(meta, stat.size, chunks, incompressible);
        files.push({ path: entry.rel, size: stat.size, sha256: hash.digest('hex') });
      } finally {
        await file.close();
      }
    }
    await tar.finish();
    await gzip.finish();
    out.end();
    await closed;
  } catch (err) {
    gzip.destroy();
    out.destroy();
    await closed.catch(() => undefined);
    throw err;
  }
  return files;
}

/**
 * Archives wp-content (without its database folder) as a gzipped tar and returns the list of
 * files with their sizes and checksums: writeContentArchive, run in a child process at a lower
 * priority (offload.ts), so that the site keeps serving at its usual pace meanwhile.
 */
export function archiveContent(contentDir: string, dest: string): Promise<ManifestFile[]> {
  return offload({ op: 'archive', contentDir, dest });
}

export interface VerifyResult {
  ok: boolean;
  manifest: BackupManifest | null;
  /** One line per problem found. */
  problems: string[];
  files: number;
  bytes: number;
}

/** Decompressed data is handed on in chunks of this size. */
const GUNZIP_CHUNK = 64 * 1024;

/**
 * The entries of a files part, read as a stream: each entry's bytes come in chunks as they are
 * decompressed, so memory holds a few chunks whatever the size of a file.
 */
async function* archiveEntries(archive: string): AsyncGenerator<TarReadEntry> {
  const gunzip = zlib.createGunzip({ chunkSize: GUNZIP_CHUNK });
  const source = fs.createReadStream(archive);
  source.on('error', (err) => gunzip.destroy(err));
  source.pipe(gunzip);
  try {
    yield* readTar(gunzip);
  } finally {
    source.destroy();
    gunzip.destroy();
  }
}

/**
 * Why a path from an archive must not be unpacked, or null when it is safe: it must stay inside
 * the folder it is unpacked into, so no absolute path and no `..`.
 */
function unsafePath(entryPath: string): string | null {
  if (entryPath === '' || entryPath === '.') return 'an empty path';
  if (entryPath.startsWith('/')) return 'an absolute path';
  if (entryPath.split('/').includes('..')) return 'a path that leads out of its folder (..)';
  if (entryPath.includes('\0')) return 'a path with a NUL byte';
  return null;
}

/** Why an entry is no file or folder of a backup (which holds nothing else), or null. */
function foreignEntry(entry: TarReadEntry): string | null {
  switch (entry.type) {
    case 'file':
    case 'directory':
      return null;
    case 'symlink':
      return `a symbolic link (to ${entry.linkname ?? '?'})`;
    case 'link':
      return `a hard link (to ${entry.linkname ?? '?'})`;
    case 'other':
      return 'a device, FIFO or other special file';
  }
}

/** Size and sha256 of an entry's bytes, read as they come. */
async function digestEntry(entry: TarReadEntry): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of entry.body) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { size, sha256: hash.digest('hex') };
}

/**
 * Re-reads every part of a stored backup and checks every checksum: each part's against the
 * manifest, then each file of the archive against the manifest's file list.
 */
export async function verifyBackup(dir: string): Promise<VerifyResult> {
  const problems: string[] = [];
  let manifest: BackupManifest;
  try {
    manifest = parseManifest(await fs.promises.readFile(path.join(dir, MANIFEST), 'utf8'));
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
    for await (const entry of archiveEntries(path.join(dir, FILES_PART))) {
      const refused = unsafePath(entry.path) ?? foreignEntry(entry);
      if (refused !== null) {
        problems.push(`${entry.path}: ${refused}, which a backup never holds`);
        continue;
      }
      if (entry.type === 'directory') continue;
      files += 1;
      const actual = await digestEntry(entry);
      const want = expected.get(entry.path);
      if (want === undefined) {
        problems.push(`${entry.path}: in the archive but not in the manifest`);
        continue;
      }
      expected.delete(entry.path);
      if (actual.size !== want.size || actual.sha256 !== want.sha256) {
        problems.push(`${entry.path}: checksum does not match the manifest`);
      }
    }
  } catch (err) {
    problems.push(`${FILES_PART}: unreadable (${(err as Error).message})`);
  }
  for (const missing of expected.keys()) problems.push(`${missing}: missing from the archive`);
  return { ok: problems.length === 0, manifest, problems, files, bytes };
}

/** An archive entry that restoring refuses: a link, or a path leading out of the target. */
export class UnsafeArchiveError extends Error {}

/** Writes all of `chunk` at the file's current end. */
async function writeAll(file: fs.promises.FileHandle, chunk: Buffer): Promise<void> {
  for (let at = 0; at < chunk.length;) {
    const { bytesWritten } = await file.write(chunk, at, chunk.length - at);
    at += bytesWritten;
  }
}

/**
 * Unpacks the files part into `dest` (which must not exist), restoring modes (whatever the umask)
 * and times; each file is written as its bytes are decompressed. Refuses (UnsafeArchiveError),
 * before writing it, any entry that is not a file or folder (links are neither followed nor
 * created) or whose path is absolute or leads out of `dest`; what was unpacked before it stays
 * inside `dest`.
 */
export async function extractContent(archive: string, dest: string): Promise<number> {
  await fs.promises.mkdir(dest, { recursive: true });
  const root = path.resolve(dest);
  let count = 0;
  // Folders get their mode and time last: writing into them would change their time, and a
  // read-only one could not take its files.
  const folders: { target: string; mode: number; mtime: number }[] = [];
  for await (const entry of archiveEntries(archive)) {
    const refused = unsafePath(entry.path) ?? foreignEntry(entry);
    const target = path.resolve(root, ...entry.path.split('/'));
    if (refused !== null || !target.startsWith(root + path.sep)) {
      throw new UnsafeArchiveError(
        `refused to restore ${JSON.stringify(entry.path)}: ${refused ?? 'a path outside the target'}`,
      );
    }
    if (entry.type === 'directory') {
      await fs.promises.mkdir(target, { recursive: true });
      folders.push({ target, mode: entry.mode & 0o7777, mtime: entry.mtime });
      continue;
    }
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    // O_NOFOLLOW: should anything have put a link where the file goes, it is not written through.
    const { O_WRONLY, O_CREAT, O_TRUNC, O_NOFOLLOW } = fs.constants;
    const file = await fs.promises.open(
      target,
      O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW,
      entry.mode & 0o7777,
    );
    try {
      for await (const chunk of entry.body) await writeAll(file, chunk);
      // The mode as archived, whatever the umask.
      await file.chmod(entry.mode & 0o7777);
    } finally {
      await file.close();
    }
    await fs.promises.utimes(target, entry.mtime, entry.mtime);
    count += 1;
  }
  for (const folder of folders.reverse()) {
    await fs.promises.chmod(folder.target, folder.mode);
    await fs.promises.utimes(folder.target, folder.mtime, folder.mtime);
  }
  return count;
}
