import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/composition.js';
import { operatorActor, type Actor } from '../../src/core/actor.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../../src/core/errors.js';
import { PackageSourceUnavailableError } from '../../src/core/packages/package-errors.js';
import type { CoreVersions, PackageSources } from '../../src/core/packages/package-source.js';
import {
  CoreUpdatesService,
  type CoreReleases,
  type VersionAvailability,
} from '../../src/core/site-agent/core-updates.service.js';
import { testStore, type TestStore } from '../helpers/engines.js';

/**
 * The core update service's decisions without WordPress: who may ask, which installs and
 * versions are taken, what is queued and logged. The job itself runs in test/e2e/core-update.
 */
describe('core updates: what is queued and what is refused', () => {
  let store: TestStore;
  let app: App;
  let owner: Actor;
  let stored: string[];
  let offered: CoreVersions | null;
  const availability = new Map<string, VersionAvailability>();

  const releases: CoreReleases = {
    stored: () => Promise.resolve([...stored]),
    availability: (v) => Promise.resolve(availability.get(v) ?? 'not_offered'),
    verifyInstallCore: () => Promise.reject(new Error('not in this test')),
  };
  const packages = {
    coreVersions: () =>
      offered === null
        ? Promise.reject(new PackageSourceUnavailableError('wordpress.org is off'))
        : Promise.resolve(offered),
  } as Pick<PackageSources, 'coreVersions'> as PackageSources;
  const service = (): CoreUpdatesService =>
    new CoreUpdatesService({
      store: app.store,
      installs: app.services.installs,
      packages,
      releases,
    });

  async function install(name: string, status = 'active', version = '6.1.9'): Promise<string> {
    const created = await app.services.installs.create(owner, {
      name,
      account_id: owner.accountId,
    });
    const id = created.install.id;
    await app.store.transaction((r) =>
      r.installs.update(id, { status, release_version: version, wp_version: version }),
    );
    return id;
  }
  const code = async (call: Promise<unknown>): Promise<string | undefined> => {
    try {
      await call;
    } catch (err) {
      if (err instanceof ValidationError) return err.issues[0]?.code;
      throw err;
    }
    throw new Error('the call succeeded');
  };
  const coreJobs = async (id: string) =>
    (await app.store.read.jobs.listForTarget(id)).filter((j) => j.type === 'install.core_update');

  beforeAll(async () => {
    store = await testStore('sqlite');
    app = await createApp(store.config);
    const { account } = await app.services.accounts.create({ name: 'Core' });
    owner = operatorActor(account.id);
  });
  afterAll(async () => {
    await app.close();
    await store.dispose();
  });

  it('takes the newest version the sources offer, else the newest stored', async () => {
    stored = ['6.1.9', '6.2.1'];
    offered = { latest: '6.6.1', versions: ['6.6.1', '6.5.5'] };
    const a = await install('corea');
    const queued = await service().updateCore(owner, a);
    expect(queued).toMatchObject({ versionBefore: '6.1.9', version: '6.6.1', reinstall: false });
    const [job] = await coreJobs(a);
    expect(JSON.parse(job?.payload ?? '')).toEqual({ version: '6.6.1', reinstall: false });

    offered = null;
    const b = await install('coreb');
    expect(await service().updateCore(owner, b)).toMatchObject({ version: '6.2.1' });
    stored = ['6.1.9'];
    const c = await install('corec');
    expect(await code(service().updateCore(owner, c))).toBe('up_to_date');
    expect(await coreJobs(c)).toEqual([]);
  });

  it('refuses older, unknown and malformed versions, and installs that are not active', async () => {
    const d = await install('cored', 'active', '6.2.1');
    availability.set('6.3', 'obtainable').set('6.4', 'unknown');
    expect(await code(service().updateCore(owner, d, '6.1.9'))).toBe('downgrade');
    expect(await code(service().updateCore(owner, d, '7.0.0'))).toBe('unknown_version');
    expect(await code(service().updateCore(owner, d, 'latest'))).toBe('invalid');
    const pending = await install('corep', 'pending');
    expect(await code(service().updateCore(owner, pending, '6.3'))).toBe('not_active');
    expect(await code(service().reinstallCore(owner, pending))).toBe('not_active');
    expect(await coreJobs(d)).toEqual([]);
    // A source that cannot be asked now does not refuse: the job finds out.
    expect(await service().updateCore(owner, d, '6.4')).toMatchObject({ version: '6.4' });
  });

  it('answers the pending job for the same request, refuses another, and logs each', async () => {
    const e = await install('coree');
    availability.set('6.3', 'obtainable');
    const first = await service().reinstallCore(owner, e);
    expect(first).toMatchObject({ version: '6.1.9', reinstall: true, alreadyQueued: false });
    expect(await service().reinstallCore(owner, e)).toMatchObject({
      jobId: first.jobId,
      alreadyQueued: true,
    });
    await expect(service().updateCore(owner, e, '6.3')).rejects.toMatchObject({
      code: 'core_update_pending',
    });
    expect(await coreJobs(e)).toHaveLength(1);
    // The release a pending update goes to is in use: `wpfleet releases remove` keeps it.
    expect(await app.store.read.installs.releaseInUse('6.6.1')).toBe(true);
    expect(await app.store.read.installs.releaseInUse('6.6')).toBe(false);
    const logged = (await app.store.read.activity.listForAccount(owner.accountId, 100)).filter(
      (a) => a.target_id === e && a.action.startsWith('core.'),
    );
    expect(logged.map((a) => a.action)).toEqual(['core.reinstall']);

    const [job] = await coreJobs(e);
    if (job === undefined) throw new Error('no job');
    await app.store.transaction((r) => service().failedWithin(r, job, 'it broke'));
    const failed = (await app.store.read.activity.listForAccount(owner.accountId, 100)).find(
      (a) => a.action === 'core.reinstall.failed',
    );
    expect(JSON.parse(failed?.details ?? '{}')).toMatchObject({
      job_id: job.id,
      version: '6.1.9',
      error: 'it broke',
    });
  });

  it('checks scope and visibility first', async () => {
    const f = await install('coref');
    const readOnly: Actor = { ...owner, scopes: new Set(['read']) };
    await expect(service().updateCore(readOnly, f, '6.3')).rejects.toBeInstanceOf(ForbiddenError);
    const limited: Actor = { ...owner, installIds: new Set() };
    await expect(service().reinstallCore(limited, f)).rejects.toBeInstanceOf(NotFoundError);
    await expect(service().verifyCore(limited, f)).rejects.toBeInstanceOf(NotFoundError);
  });
});
