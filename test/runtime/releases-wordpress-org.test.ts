import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { addRelease, releaseStore } from '../../src/runtime/releases/index.js';
import { WordPressOrgSource } from '../../src/runtime/releases/sources/wordpress-org.js';
import {
  closedEndpoints,
  fakeWordPress,
  fakeWordPressOrg,
  releaseRejection,
  settings,
  tempDir,
  type FakeWordPressOrg,
} from './releases-fixtures.js';

const dirs: string[] = [];
let server: FakeWordPressOrg | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});
afterAll(async () => {
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
});

async function dataDir(): Promise<string> {
  const dir = await tempDir('wporg-data');
  dirs.push(dir);
  return dir;
}

function endpoints(s: FakeWordPressOrg): { api: string; downloads: string; timeoutMs: number } {
  return { api: s.api, downloads: s.downloads, timeoutMs: 5_000 };
}

describe('the wordpress.org source, against a loopback stand-in', () => {
  it('adds the newest version, verified against its checksums', async () => {
    const files = fakeWordPress('6.5.5');
    server = await fakeWordPressOrg('6.5.5', files, { ...files, 'wp-config.php': '<?php // x' });
    const data = await dataDir();
    const { release, added } = await addRelease(
      settings(data, ['wordpress.org']),
      {},
      { wordpressOrg: endpoints(server) },
    );
    expect(added).toBe(true);
    expect(release.version).toBe('6.5.5');
    expect(release.root).toBe(path.join(data, 'releases', '6.5.5', 'wordpress'));
    expect(release.manifest).toMatchObject({
      source: 'wordpress.org',
      origin: `${server.downloads}/release/wordpress-6.5.5.zip`,
      files: Object.keys(files).length,
      verification: { verified: true, against: "wordpress.org's checksums for 6.5.5 (en_US)" },
    });
    await expect(fs.stat(path.join(release.root, 'wp-config.php'))).rejects.toThrow();
    expect(server.requests).toEqual([
      '/core/version-check/1.7/',
      '/core/checksums/1.0/',
      '/release/wordpress-6.5.5.zip',
    ]);
  });

  it('accepts files its checksums leave out, and says so in the manifest', async () => {
    const files = fakeWordPress('6.5.5');
    const served = { ...files, 'wp-includes/js/dist/editor.min.js': '/* built */' };
    server = await fakeWordPressOrg('6.5.5', files, served);
    const { release } = await addRelease(
      settings(await dataDir(), ['wordpress.org']),
      {},
      { wordpressOrg: endpoints(server) },
    );
    expect(release.manifest.verification).toMatchObject({ verified: true, unlisted: 1 });
    expect(release.manifest.notes).toEqual([
      '1 file is not named by the checksums (wp-includes/js/dist/editor.min.js…)',
    ]);
  });

  it('refuses a zip whose files do not match the checksums, and keeps nothing', async () => {
    const files = fakeWordPress('6.5.5');
    const tampered = { ...files, 'wp-login.php': '<?php eval($_POST["x"]);' };
    server = await fakeWordPressOrg('6.5.5', files, tampered);
    const data = await dataDir();
    const err = await releaseRejection(
      addRelease(settings(data), { source: 'wordpress.org' }, { wordpressOrg: endpoints(server) }),
    );
    expect(err.code).toBe('checksum_mismatch');
    expect(err.message).toBe(
      `WordPress 6.5.5 from ${server.downloads}/release/wordpress-6.5.5.zip does not match ` +
        "wordpress.org's checksums for 6.5.5 (en_US); refused (changed: wp-login.php)",
    );
    expect(await fs.readdir(path.join(data, 'releases'))).toEqual([]);
  });

  it('says so when wordpress.org has no such version, before downloading anything', async () => {
    server = await fakeWordPressOrg('6.5.5', fakeWordPress('6.5.5'));
    const err = await releaseRejection(
      addRelease(
        settings(await dataDir()),
        { source: 'wordpress.org', version: '9.9.9' },
        { wordpressOrg: endpoints(server) },
      ),
    );
    expect(err.message).toContain('no checksums for WordPress 9.9.9');
    expect(server.requests.some((p) => p.endsWith('.zip'))).toBe(false);
  });

  it('fails fast and cleanly when wordpress.org is not reachable', async () => {
    const data = await dataDir();
    const started = Date.now();
    const err = await releaseRejection(
      addRelease(settings(data, ['wordpress.org']), {}, { wordpressOrg: await closedEndpoints() }),
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(err.code).toBe('no_release');
    expect(err.message).toMatch(
      /^No source could provide WordPress \(wordpress\.org: wordpress\.org is not reachable \(ECONNREFUSED\)\)\. Add one with `wpfleet releases add \[--source wordpress\.org\|debian\]` \(without --source it tries WPFLEET_RELEASE_SOURCES: /,
    );
    expect(await releaseStore(settings(data)).list()).toEqual([]);
  });

  it('answers available() promptly with the real endpoints (no network here: false)', async () => {
    const source = new WordPressOrgSource();
    const started = Date.now();
    const available = await source.available();
    expect(Date.now() - started).toBeLessThan(15_000);
    if (!available) expect(source.unavailableReason()).toMatch(/^wordpress\.org is not reachable/);
  });
});
