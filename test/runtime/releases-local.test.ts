import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../src/core/errors.js';
import {
  addRelease,
  compareVersions,
  ensureRelease,
  releaseStore,
} from '../../src/runtime/releases/index.js';
import {
  checksumsOf,
  closedEndpoints,
  fakeWordPress,
  fakeWordPressOrg,
  rejection,
  releaseRejection,
  settings,
  tempDir,
  writeTree,
  zipOf,
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

/** A WordPress folder and a checksums file for it, in a fresh scratch folder. */
async function localCopy(
  version: string,
  extra: Record<string, string> = {},
): Promise<{ dir: string; checksums: string; files: Record<string, string> }> {
  const base = await scratch('local');
  const files = fakeWordPress(version);
  const dir = path.join(base, 'wordpress');
  await writeTree(dir, { ...files, ...extra });
  const checksums = path.join(base, 'checksums.json');
  await fs.writeFile(checksums, JSON.stringify(checksumsOf(files)));
  return { dir, checksums, files };
}

/** No checksums file, and wordpress.org (asked for them) unreachable. */
async function offline(): Promise<{ wordpressOrg: Awaited<ReturnType<typeof closedEndpoints>> }> {
  return { wordpressOrg: await closedEndpoints() };
}

describe('the local source (--from a folder or zip)', () => {
  it('adds a folder verified against a checksums file, without its wp-config.php', async () => {
    const local = await localCopy('6.5.5', { 'wp-config.php': '<?php // a live site' });
    const data = await scratch('data');
    const { release, added } = await addRelease(settings(data), {
      from: local.dir,
      checksumsFile: local.checksums,
    });
    expect(added).toBe(true);
    expect(release.manifest).toMatchObject({
      version: '6.5.5',
      source: 'local',
      origin: local.dir,
      files: Object.keys(local.files).length,
      verification: { verified: true, against: `the checksums in ${local.checksums}` },
    });
    await expect(fs.stat(path.join(release.root, 'wp-config.php'))).rejects.toThrow();
    expect(await fs.readFile(path.join(release.root, 'wp-login.php'), 'utf8')).toBe(
      local.files['wp-login.php'],
    );
  });

  it('adds a zip laid out like wordpress.org', async () => {
    const local = await localCopy('6.4.3');
    const zip = path.join(path.dirname(local.dir), 'wordpress-6.4.3.zip');
    await zipOf(local.files, zip);
    const { release } = await addRelease(settings(await scratch('data')), {
      from: zip,
      checksumsFile: local.checksums,
    });
    expect(release.version).toBe('6.4.3');
    expect(release.manifest.verification.verified).toBe(true);
  });

  it('refuses files that do not match the checksums file, naming them', async () => {
    const local = await localCopy('6.5.5');
    const bad = checksumsOf({ ...local.files, 'wp-settings.php': 'something else' });
    await fs.writeFile(local.checksums, JSON.stringify(bad));
    const data = await scratch('data');
    const err = await releaseRejection(
      addRelease(settings(data), { from: local.dir, checksumsFile: local.checksums }),
    );
    expect(err.code).toBe('checksum_mismatch');
    expect(err.message).toContain('refused (changed: wp-settings.php)');
    expect(await releaseStore(settings(data)).list()).toEqual([]);
    expect(await fs.readdir(path.join(data, 'releases'))).toEqual([]);
  });

  it('refuses a checksums file that lists files the tree lacks', async () => {
    const local = await localCopy('6.5.5');
    await fs.rm(path.join(local.dir, 'wp-admin/css/login.min.css'));
    const err = await rejection(
      addRelease(settings(await scratch('data')), {
        from: local.dir,
        checksumsFile: local.checksums,
      }),
    );
    expect(err.message).toContain('missing: wp-admin/css/login.min.css');
  });

  it('refuses a release without checksums unless told --no-verify, then marks it unverified', async () => {
    const local = await localCopy('6.5.5');
    const data = await scratch('data');
    const err = await releaseRejection(
      addRelease(settings(data), { from: local.dir }, await offline()),
    );
    expect(err.code).toBe('unverifiable');
    expect(err.message).toMatch(/wordpress\.org is not reachable/);
    expect(err.message).toMatch(/give --checksums FILE .* or add it unverified with --no-verify$/);

    const { release } = await addRelease(
      settings(data),
      { from: local.dir, noVerify: true },
      await offline(),
    );
    expect(release.manifest.verification).toEqual({
      verified: false,
      reason: 'added with --no-verify: no checksums were given',
    });
  });

  it("fetches the version's checksums from wordpress.org when it is reachable", async () => {
    const local = await localCopy('6.5.5');
    const server = await fakeWordPressOrg('6.5.5', local.files);
    try {
      const { release } = await addRelease(
        settings(await scratch('data')),
        { from: local.dir },
        { wordpressOrg: { api: server.api, downloads: server.downloads, timeoutMs: 5_000 } },
      );
      expect(release.manifest.verification).toMatchObject({
        verified: true,
        against: "wordpress.org's checksums for 6.5.5 (en_US)",
      });
    } finally {
      await server.close();
    }
  });

  it("refuses Playground's stripped WordPress builds even with --no-verify", async () => {
    const require = createRequire(import.meta.url);
    const builds = path.dirname(require.resolve('@wp-playground/wordpress-builds/package.json'));
    const err = await rejection(
      addRelease(
        settings(await scratch('data')),
        { from: path.join(builds, 'src/wordpress/wp-6.5.zip'), noVerify: true },
        await offline(),
      ),
    );
    expect(err.message).toMatch(/is a WordPress Playground build, stripped of its static files/);
  });

  it('refuses an incomplete WordPress even when its checksums match', async () => {
    const base = await scratch('partial');
    const files = fakeWordPress('6.5.5');
    delete files['wp-includes/js/jquery/jquery.min.js'];
    await writeTree(path.join(base, 'wp'), files);
    await fs.writeFile(path.join(base, 'sums.json'), JSON.stringify(checksumsOf(files)));
    const err = await rejection(
      addRelease(settings(await scratch('data')), {
        from: path.join(base, 'wp'),
        checksumsFile: path.join(base, 'sums.json'),
      }),
    );
    expect(err.message).toMatch(
      /is incomplete: it lacks wp-includes\/js\/jquery\/jquery\.min\.js$/,
    );
  });

  it('refuses a folder that is not WordPress', async () => {
    const dir = await scratch('notwp');
    await fs.writeFile(path.join(dir, 'index.html'), 'hello');
    const err = await rejection(
      addRelease(settings(await scratch('data')), { from: dir, noVerify: true }, await offline()),
    );
    expect(err.message).toMatch(/not a WordPress tree/);
  });
});

describe('the release store', () => {
  it('lists newest first, keeps one copy per version, and removes only unused releases', async () => {
    const data = await scratch('store');
    const config = settings(data);
    for (const version of ['6.4.3', '6.5.5', '6.5']) {
      const local = await localCopy(version);
      const { added } = await addRelease(config, {
        from: local.dir,
        checksumsFile: local.checksums,
      });
      expect(added).toBe(true);
    }
    const again = await localCopy('6.5.5');
    expect(
      (await addRelease(config, { from: again.dir, checksumsFile: again.checksums })).added,
    ).toBe(false);

    const store = releaseStore(config);
    expect((await store.list()).map((r) => r.version)).toEqual(['6.5.5', '6.5', '6.4.3']);
    expect((await ensureRelease(config)).version).toBe('6.5.5');
    expect((await ensureRelease(config, { version: '6.4.3' })).version).toBe('6.4.3');

    const inUse = await releaseRejection(store.remove('6.5.5', () => Promise.resolve(true)));
    expect(inUse.code).toBe('in_use');
    await store.remove('6.5.5', () => Promise.resolve(false));
    expect((await store.list()).map((r) => r.version)).toEqual(['6.5', '6.4.3']);
    expect(await fs.readdir(path.join(data, 'releases'))).toEqual(['6.4.3', '6.5']);
    const missing = await rejection(store.remove('6.5.5', () => Promise.resolve(false)));
    expect(missing).toBeInstanceOf(NotFoundError);
  });

  it('says how to get a release when there is none and every source is off', async () => {
    const err = await releaseRejection(ensureRelease(settings(await scratch('none'), [])));
    expect(err.code).toBe('no_release');
    expect(err.message).toContain('every release source is turned off');
    expect(err.message).toContain('`wpfleet releases add [--source wordpress.org|debian]`');
    expect(err.message).toContain('--from wordpress-X.Y.Z.zip --checksums checksums.json');
  });

  it('orders versions as WordPress numbers them', () => {
    const sorted = ['6.5', '6.10.1', '6.5.5', '6.6-RC1', '6.6', '6.4.3'].sort((a, b) =>
      compareVersions(b, a),
    );
    expect(sorted).toEqual(['6.10.1', '6.6', '6.6-RC1', '6.5.5', '6.5', '6.4.3']);
  });
});
