import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { pack, type Header } from 'tar-stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  digestFile,
  extractContent,
  UnsafeArchiveError,
  verifyBackup,
} from '../../src/runtime/backups/archive.js';
import { FILES_PART, MANIFEST } from '../../src/runtime/backups/manifest.js';

const dirs: string[] = [];
function tmp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-restore-safety-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

type Entry = Pick<Header, 'name'> & Partial<Header> & { data?: string };

/** A gzipped tar crafted with tar-stream, as someone other than wpfleet could write one. */
async function crafted(file: string, entries: Entry[]): Promise<void> {
  const tar = pack();
  const written = pipeline(tar, zlib.createGzip(), fs.createWriteStream(file));
  for (const { data = '', ...header } of entries) {
    await new Promise<void>((resolve, reject) => {
      tar.entry({ mode: 0o644, ...header }, data, (err) => {
        if (err) reject(err);
        else resolve();
      });
    });
  }
  tar.finalize();
  await written;
}

/** Every path under `root`, links included (not followed). */
function listAll(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      out.push(path.relative(root, path.join(dir, e.name)));
      if (e.isDirectory()) walk(path.join(dir, e.name));
    }
  };
  walk(root);
  return out.sort();
}

/**
 * Unpacks a crafted archive into `<sandbox>/site/wp-content` beside a decoy file; resolves with
 * the error and everything in the sandbox afterwards.
 */
async function restoreCrafted(
  entries: (sandbox: string) => Entry[],
): Promise<{ error: unknown; sandbox: string; files: string[] }> {
  const sandbox = tmp();
  fs.mkdirSync(path.join(sandbox, 'site'));
  fs.writeFileSync(path.join(sandbox, 'decoy.txt'), 'untouched');
  const archive = path.join(sandbox, FILES_PART);
  await crafted(archive, entries(sandbox));
  const error = await extractContent(archive, path.join(sandbox, 'site', 'wp-content')).then(
    () => null,
    (err: unknown) => err,
  );
  return { error, sandbox, files: listAll(sandbox) };
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

const before: Entry = { name: 'index.php', data: '<?php // first' };
/** The sandbox after a refusal: the decoy as it was, and the entry before the bad one inside. */
const UNTOUCHED = ['decoy.txt', FILES_PART, 'site', 'site/wp-content', 'site/wp-content/index.php'];

describe('restoring a crafted archive', () => {
  it('refuses a `..` path and writes nothing outside the target', async () => {
    const r = await restoreCrafted(() => [
      before,
      { name: 'uploads/../../../escaped.txt', data: 'out' },
    ]);
    expect(r.error).toBeInstanceOf(UnsafeArchiveError);
    expect(String(r.error)).toMatch(/leads out of its folder/);
    expect(r.files).toEqual(UNTOUCHED);
  });

  it('refuses an absolute path, which it neither writes there nor re-roots', async () => {
    const r = await restoreCrafted((sandbox) => [
      before,
      { name: path.join(sandbox, 'absolute.txt'), data: 'out' },
    ]);
    expect(r.error).toBeInstanceOf(UnsafeArchiveError);
    expect(String(r.error)).toMatch(/absolute path/);
    expect(r.files).toEqual(UNTOUCHED);
  });

  it('refuses a symbolic link: creates none and writes nothing through it', async () => {
    const r = await restoreCrafted((sandbox) => [
      before,
      { name: 'uploads', type: 'directory', mode: 0o755 },
      { name: 'uploads/out', type: 'symlink', linkname: sandbox },
      { name: 'uploads/out/decoy.txt', data: 'overwritten' },
    ]);
    expect(r.error).toBeInstanceOf(UnsafeArchiveError);
    expect(String(r.error)).toMatch(/symbolic link/);
    expect(r.files).toEqual([...UNTOUCHED, 'site/wp-content/uploads']);
    expect(fs.readFileSync(path.join(r.sandbox, 'decoy.txt'), 'utf8')).toBe('untouched');
  });

  it('refuses a hard link: creates none and leaves its target alone', async () => {
    const r = await restoreCrafted((sandbox) => [
      before,
      { name: 'linked.txt', type: 'link', linkname: path.join(sandbox, 'decoy.txt') },
    ]);
    expect(r.error).toBeInstanceOf(UnsafeArchiveError);
    expect(String(r.error)).toMatch(/hard link/);
    expect(r.files).toEqual(UNTOUCHED);
    expect(fs.statSync(path.join(r.sandbox, 'decoy.txt')).nlink).toBe(1);
  });

  it('is refused at verify too, so a restore stops before it unpacks anything', async () => {
    const dir = tmp();
    const archive = path.join(dir, FILES_PART);
    await crafted(archive, [
      before,
      { name: 'uploads/out', type: 'symlink', linkname: '/etc' },
      { name: '../escaped.txt', data: 'out' },
    ]);
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
      files: [{ path: 'index.php', size: before.data?.length, sha256: sha256(before.data ?? '') }],
      parts: [await digestFile(archive), await digestFile(path.join(dir, 'database.sqlite'))],
    };
    fs.writeFileSync(path.join(dir, MANIFEST), JSON.stringify(manifest));
    const result = await verifyBackup(dir);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      'uploads/out: a symbolic link (to /etc), which a backup never holds',
      '../escaped.txt: a path that leads out of its folder (..), which a backup never holds',
    ]);
  });
});
