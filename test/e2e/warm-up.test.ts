import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ownCache } from '../helpers/engines.js';
import { MARIADB_URL, startHosted, type Hosted, type HostedInstall } from '../helpers/hosted.js';
import { siteRequest, waitFor } from '../helpers/site.js';

/** What `serve` prints when the warm-up is done; the group names what it readied. */
const DONE = /^Warm-up done in [\d.]+ s: WordPress 6\.1\.9 ready for new installs \((.+)\)\.$/m;

function warmedUp(printed: () => string): Promise<string> {
  return waitFor(
    'the warm-up to be done',
    () => Promise.resolve(DONE.exec(printed())?.[1]),
    240_000,
    200,
  );
}

function manifestOf(dataDir: string): { source: string; notes: string[] } {
  const file = path.join(dataDir, 'releases', '6.1.9', 'manifest.json');
  return JSON.parse(fs.readFileSync(file, 'utf8')) as { source: string; notes: string[] };
}

/**
 * `wpfleet serve` on a fresh data directory readies the next install's release, template and
 * PHP in the background, taking the release from the machine's cache when it is there.
 */
describe('the warm-up at start, on fresh data directories sharing one machine cache', () => {
  let scratch: string;
  let cache: string;
  let hosted: Hosted | undefined;

  beforeAll(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-warm-up-'));
    // Empty of releases: the first server finds none anywhere (its Debian downloads are shared).
    cache = ownCache(scratch);
  });
  afterEach(async () => {
    await hosted?.stop();
    hosted = undefined;
  });
  afterAll(() => {
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('readies the default release, its SQLite template and the machine cache with no install asked for', async () => {
    hosted = await startHosted({ WPFLEET_CACHE_DIR: cache });
    const serve = hosted.serve;
    const printed = (): string => serve.printed();
    expect(await warmedUp(printed)).toBe('release, SQLite template and PHP');

    const dataDir = hosted.store.config.dataDir;
    const manifest = manifestOf(dataDir);
    expect(manifest.source).toBe('debian');
    expect(manifest.notes.join('\n')).not.toMatch(/release cache/);
    const template = path.join(dataDir, 'templates', 'wordpress-6.1.9-sqlite');
    expect(JSON.parse(fs.readFileSync(path.join(template, 'template.json'), 'utf8'))).toEqual({
      wp_version: '6.1.9',
    });
    expect(fs.existsSync(path.join(template, 'wp-content', 'database', '.ht.sqlite'))).toBe(true);
    expect(fs.existsSync(path.join(cache, 'releases', '6.1.9', 'manifest.json'))).toBe(true);
    const installs = await hosted.api<{ count: number }>('GET', '/v1/installs');
    expect(installs.body.count).toBe(0);
  });

  it('on a second data directory takes the release from the cache with every source off, and an install created meanwhile becomes active', async () => {
    hosted = await startHosted({
      WPFLEET_CACHE_DIR: cache,
      WPFLEET_RELEASE_SOURCES: 'none',
      WPFLEET_LOG_LEVEL: 'warn',
    });
    const serve = hosted.serve;
    const printed = (): string => serve.printed();
    const made = await hosted.api<HostedInstall>('POST', '/v1/installs', {
      name: 'duringwarmup',
      account_id: hosted.accountId,
    });
    expect(made.status).toBe(201);
    // The point of the test: provisioning starts while the warm-up is still at work.
    expect(printed()).not.toMatch(DONE);

    const install = await hosted.waitActive(made.body.id);
    expect(install.wp_version).toBe('6.1.9');
    const home = await siteRequest(hosted.serve.url, 'duringwarmup.localhost', '/');
    expect(home.status).toBe(200);
    expect(await warmedUp(printed)).toBe('release, SQLite template and PHP');

    const dataDir = hosted.store.config.dataDir;
    expect(manifestOf(dataDir).notes.at(-1)).toMatch(
      /^taken from this machine's release cache \(.*\); every file matched the checksums kept there$/,
    );
    // One template, shared by the warm-up and the install; nothing failed on the way.
    const templates = fs.readdirSync(path.join(dataDir, 'templates'));
    expect(templates.filter((n) => n !== 'build')).toEqual(['wordpress-6.1.9-sqlite']);
    expect(printed()).not.toMatch(/"level":(40|50|60)/);
  });

  it('logs a failed warm-up and keeps serving', async () => {
    // No release anywhere: an empty cache of its own, every source off.
    const empty = fs.mkdtempSync(path.join(scratch, 'empty-cache-'));
    hosted = await startHosted({
      WPFLEET_CACHE_DIR: empty,
      WPFLEET_RELEASE_SOURCES: 'none',
      WPFLEET_LOG_LEVEL: 'warn',
    });
    const serve = hosted.serve;
    const printed = (): string => serve.printed();
    const line = await waitFor(
      'the warm-up to fail',
      () =>
        Promise.resolve(
          printed()
            .split('\n')
            .find((l) => l.includes('warm-up failed')),
        ),
      60_000,
      100,
    );
    const logged = JSON.parse(line) as { level: number; msg: string; err: { message: string } };
    expect(logged.level).toBe(40);
    expect(logged.msg).toBe('warm-up failed; the first install will try again');
    expect(logged.err.message).toMatch(/^No WordPress release is available/);
    expect(printed()).not.toMatch(DONE);
    expect((await hosted.api<{ count: number }>('GET', '/v1/installs')).status).toBe(200);
    expect(hosted.serve.child.exitCode).toBeNull();
  });

  it('with MariaDB as WordPress database, readies the release and PHP but no template', async () => {
    hosted = await startHosted({
      WPFLEET_CACHE_DIR: cache,
      WPFLEET_RELEASE_SOURCES: 'none',
      WPFLEET_WP_DATABASE_URL: MARIADB_URL,
    });
    const serve = hosted.serve;
    expect(await warmedUp(() => serve.printed())).toBe('release and PHP');
    const dataDir = hosted.store.config.dataDir;
    expect(manifestOf(dataDir).notes.at(-1)).toMatch(/^taken from this machine's release cache/);
    expect(fs.existsSync(path.join(dataDir, 'templates'))).toBe(false);
  });
});
