import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/composition.js';
import { operatorActor, type Actor } from '../../src/core/actor.js';
import {
  ForbiddenError,
  NotFoundError,
  SiteOperationError,
  ValidationError,
} from '../../src/core/errors.js';
import type { Inventory, InventoryPlugin } from '../../src/core/inventory/inventory.types.js';
import { SafeUpdatesService } from '../../src/core/updates/safe-updates.service.js';
import { testStore, type TestStore } from '../helpers/engines.js';

function plugin(slug: string, version: string, update: string | null): InventoryPlugin {
  return {
    file: `${slug}/${slug}.php`,
    slug,
    name: slug,
    version,
    active: true,
    networkActive: false,
    autoUpdate: false,
    update:
      update === null
        ? null
        : { version: update, requires: null, requiresPhp: null, tested: null, package: null },
  };
}

/**
 * The safe update service's decisions without WordPress: who may ask, which items are taken at
 * which version, what is queued and logged. The job itself runs in test/e2e/safe-update.
 */
describe('safe updates: what is queued and what is refused', () => {
  let store: TestStore;
  let app: App;
  let owner: Actor;
  let inventory: Inventory;
  let refreshed: string[];

  const service = (): SafeUpdatesService =>
    new SafeUpdatesService({
      store: app.store,
      installs: app.services.installs,
      refreshInventory: (_actor, id) => {
        refreshed.push(id);
        return Promise.resolve(inventory);
      },
    });
  async function install(name: string, status = 'active'): Promise<string> {
    const created = await app.services.installs.create(owner, {
      name,
      account_id: owner.accountId,
    });
    await app.store.transaction((r) => r.installs.update(created.install.id, { status }));
    return created.install.id;
  }
  const code = async (call: Promise<unknown>): Promise<string | undefined> => {
    try {
      await call;
    } catch (err) {
      if (err instanceof ValidationError) return err.issues[0]?.code;
      if (err instanceof SiteOperationError) return err.code;
      throw err;
    }
    throw new Error('the call succeeded');
  };
  const jobs = async (id: string) =>
    (await app.store.read.jobs.listForTarget(id)).filter((j) => j.type === 'install.safe_update');

  beforeAll(async () => {
    store = await testStore('sqlite');
    app = await createApp(store.config);
    const { account } = await app.services.accounts.create({ name: 'Updates' });
    owner = operatorActor(account.id);
    refreshed = [];
    inventory = {
      plugins: [plugin('alpha', '1.0.0', '1.2.0'), plugin('beta', '2.0.0', null)],
      themes: [
        {
          stylesheet: 'plain',
          name: 'Plain',
          version: '1.0.0',
          active: true,
          parent: null,
          autoUpdate: false,
          update: {
            version: '1.1.0',
            requires: null,
            requiresPhp: null,
            tested: null,
            package: null,
          },
        },
      ],
    } as Inventory;
  });
  afterAll(async () => {
    await app.close();
    await store.dispose();
  });

  it('lists what has an update, read afresh from the site', async () => {
    const a = await install('upa');
    expect(await service().updatesAvailable(owner, a)).toEqual([
      {
        kind: 'plugin',
        slug: 'alpha',
        name: 'alpha',
        version: '1.0.0',
        update: '1.2.0',
        active: true,
      },
      {
        kind: 'theme',
        slug: 'plain',
        name: 'Plain',
        version: '1.0.0',
        update: '1.1.0',
        active: true,
      },
    ]);
    expect(refreshed).toContain(a);
  });

  it('queues every offered update, or the named ones at the version asked', async () => {
    const b = await install('upb');
    const all = await service().applyUpdates(owner, b, {});
    expect(all).toMatchObject({ visual: true, threshold: 0.01, alreadyQueued: false });
    const [job] = await jobs(b);
    expect(JSON.parse(job?.payload ?? '')).toEqual({
      items: [
        { kind: 'plugin', slug: 'alpha', version: '1.2.0' },
        { kind: 'theme', slug: 'plain', version: '1.1.0' },
      ],
      visual: true,
      threshold: 0.01,
    });
    // The same request again is the same job; another one waits for it.
    expect(await service().applyUpdates(owner, b, {})).toMatchObject({
      jobId: all.jobId,
      alreadyQueued: true,
    });
    expect(await code(service().applyUpdates(owner, b, { visual: false }))).toBe('update_pending');
    // A core update or a restore replaces what the snapshot would hold: the update waits.
    const busy = await install('upbusy');
    await app.store.transaction((r) =>
      r.jobs.enqueue({
        accountId: owner.accountId,
        installId: busy,
        type: 'install.core_update',
        targetId: busy,
        payload: { version: '6.5', reinstall: false },
      }),
    );
    expect(await code(service().applyUpdates(owner, busy, {}))).toBe('install_busy');

    const c = await install('upc');
    const named = await service().applyUpdates(owner, c, {
      items: [{ kind: 'plugin', slug: 'beta', version: '2.1.0' }],
      visual: false,
      threshold: 0.05,
    });
    expect(named.items).toEqual([
      { kind: 'plugin', slug: 'beta', versionBefore: '2.0.0', version: '2.1.0' },
    ]);
    const logged = (await app.store.read.activity.listForAccount(owner.accountId, 100)).find(
      (a) => a.target_id === c && a.action === 'update.queued',
    );
    expect(JSON.parse(logged?.details ?? '{}')).toMatchObject({
      job_id: named.jobId,
      items: [{ slug: 'beta', version_before: '2.0.0', version: '2.1.0' }],
      visual: false,
      threshold: 0.05,
    });
  });

  it('refuses what is not installed, up to date, or asked badly, queueing nothing', async () => {
    const d = await install('upd');
    const apply = (request: Parameters<SafeUpdatesService['applyUpdates']>[2]) =>
      code(service().applyUpdates(owner, d, request));
    expect(await apply({ items: [{ kind: 'plugin', slug: 'gamma' }] })).toBe(
      'plugin_not_installed',
    );
    expect(await apply({ items: [{ kind: 'plugin', slug: 'beta' }] })).toBe('up_to_date');
    expect(await apply({ items: [{ kind: 'plugin', slug: 'alpha', version: '1.0.0' }] })).toBe(
      'up_to_date',
    );
    expect(await apply({ items: [] })).toBe('empty');
    expect(await apply({ threshold: 1.5 })).toBe('invalid');
    expect(await apply({ threshold: Number.NaN })).toBe('invalid');
    const pending = await install('upp', 'pending');
    expect(await code(service().applyUpdates(owner, pending, {}))).toBe('not_active');
    expect(await jobs(d)).toEqual([]);
  });

  it('checks scope and visibility first', async () => {
    const f = await install('upf');
    const readOnly: Actor = { ...owner, scopes: new Set(['read']) };
    await expect(service().applyUpdates(readOnly, f, {})).rejects.toBeInstanceOf(ForbiddenError);
    const limited: Actor = { ...owner, installIds: new Set() };
    await expect(service().applyUpdates(limited, f, {})).rejects.toBeInstanceOf(NotFoundError);
    await expect(service().updatesAvailable(limited, f)).rejects.toBeInstanceOf(NotFoundError);
    const other = operatorActor('another-account');
    await expect(service().applyUpdates(other, f, {})).rejects.toBeInstanceOf(NotFoundError);
  });
});
