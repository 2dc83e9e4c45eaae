import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/composition.js';
import { ValidationError } from '../../src/core/errors.js';
import { newId, nowIso } from '../../src/core/shared/ids.js';
import { ENGINES, testStore, type TestStore } from '../helpers/engines.js';
import { inspectStore } from '../helpers/snapshot.js';

describe.each(ENGINES)('store on %s', (engine) => {
  let store: TestStore;
  let app: App;
  let accountId: string;
  beforeAll(async () => {
    store = await testStore(engine);
    app = await createApp(store.config);
    accountId = (await app.services.accounts.create({ name: 'Store test' })).account.id;
  });
  afterAll(async () => {
    await app.close();
    await store.dispose();
  });

  const site = (name: string) => ({
    id: newId(),
    account_id: accountId,
    name,
    created_at: nowIso(),
  });

  it('commits a change and its activity row together', async () => {
    const row = site('together');
    await app.store.transaction(async (r) => {
      await r.sites.insert(row);
      await r.activity.record(
        { accountId, label: 'test' },
        { action: 'site.create', targetType: 'site', targetId: row.id },
      );
    });
    expect(await app.store.read.sites.findById({ accountId, installIds: null }, row.id)).toEqual(
      row,
    );
    const activity = await app.store.read.activity.listForAccount(accountId, 10);
    expect(activity.map((a) => a.target_id)).toContain(row.id);
  });

  it('rolls back every write of a transaction that fails', async () => {
    const row = site('rolled back');
    await expect(
      app.store.transaction(async (r) => {
        await r.sites.insert(row);
        await r.activity.record(
          { accountId, label: 'test' },
          { action: 'site.create', targetType: 'site', targetId: row.id },
        );
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(
      await app.store.read.sites.findById({ accountId, installIds: null }, row.id),
    ).toBeUndefined();
    const activity = await app.store.read.activity.listForAccount(accountId, 50);
    expect(activity.map((a) => a.target_id)).not.toContain(row.id);
  });

  it('turns a unique-constraint race into a field error', async () => {
    const row = site('dup');
    await app.store.transaction((r) => r.sites.insert(row));
    const err = await app.store.transaction((r) => r.sites.insert(row)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues[0]).toMatchObject({
      resource: 'Site',
      code: 'taken',
      type: 'value_unavailable',
    });
  });

  it('migrates an already migrated store without change', async () => {
    const inspector = inspectStore(store);
    try {
      const before = await inspector.whole();
      // The snapshot must see the migrations and the rows the tests above wrote, or comparing
      // it proves nothing.
      expect(before.kysely_migration?.length).toBeGreaterThan(0);
      expect(before.sites?.length).toBeGreaterThan(0);
      const again = await createApp(store.config);
      await again.close();
      expect(await inspector.whole()).toEqual(before);
    } finally {
      await inspector.close();
    }
  });
});
