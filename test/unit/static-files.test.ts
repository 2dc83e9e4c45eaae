import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileUnder } from '../../src/edge/static-files.js';

describe('the file a URL names under an install', () => {
  let dir: string;
  let root: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-static-'));
    root = path.join(dir, 'a', 'wp-content');
    fs.mkdirSync(path.join(root, 'uploads'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'b'));
    fs.writeFileSync(path.join(root, 'uploads', 'logo.png'), 'png');
    fs.writeFileSync(path.join(dir, 'b', 'wp-config.txt'), 'secret of b');
    fs.symlinkSync(path.join(dir, 'b', 'wp-config.txt'), path.join(root, 'uploads', 'abs.txt'));
    fs.symlinkSync('../../../b/wp-config.txt', path.join(root, 'uploads', 'rel.txt'));
    fs.symlinkSync(path.join(dir, 'b'), path.join(root, 'uploads', 'dir'));
    fs.symlinkSync('logo.png', path.join(root, 'uploads', 'inside.png'));
  });

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is the real file for a plain path', () => {
    expect(fileUnder(root, '/uploads/logo.png')).toBe(
      fs.realpathSync(path.join(root, 'uploads', 'logo.png')),
    );
  });

  it('is refused through a symlink that leaves the root, absolute or relative', () => {
    expect(fileUnder(root, '/uploads/abs.txt')).toBeNull();
    expect(fileUnder(root, '/uploads/rel.txt')).toBeNull();
    expect(fileUnder(root, '/uploads/dir/wp-config.txt')).toBeNull();
  });

  it('follows a symlink that stays inside the root', () => {
    expect(fileUnder(root, '/uploads/inside.png')).toBe(
      fs.realpathSync(path.join(root, 'uploads', 'logo.png')),
    );
  });

  it('is refused for `..`, hidden files, NUL and missing files', () => {
    expect(fileUnder(root, '/../../b/wp-config.txt')).toBeNull();
    expect(fileUnder(root, '/uploads/%2e%2e/%2e%2e/%2e%2e/b/wp-config.txt')).toBeNull();
    expect(fileUnder(root, '/database/.ht.sqlite')).toBeNull();
    expect(fileUnder(root, '/uploads/logo.png%00.txt')).toBeNull();
    expect(fileUnder(root, '/uploads/nothing.png')).toBeNull();
  });
});
