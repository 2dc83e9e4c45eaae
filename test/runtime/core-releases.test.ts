import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addRelease, releaseStore } from '../../src/runtime/releases/index.js';
import { coreReleases } from '../../src/runtime/releases/core-releases.js';
import { checkStoredRelease, repairRelease } from '../../src/runtime/releases/repair.js';
import { generatorVersion } from '../../src/runtime/sites/core-update.js';
import {
  checksumsOf,
  closedEndpoints,
  fakeWordPress,
  fakeWordPressOrg,
  releaseRejection,
  settings,
  tempDir,
  writeTree,
} from './releases-fixtures.js';

const dirs: string[] = [];
async function scratch(prefix: string): Promise<string> {
  const dir = await tempDir(prefix);
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
});

/** A release added from a local folder, and that folder. */
async function localRelease(version: string) {
  const base = await scratch('core-local');
  const files = fakeWordPress(version);
  const from = path.join(base, 'wordpress');
  await writeTree(from, files);
  const checksums = path.join(base, 'checksums.json');
  await fs.writeFile(checksums, JSON.stringify(checksumsOf(files)));
  const data = await scratch('core-data');
  const { release } = await addRelease(settings(data), { from, checksumsFile: checksums });
  return { data, from, files, release };
}

async function damage(root: string): Promise<void> {
  await fs.appendFile(path.join(root, 'wp-login.php'), '// changed\n');
  await fs.rm(path.join(root, 'wp-admin', 'index.php'));
  await fs.writeFile(path.join(root, 'wp-includes', 'stray.php'), '<?php\n');
}

describe('a stored release checked and repaired', () => {
  it('finds changed, missing and extra files against the checksums recorded when it was added', async () => {
    const { release } = await localRelease('6.5.5');
    expect(await checkStoredRelease(release)).toEqual({
      ok: true,
      changed: [],
      missing: [],
      extra: [],
    });
    await damage(release.root);
    expect(await checkStoredRelease(release)).toEqual({
      ok: false,
      changed: ['wp-login.php'],
      missing: ['wp-admin/index.php'],
      extra: ['wp-includes/stray.php'],
    });
  });

  it('fetches a local release again from its folder and swaps it in, keeping its manifest', async () => {
    const { data, files, release } = await localRelease('6.5.5');
    await damage(release.root);
    await repairRelease(settings(data), release);
    const repaired = await releaseStore(settings(data)).get('6.5.5');
    if (repaired === null) throw new Error('the release is gone');
    expect((await checkStoredRelease(repaired)).ok).toBe(true);
    expect(await fs.readFile(path.join(repaired.root, 'wp-login.php'), 'utf8')).toBe(
      files['wp-login.php'],
    );
    expect(repaired.manifest).toMatchObject({
      source: 'local',
      verification: release.manifest.verification,
    });
    expect(repaired.manifest.notes.at(-1)).toMatch(/^repaired .*matched the checksums/);
    // Nothing left beside the releases.
    expect(await fs.readdir(path.join(data, 'releases'))).toEqual(['6.5.5']);
  });

  it('refuses what it fetched when that differs too, leaving the release as it was', async () => {
    const { data, from, release } = await localRelease('6.5.5');
    await damage(release.root);
    await fs.appendFile(path.join(from, 'wp-settings.php'), '// the folder changed since\n');
    const err = await releaseRejection(repairRelease(settings(data), release));
    expect(err.code).toBe('checksum_mismatch');
    expect(err.message).toContain('changed: wp-settings.php');
    const after = await checkStoredRelease(release);
    expect(after.changed).toEqual(['wp-login.php']);
    expect(await fs.readdir(path.join(data, 'releases'))).toEqual(['6.5.5']);
  });
});

describe("core's view of the releases", () => {
  it('says which versions are stored, offered, unknown or not offered', async () => {
    const { data } = await localRelease('6.5.5');
    const offline = coreReleases(settings(data, ['wordpress.org']), {
      wordpressOrg: await closedEndpoints(),
    });
    expect(await offline.stored()).toEqual(['6.5.5']);
    expect(await offline.availability('6.5.5')).toBe('stored');
    expect(await offline.availability('6.6.1')).toBe('unknown');
    expect(await offline.availability('../6.5.5')).toBe('not_offered');
    expect(await coreReleases(settings(data)).availability('6.6.1')).toBe('not_offered');

    const wporg = await fakeWordPressOrg('6.6.1', fakeWordPress('6.6.1'));
    try {
      const online = coreReleases(settings(data, ['wordpress.org']), {
        wordpressOrg: { api: wporg.api, downloads: wporg.downloads, timeoutMs: 5_000 },
      });
      expect(await online.availability('6.6.1')).toBe('obtainable');
      expect(await online.availability('6.6.2')).toBe('not_offered');
      // Asked without downloading anything.
      expect(wporg.requests.some((p) => p.endsWith('.zip'))).toBe(false);
    } finally {
      await wporg.close();
    }
  });

  it("verifies an install's core against its release", async () => {
    const { data, release } = await localRelease('6.5.5');
    const releases = coreReleases(settings(data));
    expect(await releases.verifyInstallCore('6.5.5')).toMatchObject({ ok: true, changed: [] });
    await fs.appendFile(path.join(release.root, 'wp-login.php'), '// changed\n');
    expect(await releases.verifyInstallCore('6.5.5')).toMatchObject({
      ok: false,
      changed: ['wp-login.php'],
    });
    await expect(releases.verifyInstallCore('6.4.0')).rejects.toThrow('not stored');
  });
});

describe("the home page's generator tag", () => {
  it("reads WordPress's version from it, and nothing from a page without one", () => {
    expect(generatorVersion('<meta name="generator" content="WordPress 6.1.99" />')).toBe('6.1.99');
    expect(generatorVersion("<meta name='generator' content='WordPress 6.5-RC1'>")).toBe('6.5-RC1');
    expect(generatorVersion('<meta name="generator" content="Hugo 0.1" />')).toBeNull();
    expect(generatorVersion('<p>WordPress 6.1.9</p>')).toBeNull();
  });
});
