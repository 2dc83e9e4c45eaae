import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/composition.js';
import { operatorActor, type Actor } from '../../src/core/actor.js';
import { SiteOperationError } from '../../src/core/errors.js';
import { FinalJobError, type JobPayload } from '../../src/core/jobs/job-contract.js';
import type { JobRow } from '../../src/core/jobs/jobs.repository.js';
import { JobSteps } from '../../src/core/jobs/steps.js';
import type { SiteAgent } from '../../src/core/site-agent/site-agent.js';
import type { FetchedPage } from '../../src/core/updates/health.js';
import type { SnapshotRecord, UpdateTarget } from '../../src/core/updates/ports.js';
import { SafeUpdateJob } from '../../src/core/updates/safe-update.job.js';
import { SafeUpdatesService } from '../../src/core/updates/safe-updates.service.js';
import { testStore, type TestStore } from '../helpers/engines.js';

const PAYLOAD: JobPayload<'install.safe_update'> = {
  items: [{ kind: 'plugin', slug: 'alpha', version: '2.0.0' }],
  visual: true,
  threshold: 0.01,
};
const HEALTHY: FetchedPage = { status: 200, body: '<title>My Site</title><h1>My Site</h1>' };
const CRITICAL: FetchedPage = {
  status: 500,
  body: '<p>There has been a critical error on this website.</p>',
};

/**
 * The safe update job's flow against fakes of what runs WordPress (pages, snapshots, screenshots,
 * the update itself) and a real store: what is checked in which order, when it rolls back, and
 * what a run after a crash does. test/e2e/safe-update runs it on real WordPress.
 */
describe('the safe update job', () => {
  let store: TestStore;
  let app: App;
  let owner: Actor;
  let installId: string;
  /** What happened, in order. */
  let calls: string[];
  let updated: boolean;
  let pages: { before: FetchedPage; after: FetchedPage };
  let difference: number;
  let updateFails: boolean;

  const job = (): SafeUpdateJob =>
    new SafeUpdateJob({
      store: app.store,
      sites: {
        updateExtension: (_actor, _id, kind, slug, version) => {
          calls.push(`update ${kind} ${slug} ${version ?? ''}`);
          if (updateFails) {
            return Promise.reject(
              new SiteOperationError('failed', 'plugin_broken', 'Plugin failed to reactivate'),
            );
          }
          updated = true;
          return Promise.resolve({
            slug,
            name: slug,
            versionBefore: '1.0.0',
            versionAfter: version ?? null,
            activeBefore: true,
            active: true,
          } as never);
        },
        refreshAfterJob: () => Promise.resolve({} as never),
      },
      safeUpdates: new SafeUpdatesService({
        store: app.store,
        installs: app.services.installs,
        refreshInventory: () => Promise.reject(new Error('not in this test')),
      }),
      agents: {
        forInstall: () =>
          Promise.resolve({
            getOptions: () => Promise.resolve({ values: { blogname: 'My Site' }, missing: [] }),
          } as Partial<SiteAgent> as SiteAgent),
      },
      pages: {
        get: (_id, path) => {
          calls.push(`get ${path}`);
          return Promise.resolve(updated ? pages.after : pages.before);
        },
      },
      snapshots: {
        take: (_id: string, dir: string, targets: UpdateTarget[]): Promise<SnapshotRecord> => {
          calls.push(`snapshot ${targets.map((t) => t.slug).join(',')}`);
          return Promise.resolve({ dir, database: 'sqlite', touched: [], paths: [], bytes: 1 });
        },
        restore: () => {
          calls.push('restore');
          updated = false;
          return Promise.resolve();
        },
        discard: () => {
          calls.push('discard');
          return Promise.resolve();
        },
      },
      visual: {
        screenshot: (_id, file) => {
          calls.push(`screenshot ${file.replace(/^.*\//, '')}`);
          return Promise.resolve();
        },
        compare: () => Promise.resolve({ difference, width: 1280, height: 900 }),
      },
      pagesChanged: () => {
        calls.push('purge');
        return Promise.resolve();
      },
    });

  /** A job as the runner hands it over: queued, then claimed (steps are kept only then). */
  const queued = async (): Promise<JobRow> =>
    app.store.transaction(async (r) => {
      const row = await r.jobs.enqueue({
        accountId: owner.accountId,
        installId,
        type: 'install.safe_update',
        targetId: installId,
        payload: PAYLOAD,
      });
      await r.jobs.claim(row.id, new Date().toISOString());
      return row;
    });
  const reread = async (row: JobRow): Promise<JobRow> => {
    const found = await app.store.read.jobs.findById(owner.accountId, row.id);
    if (found === undefined) throw new Error('job gone');
    return found;
  };
  const failure = async (call: Promise<unknown>): Promise<string> => {
    try {
      await call;
    } catch (err) {
      expect(err).toBeInstanceOf(FinalJobError);
      return (err as Error).message;
    }
    throw new Error('the job succeeded');
  };
  const logged = async (action: string) =>
    (await app.store.read.activity.listForAccount(owner.accountId, 100))
      .filter((a) => a.action === action)
      .map((a) => JSON.parse(a.details) as Record<string, unknown>);

  beforeAll(async () => {
    store = await testStore('sqlite');
    app = await createApp(store.config);
    const { account } = await app.services.accounts.create({ name: 'Jobs' });
    owner = operatorActor(account.id);
    const created = await app.services.installs.create(owner, {
      name: 'safejob',
      account_id: owner.accountId,
    });
    installId = created.install.id;
  });
  afterAll(async () => {
    await app.close();
    await store.dispose();
  });
  beforeEach(() => {
    calls = [];
    updated = false;
    updateFails = false;
    difference = 0.001;
    pages = { before: HEALTHY, after: HEALTHY };
  });

  it('checks, snapshots, updates, checks again and compares; then keeps the update', async () => {
    const row = await queued();
    const result = await job().run(row, PAYLOAD, JobSteps.of(app.store, row));
    expect(calls).toEqual([
      'get /',
      'get /wp-login.php',
      'screenshot before.png',
      'snapshot alpha',
      'update plugin alpha 2.0.0',
      'purge',
      'get /',
      'get /wp-login.php',
      'screenshot after.png',
      'discard',
    ]);
    const folder = `updates/${installId}/${row.id}`;
    expect(result).toMatchObject({
      items: [{ kind: 'plugin', slug: 'alpha', version_before: '1.0.0', version_after: '2.0.0' }],
      visual: {
        difference: 0.001,
        threshold: 0.01,
        before: `${folder}/before.png`,
        after: `${folder}/after.png`,
        diff: `${folder}/diff.png`,
      },
    });
    expect(await logged('update.succeeded')).toContainEqual(
      expect.objectContaining({ job_id: row.id }),
    );
  });

  it('refuses a site that is broken before, changing nothing', async () => {
    pages.before = CRITICAL;
    const row = await queued();
    const message = await failure(job().run(row, PAYLOAD, JobSteps.of(app.store, row)));
    expect(message).toMatch(
      /^the site is not healthy before the update, so nothing was changed: \/ shows a critical error/,
    );
    expect(calls.filter((c) => !c.startsWith('get'))).toEqual([]);
    expect(await logged('update.refused')).toContainEqual(
      expect.objectContaining({ job_id: row.id }),
    );
  });

  it('rolls back a refused update, a broken page, a lost title and a changed look', async () => {
    const cases: [() => void, RegExp][] = [
      [() => (updateFails = true), /^rolled back: the update failed: Plugin failed to reactivate/],
      [() => (pages.after = CRITICAL), /^rolled back: \/ shows a critical error/],
      [
        () => (pages.after = { status: 200, body: '<h1>Hello</h1>' }),
        /^rolled back: \/ no longer shows the site's title "My Site"$/,
      ],
      [
        () => (difference = 0.2),
        /^rolled back: the home page looks different: 20\.00% of its pixels changed, more than the threshold of 1\.00%$/,
      ],
    ];
    for (const [arrange, reason] of cases) {
      calls = [];
      updated = false;
      updateFails = false;
      difference = 0.001;
      pages = { before: HEALTHY, after: HEALTHY };
      arrange();
      const row = await queued();
      expect(await failure(job().run(row, PAYLOAD, JobSteps.of(app.store, row)))).toMatch(reason);
      expect(calls).toContain('restore');
      expect(calls.at(-1)).toBe('discard');
      const steps = JSON.parse((await reread(row)).result ?? '{}') as {
        steps: Record<string, Record<string, unknown>>;
      };
      expect(steps.steps['update.rolled_back']).toMatchObject({ home_status: 200 });
    }
    expect(await logged('update.rolled_back')).toHaveLength(4);
  });

  it('rolls back, without updating again, after a crash between the snapshot and the checks', async () => {
    const row = await queued();
    const first = JobSteps.of(app.store, row);
    await first.record('update.before', { title: 'My Site', loginPath: '/wp-login.php' });
    await first.record('update.snapshot', {
      snapshot: { dir: 'x', database: 'sqlite', touched: [], paths: [], bytes: 1 },
    });
    const again = await reread(row);
    const message = await failure(job().run(again, PAYLOAD, JobSteps.of(app.store, again)));
    expect(message).toBe('rolled back: the update was interrupted before its checks passed');
    expect(calls).toEqual(['restore', 'purge', 'get /', 'discard']);
  });

  it('finishes, without updating or rolling back, after a crash once the checks passed', async () => {
    const row = await queued();
    const first = JobSteps.of(app.store, row);
    await first.record('update.snapshot', {
      snapshot: { dir: 'x', database: 'sqlite', touched: [], paths: [], bytes: 1 },
    });
    const checked = { items: [{ slug: 'alpha', version_after: '2.0.0' }], visual: null };
    await first.record('update.checked', checked);
    const again = await reread(row);
    expect(await job().run(again, PAYLOAD, JobSteps.of(app.store, again))).toEqual(checked);
    expect(calls).toEqual(['discard']);
    expect(await logged('update.succeeded')).toContainEqual(
      expect.objectContaining({ job_id: row.id, items: checked.items }),
    );
  });
});
