import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import {
  digestFile,
  extractContent,
  verifyBackup,
  writeContentArchive,
} from '../../src/runtime/backups/archive.js';
import {
  crc32Table,
  GzipWriter,
  looksIncompressible,
} from '../../src/runtime/backups/gzip-writer.js';
import { FILES_PART, MANIFEST, parseManifest } from '../../src/runtime/backups/manifest.js';
import { fitsOnDisk } from '../../src/runtime/backups/storage.js';
import { readTar, TarWriter } from '../../src/runtime/backups/tar.js';

const dirs: string[] = [];
function tmp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-backup-unit-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('tar', () => {
  it('reads back what it wrote, long and non-ASCII paths included', async () => {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    const tar = new TarWriter(stream);
    const long = `${'deep/'.repeat(30)}file-ü.txt`;
    const big = Buffer.alloc(70_000, 7);
    await tar.add({
      path: 'a',
      type: 'directory',
      mode: 0o755,
      mtime: 1_700_000_000,
      data: Buffer.alloc(0),
    });
    await tar.add({
      path: 'a/x.php',
      type: 'file',
      mode: 0o644,
      mtime: 1_700_000_001,
      data: Buffer.from('<?php'),
    });
    await tar.add({ path: long, type: 'file', mode: 0o600, mtime: 1_700_000_002, data: big });
    await tar.add({ path: 'empty', type: 'file', mode: 0o644, mtime: 0, data: Buffer.alloc(0) });
    await tar.finish();
    stream.end();

    const source = new PassThrough();
    source.end(Buffer.concat(chunks));
    const entries = [];
    for await (const e of readTar(source)) entries.push(e);
    expect(entries.map((e) => [e.path, e.type, e.mode, e.mtime, e.data.length])).toEqual([
      ['a', 'directory', 0o755, 1_700_000_000, 0],
      ['a/x.php', 'file', 0o644, 1_700_000_001, 5],
      [long, 'file', 0o600, 1_700_000_002, 70_000],
      ['empty', 'file', 0o644, 0, 0],
    ]);
    expect(entries[2]?.data.equals(big)).toBe(true);
  });

  it('refuses a truncated archive', async () => {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    const tar = new TarWriter(stream);
    await tar.add({ path: 'f', type: 'file', mode: 0o644, mtime: 0, data: Buffer.alloc(2000, 1) });
    stream.end();
    const source = new PassThrough();
    source.end(Buffer.concat(chunks).subarray(0, 1500));
    const paths: string[] = [];
    await expect(async () => {
      for await (const entry of readTar(source)) paths.push(entry.path);
    }).rejects.toThrow(/truncated/);
    expect(paths).toEqual([]);
  });
});

describe('gzip with stored blocks', () => {
  async function gzipOf(parts: [Buffer, boolean][]): Promise<Buffer> {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const gzip = new GzipWriter(out);
    for (const [data, incompressible] of parts) await gzip.write(data, incompressible);
    await gzip.finish();
    out.end();
    return Buffer.concat(chunks);
  }

  it('mixes compressed runs and stored blocks into one gzip member any reader reads', async () => {
    const text = Buffer.from('<?php echo "hello"; // compressible\n'.repeat(5000));
    const noise = randomBytes(200_000);
    const parts: [Buffer, boolean][] = [
      [text, false],
      [noise, true],
      [text, false],
      [Buffer.from('x'), false],
      [noise.subarray(0, 65_535), true],
      [randomBytes(65_536), true],
    ];
    const gz = await gzipOf(parts);
    const plain = Buffer.concat(parts.map(([d]) => d));
    expect(zlib.gunzipSync(gz).equals(plain)).toBe(true);
    // The stored noise costs its size and a few bytes a block; the text still compresses.
    expect(gz.length).toBeLessThan(noise.length + 65_535 + 65_536 + 2 * 0.1 * text.length);
    // Debian's gzip agrees: one member, a right CRC and length.
    const file = path.join(tmp(), 'mixed.gz');
    fs.writeFileSync(file, gz);
    const out = execFileSync('gzip', ['-dc', file]);
    expect(out.equals(plain)).toBe(true);
  });

  it('computes the CRC-32 as zlib does, also without zlib.crc32', () => {
    const data = randomBytes(10_000);
    const half = crc32Table(data.subarray(0, 4000));
    expect(crc32Table(data.subarray(4000), half)).toBe(zlib.crc32(data));
  });

  it('writes an empty stream as a valid gzip', async () => {
    expect(zlib.gunzipSync(await gzipOf([])).length).toBe(0);
  });

  it('tells media from text by a sample', () => {
    expect(looksIncompressible(randomBytes(65_536))).toBe(true);
    expect(looksIncompressible(zlib.gzipSync(Buffer.alloc(500_000, 'abc')))).toBe(false);
    expect(looksIncompressible(Buffer.from('body { margin: 0 }\n'.repeat(4000)))).toBe(false);
  });

  it('fails, without hanging, when its output fails', async () => {
    const out = new PassThrough({ highWaterMark: 1024 });
    const gzip = new GzipWriter(out);
    await gzip.write(Buffer.alloc(10, 1));
    out.destroy(new Error('disk full'));
    await expect(
      (async () => {
        for (let i = 0; i < 100; i++) await gzip.write(randomBytes(100_000), i % 2 === 0);
      })(),
    ).rejects.toThrow(/disk full|destroyed/);
    gzip.destroy();
  });
});

describe('backup archive', () => {
  function content(): string {
    const root = tmp();
    fs.mkdirSync(path.join(root, 'plugins', 'hello'), { recursive: true });
    fs.mkdirSync(path.join(root, 'uploads'));
    fs.mkdirSync(path.join(root, 'database'));
    fs.writeFileSync(path.join(root, 'plugins', 'hello', 'hello.php'), '<?php // hello');
    fs.writeFileSync(path.join(root, 'index.php'), '<?php // Silence is golden.');
    fs.writeFileSync(path.join(root, 'database', '.ht.sqlite'), 'the database part');
    return root;
  }

  async function backup(root: string): Promise<string> {
    const dir = tmp();
    const files = await writeContentArchive(root, path.join(dir, FILES_PART));
    fs.writeFileSync(path.join(dir, 'database.sqlite'), 'db');
    const manifest = {
      format: 1,
      backup_id: 'b',
      install_id: 'i',
      install_name: 'n',
      account_id: 'a',
      created_at: '',
      wordpress_version: '6.1.9',
      php_version: '8.3',
      release_version: '6.1.9',
      table_prefix: 'wp_',
      home: null,
      siteurl: null,
      database: { engine: 'sqlite', part: 'database.sqlite' },
      files,
      parts: [
        await digestFile(path.join(dir, FILES_PART)),
        await digestFile(path.join(dir, 'database.sqlite')),
      ],
    };
    fs.writeFileSync(path.join(dir, MANIFEST), JSON.stringify(manifest));
    return dir;
  }

  it('lists every file with its checksum, skips the database folder, and extracts exactly', async () => {
    const root = content();
    const dir = await backup(root);
    const manifest = parseManifest(fs.readFileSync(path.join(dir, MANIFEST), 'utf8'));
    expect(manifest.files.map((f) => f.path)).toEqual(['index.php', 'plugins/hello/hello.php']);
    const result = await verifyBackup(dir);
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    const out = path.join(tmp(), 'wp-content');
    expect(await extractContent(path.join(dir, FILES_PART), out)).toBe(2);
    expect(fs.readFileSync(path.join(out, 'plugins', 'hello', 'hello.php'), 'utf8')).toBe(
      '<?php // hello',
    );
    expect(fs.existsSync(path.join(out, 'uploads'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'database'))).toBe(false);
  });

  it('streams files larger than its read chunk, byte for byte, with their checksums', async () => {
    const root = content();
    const big = randomBytes(2.5 * 1024 * 1024 + 123);
    fs.mkdirSync(path.join(root, 'uploads', '2026', '01'), { recursive: true });
    fs.writeFileSync(path.join(root, 'uploads', '2026', '01', 'video.mp4'), big);
    const dir = await backup(root);
    const manifest = parseManifest(fs.readFileSync(path.join(dir, MANIFEST), 'utf8'));
    expect(manifest.files.find((f) => f.path === 'uploads/2026/01/video.mp4')).toEqual({
      path: 'uploads/2026/01/video.mp4',
      size: big.length,
      sha256: createHash('sha256').update(big).digest('hex'),
    });
    expect((await verifyBackup(dir)).problems).toEqual([]);
    // Stored, not deflated: the archive is the video's size and a little more.
    const archive = fs.statSync(path.join(dir, FILES_PART)).size;
    expect(archive).toBeGreaterThan(big.length);
    expect(archive).toBeLessThan(big.length + 2000);
    // Debian's tar reads it as the same tree.
    const listed = execFileSync('tar', ['-tzvf', path.join(dir, FILES_PART)], { encoding: 'utf8' });
    expect(listed).toMatch(new RegExp(`${big.length} .* uploads/2026/01/video\\.mp4`));
    const out = path.join(tmp(), 'wp-content');
    expect(await extractContent(path.join(dir, FILES_PART), out)).toBe(3);
    expect(fs.readFileSync(path.join(out, 'uploads', '2026', '01', 'video.mp4')).equals(big)).toBe(
      true,
    );
  });

  it('finds a flipped byte in any part', async () => {
    const dir = await backup(content());
    const archive = path.join(dir, FILES_PART);
    const bytes = fs.readFileSync(archive);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = (bytes[at] ?? 0) ^ 0xff;
    fs.writeFileSync(archive, bytes);
    const result = await verifyBackup(dir);
    expect(result.ok).toBe(false);
    expect(result.problems.join('\n')).toContain(`${FILES_PART}: sha256`);

    const db = await backup(content());
    fs.writeFileSync(path.join(db, 'database.sqlite'), 'dB');
    expect((await verifyBackup(db)).problems).toEqual([
      expect.stringContaining('database.sqlite: sha256') as unknown as string,
    ]);
  });

  it('checks free disk space against the size and the reserve', () => {
    expect(fitsOnDisk(1000, 400, 600)).toBe(true);
    expect(fitsOnDisk(1000, 401, 600)).toBe(false);
  });
});
