import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, createHosting, type App, type Hosting } from '../../src/composition.js';
import { operatorActor, type Actor } from '../../src/core/actor.js';
import { SiteOperationError, ValidationError } from '../../src/core/errors.js';
import type { JobRow } from '../../src/core/jobs/jobs.repository.js';
import { releaseProvider } from '../../src/runtime/release-provider.js';
import { siteLayout } from '../../src/runtime/sites/site-files.js';
import { runCli } from '../helpers/cli.js';
import { MARIADB_URL, startHosted, type Hosted, type HostedInstall } from '../helpers/hosted.js';
import { fakeRelease } from '../helpers/package-fixtures.js';
import { refusal } from '../helpers/refusal.js';
import { siteRequest, waitFor } from '../helpers/site.js';
import { treeState } from '../helpers/tree.js';

/**
 * Core update, reinstall and verification on real WordPress (Debian's 6.1.9) served by
 * `wpfleet serve`: the service queues `install.core_update`, serve's job runner switches the
 * install's release and upgrades its database. The newer versions are Debian's 6.1.9 with
 * another `$wp_version` (and `$wp_db_version`), added with `wpfleet releases add --from`.
 */
const DATABASES: [string, Record<string, string>][] = [
  ['SQLite', {}],
  ['MariaDB', { WPFLEET_WP_DATABASE_URL: MARIADB_URL }],
];

const NEW = '6.1.99';
const BROKEN = '6.1.100';

describe.each(DATABASES)('core update and reinstall on %s', (_db, env) => {
  let hosted: Hosted | undefined;
  let app: App;
  let hosting: Hosting;
  let install: HostedInstall;
  let actor: Actor;
  let scratch: string;
  let contentDir: string;
  let dataDir: string;
  const host = `e2ecore${_db === 'SQLite' ? 's' : 'm'}`;

  const h = (): Hosted => {
    if (hosted === undefined) throw new Error('wpfleet serve did not start');
    return hosted;
  };
  const page = (): Promise<{ status: number; body: string }> =>
    siteRequest(h().serve.url, `${host}.localhost`, `/?t=${Date.now()}`, {
      headers: { 'cache-control': 'no-cache' },
    });
  const generator = async (): Promise<string | undefined> =>
    /<meta name="generator" content="WordPress ([^"]+)"/.exec((await page()).body)?.[1];
  const jobs = async (): Promise<JobRow[]> =>
    (await app.store.read.jobs.listForTarget(install.id)).filter(
      (j) => j.type === 'install.core_update',
    );
  const finished = (jobId: string): Promise<JobRow> =>
    waitFor(
      `core update job ${jobId}`,
      async () => {
        const job = (await jobs()).find((j) => j.id === jobId);
        return job?.state === 'succeeded' || job?.state === 'failed' ? job : undefined;
      },
      120_000,
      250,
    );
  const row = async () => {
    const found = await app.store.read.installs.findAny(install.id);
    if (found === undefined) throw new Error('install vanished');
    return found;
  };
  const actions = async (): Promise<string[]> =>
    (await app.store.read.activity.listForAccount(h().accountId, 200))
      .filter((a) => a.action.startsWith('core.'))
      .map((a) => a.action);
  /** wp-content as the install owns it, less what WordPress itself writes (its SQLite file). */
  const ownFiles = (): Record<string, string> =>
    Object.fromEntries(
      Object.entries(treeState(contentDir)).filter(([rel]) => !rel.startsWith('database')),
    );

  beforeAll(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-core-'));
    hosted = await startHosted({ WPFLEET_WPORG: 'off', ...env });
    const created = await hosted.api<HostedInstall>('POST', '/v1/installs', {
      name: host,
      account_id: hosted.accountId,
    });
    expect(created.status).toBe(201);
    install = await hosted.waitActive(created.body.id);
    expect(install.wp_version).toBe('6.1.9');
    dataDir = hosted.store.config.dataDir;
    contentDir = siteLayout(dataDir, install.id).contentDir;
    // Debian's release as this data directory holds it (never the shared cache's copy).
    const base = path.join(dataDir, 'releases', '6.1.9', 'wordpress');
    const releases: [string, (root: string) => void][] = [
      [NEW, () => undefined],
      [
        BROKEN,
        (root) => {
          // Loads, then dies: the database upgrade through the agent fails.
          fs.appendFileSync(
            path.join(root, 'wp-includes', 'functions.php'),
            "\ntrigger_error( 'this release is broken on purpose', E_USER_ERROR );\n",
          );
        },
      ],
    ];
    for (const [version, change] of releases) {
      const fake = fakeRelease(base, scratch, version, change);
      const added = await runCli(
        ['releases', 'add', '--from', fake.dir, '--checksums', fake.checksums],
        hosted.store.env,
      );
      expect(added.code, added.stderr).toBe(0);
    }
    app = await createApp(hosted.store.config);
    hosting = createHosting(app, releaseProvider(hosted.store.config), pino({ level: 'silent' }));
    actor = operatorActor(hosted.accountId);
  }, 360_000);

  afterAll(async () => {
    await hosting.close();
    await app.close();
    await hosted?.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('refuses a version it cannot take, an older one and a malformed one, changing nothing', async () => {
    const cases: [string, string][] = [
      ['9.9.9', 'unknown_version'],
      ['6.0.1', 'downgrade'],
      ['6.1.9; rm -rf /', 'invalid'],
    ];
    for (const [version, code] of cases) {
      const err = await refusal(hosting.core.updateCore(actor, install.id, version));
      expect(err).toBeInstanceOf(ValidationError);
      expect(err).toMatchObject({ issues: [{ code }] });
    }
    const unknown = await refusal(
      hosting.core.updateCore(actor, '00000000-0000-4000-8000-000000000000'),
    );
    expect(unknown.message).toBe('Install not found');
    expect(await jobs()).toEqual([]);
    expect(await actions()).toEqual([]);
    expect((await row()).release_version).toBe('6.1.9');
  });

  it('verifies the install core against its release', async () => {
    expect(await hosting.core.verifyCore(actor, install.id)).toMatchObject({
      ok: true,
      missing: [],
      changed: [],
      extra: [],
    });
  });

  it("reinstall puts back Debian's release from the machine's cache, wp-content untouched", async () => {
    // This data directory's copy of the release: the shared cache is only read.
    const root = path.join(dataDir, 'releases', '6.1.9', 'wordpress');
    fs.appendFileSync(path.join(root, 'wp-includes', 'plugin.php'), '\n// damaged\n');
    expect(await hosting.core.verifyCore(actor, install.id)).toMatchObject({
      ok: false,
      changed: ['wp-includes/plugin.php'],
    });
    const before = ownFiles();
    const queued = await hosting.core.reinstallCore(actor, install.id);
    const done = await finished(queued.jobId);
    expect(done.error).toBeNull();
    expect(JSON.parse(done.result ?? '{}')).toMatchObject({
      version_before: '6.1.9',
      version_after: '6.1.9',
      reinstall: true,
      repaired: true,
      changed: ['wp-includes/plugin.php'],
    });
    expect((await hosting.core.verifyCore(actor, install.id)).ok).toBe(true);
    expect(await generator()).toBe('6.1.9');
    expect(ownFiles()).toEqual(before);
  });

  it('puts the install back when an update fails; updates: the generator says so, the database is upgraded, wp-content is untouched', async () => {
    const before = ownFiles();
    expect(await generator()).toBe('6.1.9');
    const queued = await hosting.core.updateCore(actor, install.id);
    expect(queued).toMatchObject({ versionBefore: '6.1.9', version: BROKEN, reinstall: false });
    // The newest stored is the broken one: that update fails and puts the install back.
    const failed = await finished(queued.jobId);
    expect(failed.state).toBe('failed');
    expect(failed.error).toContain(`updating to WordPress ${BROKEN} failed`);
    expect(failed.error).toContain('put back on WordPress 6.1.9');
    // WordPress's own words for a fatal error, from the agent's answer.
    expect(failed.error).toContain('There has been a critical error on this website.');
    expect(await row()).toMatchObject({ release_version: '6.1.9', wp_version: '6.1.9' });
    expect(await generator()).toBe('6.1.9');
    expect((await page()).status).toBe(200);
    expect(fs.existsSync(path.join(contentDir, '.wpfleet-maintenance'))).toBe(false);

    const update = await hosting.core.updateCore(actor, install.id, NEW);
    const again = await hosting.core.updateCore(actor, install.id, NEW);
    expect(again).toMatchObject({ jobId: update.jobId, alreadyQueued: true });
    const other = await refusal(hosting.core.reinstallCore(actor, install.id));
    expect(other).toBeInstanceOf(SiteOperationError);
    expect(other).toMatchObject({ code: 'core_update_pending' });
    const done = await finished(update.jobId);
    expect(done.error).toBeNull();
    const result = JSON.parse(done.result ?? '{}') as Record<string, unknown>;
    expect(result).toMatchObject({ version_before: '6.1.9', version_after: NEW, home_status: 200 });
    expect(result.db_version_after).toBe(Number(result.db_version_before) + 1);

    expect(await generator()).toBe(NEW);
    expect(await row()).toMatchObject({ release_version: NEW, wp_version: NEW });
    const api = await h().api<HostedInstall>('GET', `/v1/installs/${install.id}`);
    expect(api.body.wp_version).toBe(NEW);
    const inventory = await hosting.sites.storedInventory(actor, install.id);
    expect(inventory?.inventory?.core).toMatchObject({ version: NEW, dbUpgradeNeeded: false });
    expect(inventory?.inventory?.core.dbVersionStored).toBe(result.db_version_after);
    expect(ownFiles()).toEqual(before);
    expect(await actions()).toEqual(expect.arrayContaining(['core.update', 'core.update.failed']));
    const logged = (await app.store.read.activity.listForAccount(h().accountId, 200)).find(
      (a) => a.action === 'core.update' && a.details.includes(NEW),
    );
    expect(JSON.parse(logged?.details ?? '{}')).toMatchObject({
      version_before: '6.1.9',
      version_after: NEW,
      job_id: update.jobId,
    });
    // An update to what it runs now, or older, is refused before anything is queued.
    const older = await refusal(hosting.core.updateCore(actor, install.id, '6.1.9'));
    expect(older).toMatchObject({ issues: [{ code: 'downgrade' }] });
  });

  it('reinstall fetches a damaged release again and verification sees the damage first', async () => {
    const root = path.join(dataDir, 'releases', NEW, 'wordpress');
    fs.appendFileSync(path.join(root, 'wp-includes', 'formatting.php'), '\n// damaged\n');
    fs.rmSync(path.join(root, 'wp-admin', 'about.php'));
    fs.writeFileSync(path.join(root, 'wp-includes', 'stray.php'), '<?php\n');
    const damaged = await hosting.core.verifyCore(actor, install.id);
    expect(damaged).toMatchObject({
      ok: false,
      changed: ['wp-includes/formatting.php'],
      missing: ['wp-admin/about.php'],
      extra: ['wp-includes/stray.php'],
    });
    const before = ownFiles();
    const queued = await hosting.core.reinstallCore(actor, install.id);
    expect(queued).toMatchObject({ version: NEW, versionBefore: NEW, reinstall: true });
    const done = await finished(queued.jobId);
    expect(done.error).toBeNull();
    expect(JSON.parse(done.result ?? '{}')).toMatchObject({
      repaired: true,
      changed: ['wp-includes/formatting.php'],
      missing: ['wp-admin/about.php'],
      extra: ['wp-includes/stray.php'],
    });
    expect(await hosting.core.verifyCore(actor, install.id)).toMatchObject({
      ok: true,
      extra: [],
    });
    expect(await generator()).toBe(NEW);
    expect(ownFiles()).toEqual(before);
    expect(await actions()).toContain('core.reinstall');
  });
});
