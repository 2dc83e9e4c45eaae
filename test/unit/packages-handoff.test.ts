import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  PACKAGE_NAME,
  PACKAGES_FOLDER,
  withPackageInInstall,
} from '../../src/runtime/sites/packages-handoff.js';

describe('withPackageInInstall', () => {
  let dir: string;
  let contentDir: string;
  let zip: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-handoff-'));
    contentDir = path.join(dir, 'wp-content');
    fs.mkdirSync(contentDir);
    zip = path.join(dir, 'plugin.zip');
    fs.writeFileSync(zip, 'PK zip bytes');
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const packages = (): string[] => fs.readdirSync(path.join(contentDir, PACKAGES_FOLDER));

  it('copies the zip under a random name the agent accepts, and removes it afterwards', async () => {
    const seen: string[] = [];
    const result = await withPackageInInstall(contentDir, zip, (name) => {
      seen.push(name);
      expect(name).toMatch(PACKAGE_NAME);
      const copy = path.join(contentDir, PACKAGES_FOLDER, name);
      expect(fs.readFileSync(copy, 'utf8')).toBe('PK zip bytes');
      return Promise.resolve('done');
    });
    expect(result).toBe('done');
    expect(packages()).toEqual([]);
    await withPackageInInstall(contentDir, zip, (name) => {
      seen.push(name);
      return Promise.resolve();
    });
    expect(seen[0]).not.toBe(seen[1]);
  });

  it('removes the copy when the work fails, and passes the failure on', async () => {
    await expect(
      withPackageInInstall(contentDir, zip, () => Promise.reject(new Error('agent said no'))),
    ).rejects.toThrow('agent said no');
    expect(packages()).toEqual([]);
  });

  it('refuses a missing zip, and a link in place of the packages folder', async () => {
    await expect(
      withPackageInInstall(contentDir, path.join(dir, 'missing.zip'), () => Promise.resolve()),
    ).rejects.toThrow(/ENOENT/);
    const elsewhere = path.join(dir, 'elsewhere');
    fs.mkdirSync(elsewhere);
    fs.symlinkSync(elsewhere, path.join(contentDir, PACKAGES_FOLDER));
    await expect(withPackageInInstall(contentDir, zip, () => Promise.resolve())).rejects.toThrow(
      /not a folder/,
    );
    expect(fs.readdirSync(elsewhere)).toEqual([]);
  });
});
