import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
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
import { TarWriter } from '../../src/runtime/backups/tar.js';
import { readTar } from '../../src/runtime/backups/tar-reader.js';

const dirs: string[] = [];
function tmp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-backup-unit-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function once(data: Buffer): AsyncIterable<Buffer> {
  return Readable.from([data]) as AsyncIterable<Buffer>;
}

/** What a TarWriter writes, in memory. */
async function tarOf(write: (tar: TarWriter) => Promise<void>): Promise<Buffer> {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  await write(new TarWriter(stream));
  stream.end();
  return Buffer.concat(chunks);
}

describe('tar', () => {
  it('reads back what it wrote, long and non-ASCII paths included', async () => {
    const long = `${'deep/'.repeat(30)}file-ü.txt`;
    const big = Buffer.alloc(70_000, 7);
    const archive = await tarOf(async (tar) => {
      await tar.addDirectory({ path: 'a', mode: 0o755, mtime: 1_700_000_000 });
      await tar.addFile(
        { path: 'a/x.php', mode: 0o644, mtime: 1_700_000_001 },
        5,
        once(Buffer.from('<?php')),
      );
      await tar.addFile({ path: long, mode: 0o600, mtime: 1_700_000_002 }, big.length, once(big));
      await tar.addFile({ path: 'empty', mode: 0o644, mtime: 0 }, 0, once(Buffer.alloc(0)));
      await tar.finish();
    });

    const source = new PassThrough();
    source.end(archive);
    const entries = [];
    for await (const e of readTar(source)) {
      const chunks: Buffer[] = [];
      for await (const chunk of e.body) chunks.push(chunk);
      entries.push({ ...e, data: Buffer.concat(chunks) });
    }
    expect(entries.map((e) => [e.path, e.type, e.mode, e.mtime, e.size, e.data.length])).toEqual([
      ['a', 'directory', 0o755, 1_700_000_000, 0, 0],
      ['a/x.php', 'file', 0o644, 1_700_000_001, 5, 5],
      [long, 'file', 0o600, 1_700_000_002, 70_000, 70_000],
      ['empty', 'file', 0o644, 0, 0, 0],
    ]);
    expect(entries[2]?.data.equals(big)).toBe(true);
  });

  it('skips the bytes of an entry its reader leaves', async () => {
    const archive = await tarOf(async (tar) => {
      await tar.addFile(
        { path: 'skipped', mode: 0o644, mtime: 0 },
        100_000,
        once(randomBytes(100_000)),
      );
      await tar.addFile({ path: 'read', mode: 0o644, mtime: 0 }, 3, once(Buffer.from('abc')));
      await tar.finish();
    });
    const source = new PassThrough();
    source.end(archive);
    const seen: string[] = [];
    for await (const e of readTar(source)) {
      if (e.path === 'skipped') continue;
      const chunks: Buffer[] = [];
      for await (const chunk of e.body) chunks.push(chunk);
      seen.push(`${e.path}=${Buffer.concat(chunks).toString()}`);
    }
    expect(seen).toEqual(['read=abc']);
  });

  it('refuses a truncated archive', async () => {
    const archive = await tarOf(async (tar) => {
      await tar.addFile({ path: 'f', mode: 0o644, mtime: 0 }, 2000, once(Buffer.alloc(2000, 1)));
    });
    const source = new PassThrough();
    source.end(archive.subarray(0, 1500));
    await expect(async () => {
      for await (const entry of readTar(source)) {
        for await (const chunk of entry.body) expect(chunk.length).toBeGreaterThan(0);
      }
    }).rejects.toThrow(/truncated/);
  });

  it('refuses an archive without its end blocks, and a damaged header', async () => {
    const archive = await tarOf(async (tar) => {
      await tar.addFile({ path: 'f', mode: 0o644, mtime: 0 }, 3, once(Buffer.from('abc')));
      await tar.finish();
    });
    const read = async (bytes: Buffer): Promise<string[]> => {
      const source = new PassThrough();
      source.end(bytes);
      const paths: string[] = [];
      for await (const entry of readTar(source)) paths.push(entry.path);
      return paths;
    };
    expect(await read(archive)).toEqual(['f']);
    await expect(read(archive.subarray(0, 1024))).rejects.toThrow(/end blocks/);
    const damaged = Buffer.from(archive);
    damaged[10] = 0x41;
    await expect(read(damaged)).rejects.toThrow(/header is damaged/);
  });

  it('announces a file of 8 GiB or more in a PAX size record, which readers honour', async () => {
    const size = 9 * 1024 ** 3 + 5;
    const head = await tarOf(async (tar) => {
      // Only the headers: the entry is read before its data is.
      const never = (async function* (): AsyncGenerator<Buffer> {})();
      await expect(
        tar.addFile({ path: 'huge.mp4', mode: 0o644, mtime: 0 }, size, never),
      ).rejects.toThrow(/0 bytes/);
    });
    const source = new PassThrough();
    source.end(head);
    for await (const entry of readTar(source)) {
      expect([entry.path, entry.size]).toEqual(['huge.mp4', size]);
      break;
    }
    // GNU tar lists it with the same size, then finds the data missing.
    const file = path.join(tmp(), 'huge.tar');
    fs.writeFileSync(file, head);
    let listing = '';
    try {
      execFileSync('tar', ['-tvf', file], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    } catch (err) {
      listing = String((err as { stdout?: string }).stdout);
    }
    expect(listing).toMatch(new RegExp(`${size} .* huge\\.mp4`));
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
