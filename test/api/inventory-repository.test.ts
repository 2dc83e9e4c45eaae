import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Inventory } from '../../src/core/inventory/inventory.types.js';
import { ENGINES } from '../helpers/engines.js';
import { startHarness, type Harness } from '../helpers/harness.js';

const INVENTORY: Inventory = {
  agentVersion: '1.0.0',
  core: {
    version: '6.1.9',
    dbVersion: 53496,
    dbVersionStored: 53496,
    dbUpgradeNeeded: false,
    locale: 'en_US',
    multisite: false,
    home: 'http://inv.localhost:8080',
    siteurl: 'http://inv.localhost:8080',
  },
  php: { version: '8.3.0', extensions: ['core', 'pdo_sqlite'], memoryLimit: '256M' },
  database: {
    engine: 'sqlite',
    serverVersion: '3.46.0',
    serverInfo: 'SQLite 3.46.0',
    sqliteIntegration: { version: '2.1.11', dropinVersion: '1.8.0' },
  },
  plugins: [
    {
      file: 'akismet/akismet.php',
      slug: 'akismet',
      name: 'Akismet Anti-Spam',
      version: '5.0.1',
      active: false,
      networkActive: false,
      autoUpdate: true,
      update: {
        version: '5.3',
        requires: '5.8',
        requiresPhp: null,
        tested: '6.4',
        package: 'https://downloads.wordpress.org/plugin/akismet.5.3.zip',
      },
    },
  ],
  themes: [
    {
      stylesheet: 'twentytwentythree',
      name: 'Twenty Twenty-Three',
      version: '1.0',
      active: true,
      parent: null,
      autoUpdate: false,
      update: null,
    },
  ],
  translations: [],
  users: [
    {
      id: 1,
      login: 'admin',
      email: 'admin@example.com',
      displayName: 'Zoë ✓ admin',
      roles: ['administrator'],
      registered: '2024-05-01T10:00:00Z',
    },
  ],
  usersTotal: 1,
  updates: { core: [], checkedAt: { core: null, plugins: 1700000000, themes: null } },
};

describe.each(ENGINES)('inventory repository on %s', (engine) => {
  let h: Harness;
  let installId: string;

  beforeAll(async () => {
    h = await startHarness(engine);
    const t = await h.tenant();
    const created = await h.request<{ id: string }>('POST', '/v1/installs', {
      auth: t.auth,
      body: { name: 'invrepo', account_id: t.accountId },
    });
    expect(created.status).toBe(201);
    installId = created.body.id;
  });

  afterAll(async () => {
    await h.close();
  });

  it('has no row for an install never inventoried', async () => {
    expect(await h.app.store.read.inventory.find(installId)).toBeUndefined();
  });

  it('keeps the last good inventory through a failed refresh, and clears the failure after', async () => {
    // A failure before any success: a row with no inventory.
    await h.app.store.transaction((r) =>
      r.inventory.saveFailure(installId, 'unreachable: boom', '2024-05-01T09:00:00.000Z'),
    );
    expect(await h.app.store.read.inventory.find(installId)).toEqual({
      installId,
      inventory: null,
      refreshedAt: null,
      error: 'unreachable: boom',
      failedAt: '2024-05-01T09:00:00.000Z',
    });

    await h.app.store.transaction((r) =>
      r.inventory.saveInventory(installId, INVENTORY, '2024-05-01T10:00:00.000Z'),
    );
    expect(await h.app.store.read.inventory.find(installId)).toEqual({
      installId,
      inventory: INVENTORY,
      refreshedAt: '2024-05-01T10:00:00.000Z',
      error: null,
      failedAt: null,
    });

    await h.app.store.transaction((r) =>
      r.inventory.saveFailure(installId, 'late: clock', '2024-05-01T11:00:00.000Z'),
    );
    const failed = await h.app.store.read.inventory.find(installId);
    expect(failed).toEqual({
      installId,
      inventory: INVENTORY,
      refreshedAt: '2024-05-01T10:00:00.000Z',
      error: 'late: clock',
      failedAt: '2024-05-01T11:00:00.000Z',
    });

    const newer: Inventory = { ...INVENTORY, core: { ...INVENTORY.core, version: '6.2' } };
    await h.app.store.transaction((r) =>
      r.inventory.saveInventory(installId, newer, '2024-05-01T12:00:00.000Z'),
    );
    expect(await h.app.store.read.inventory.find(installId)).toMatchObject({
      inventory: { core: { version: '6.2' } },
      refreshedAt: '2024-05-01T12:00:00.000Z',
      error: null,
      failedAt: null,
    });
  });

  it('refuses a row for an install that does not exist, and deletes', async () => {
    await expect(
      h.app.store.transaction((r) =>
        r.inventory.saveInventory('no-such-install', INVENTORY, '2024-05-01T10:00:00.000Z'),
      ),
    ).rejects.toThrow();
    await h.app.store.transaction((r) => r.inventory.delete(installId));
    expect(await h.app.store.read.inventory.find(installId)).toBeUndefined();
  });
});
