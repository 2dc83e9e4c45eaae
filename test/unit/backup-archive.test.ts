import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  archiveContent,
  digestFile,
  extractContent,
  verifyBackup,
} from '../../src/runtime/backups/archive.js';
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
    const files = await archiveContent(root, path.join(dir, FILES_PART));
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
