import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import {
  digestFile,
  extractContent,
  verifyBackup,
  writeContentArchive,
} from '../../src/runtime/backups/archive.js';
import { FILES_PART, MANIFEST, parseManifest } from '../../src/runtime/backups/manifest.js';
import { readTar } from '../../src/runtime/backups/tar-reader.js';

/** A backup written by the code before archives were read as streams (format 1, unchanged). */
const FIXTURE = fileURLToPath(new URL('./fixtures/backup-format-1', import.meta.url));

const dirs: string[] = [];
function tmp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-backup-stream-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** Every file under `root` (relative, `/`) with its sha256, mode and mtime. */
function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, rel: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      const st = fs.lstatSync(full);
      const meta = `${(st.mode & 0o7777).toString(8)} ${Math.floor(st.mtimeMs / 1000)}`;
      if (e.isDirectory()) {
        out[`${r}/`] = meta;
        walk(full, r);
      } else {
        const sum = createHash('sha256').update(fs.readFileSync(full)).digest('hex');
        out[r] = `${meta} ${sum}`;
      }
    }
  };
  walk(root, '');
  return out;
}

/** A folder with a manifest for an archive of `root`, as a backup holds it. */
async function backupOf(root: string): Promise<string> {
  const dir = tmp();
  const files = await writeContentArchive(root, path.join(dir, FILES_PART));
  fs.writeFileSync(path.join(dir, 'database.sqlite'), 'db');
  const manifest = {
    ...parseManifest(fs.readFileSync(path.join(FIXTURE, MANIFEST), 'utf8')),
    files,
    parts: [
      await digestFile(path.join(dir, FILES_PART)),
      await digestFile(path.join(dir, 'database.sqlite')),
    ],
  };
  fs.writeFileSync(path.join(dir, MANIFEST), JSON.stringify(manifest));
  return dir;
}

describe('streamed archives', () => {
  it('round-trips a 64 MiB file through backup, verify and restore, a chunk at a time', async () => {
    const root = tmp();
    fs.mkdirSync(path.join(root, 'uploads'));
    // Half random (stored), half text (deflated): both paths of the writer, one file.
    const block = randomBytes(1 << 20);
    const hash = createHash('sha256');
    const video = path.join(root, 'uploads', 'video.mp4');
    const fd = fs.openSync(video, 'w');
    for (let i = 0; i < 64; i++) {
      const piece = i < 32 ? block : Buffer.alloc(1 << 20, `line ${i} of the log\n`);
      fs.writeSync(fd, piece);
      hash.update(piece);
    }
    fs.closeSync(fd);
    const sha256 = hash.digest('hex');

    const dir = await backupOf(root);
    const manifest = parseManifest(fs.readFileSync(path.join(dir, MANIFEST), 'utf8'));
    expect(manifest.files).toEqual([{ path: 'uploads/video.mp4', size: 64 << 20, sha256 }]);
    const verified = await verifyBackup(dir);
    expect(verified.problems).toEqual([]);
    expect(verified.files).toBe(1);

    // The reader hands the file on in pieces no larger than the decompressor's chunk.
    const gunzip = zlib.createGunzip({ chunkSize: 64 * 1024 });
    fs.createReadStream(path.join(dir, FILES_PART)).pipe(gunzip);
    let pieces = 0;
    let largest = 0;
    for await (const entry of readTar(gunzip)) {
      for await (const chunk of entry.body) {
        pieces += 1;
        largest = Math.max(largest, chunk.length);
      }
    }
    expect(largest).toBeLessThanOrEqual(64 * 1024);
    expect(pieces).toBeGreaterThanOrEqual(1024);

    const out = path.join(tmp(), 'wp-content');
    expect(await extractContent(path.join(dir, FILES_PART), out)).toBe(1);
    expect((await digestFile(path.join(out, 'uploads', 'video.mp4'))).sha256).toBe(sha256);
    // GNU tar reads the same archive into the same tree.
    const gnu = tmp();
    execFileSync('tar', ['-xzf', path.join(dir, FILES_PART), '-C', gnu]);
    expect((await digestFile(path.join(gnu, 'uploads', 'video.mp4'))).sha256).toBe(sha256);
    // 64 MiB written, archived, read three times and unpacked twice, on a shared machine.
  }, 60_000);

  it('verifies and restores a backup written before archives were streamed', async () => {
    const verified = await verifyBackup(FIXTURE);
    expect(verified.problems).toEqual([]);
    expect(verified.files).toBe(5);
    const manifest = parseManifest(fs.readFileSync(path.join(FIXTURE, MANIFEST), 'utf8'));
    const out = path.join(tmp(), 'wp-content');
    expect(await extractContent(path.join(FIXTURE, FILES_PART), out)).toBe(5);
    for (const f of manifest.files) {
      expect(await digestFile(path.join(out, ...f.path.split('/')))).toMatchObject({
        size: f.size,
        sha256: f.sha256,
      });
    }
    // Modes, times, empty folders and files: as GNU tar unpacks them.
    const gnu = tmp();
    execFileSync('tar', ['-xzf', path.join(FIXTURE, FILES_PART), '-C', gnu]);
    const restored = tree(out);
    expect(restored).toEqual(tree(gnu));
    expect(restored['plugins/hello/hello.php']).toMatch(/^600 1767225600 /);
    expect(restored['upgrade/']).toBe('755 1767225600');
  });

  it('writes archives byte for byte as before (format 1 unchanged)', async () => {
    const out = path.join(tmp(), 'wp-content');
    await extractContent(path.join(FIXTURE, FILES_PART), out);
    const again = path.join(tmp(), FILES_PART);
    await writeContentArchive(out, again);
    const before = zlib.gunzipSync(fs.readFileSync(path.join(FIXTURE, FILES_PART)));
    expect(zlib.gunzipSync(fs.readFileSync(again)).equals(before)).toBe(true);
  });
});
