import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/composition.js';
import { operatorActor, type Actor } from '../../src/core/actor.js';
import { DEFAULT_INSTALL_SETTINGS, withChanges } from '../../src/core/installs/install-settings.js';
import { HostResolver } from '../../src/edge/hosts.js';
import { ENGINES, testStore, type TestStore } from '../helpers/engines.js';

/**
 * Install settings on a real store: the defaults without a row, changes kept whole, and the
 * edge's host lookup carrying them, read again at once after `forgetInstall`.
 */
describe.each(ENGINES)('install settings on %s', (engine) => {
  let store: TestStore;
  let app: App;
  let installId: string;

  beforeAll(async () => {
    store = await testStore(engine);
    app = await createApp(store.config);
    const created = await app.services.accounts.create({ name: 'Settings test' });
    const actor: Actor = operatorActor(created.account.id);
    const view = await app.services.installs.create(actor, {
      name: 'hardened',
      account_id: created.account.id,
    });
    installId = view.install.id;
  });

  afterAll(async () => {
    await app.close();
    await store.dispose();
  });

  it('has the defaults until changed, then keeps each change whole', async () => {
    const repo = app.store.read.installSettings;
    expect(await repo.get(installId)).toEqual(DEFAULT_INSTALL_SETTINGS);
    const first = withChanges(await repo.get(installId), { wpDebug: true, loginPath: 'door' });
    await app.store.transaction((r) => r.installSettings.put(installId, first));
    expect(await repo.get(installId)).toEqual({ ...first, fileProtection: true });
    const second = withChanges(first, { fileProtection: false, loginPath: null });
    await app.store.transaction((r) => r.installSettings.put(installId, second));
    expect(await repo.get(installId)).toEqual({
      wpDebug: true,
      disallowFileEdit: false,
      fileProtection: false,
      loginPath: null,
    });
    await app.store.transaction((r) => r.installSettings.delete(installId));
    expect(await repo.get(installId)).toEqual(DEFAULT_INSTALL_SETTINGS);
  });

  it("is read with the install's host by the edge, and read again once forgotten", async () => {
    const hosts = new HostResolver(app.store, () => null);
    const host = 'hardened.localhost';
    expect((await hosts.resolve(host))?.settings).toEqual({
      fileProtection: true,
      loginPath: null,
    });
    const change = withChanges(DEFAULT_INSTALL_SETTINGS, { loginPath: 'door' });
    await app.store.transaction((r) => r.installSettings.put(installId, change));
    // Remembered for two seconds…
    expect(hosts.cached(host)?.settings.loginPath).toBeNull();
    // …unless the install's hosts are forgotten after a change.
    hosts.forgetInstall(installId);
    expect(hosts.cached(host)).toBeUndefined();
    expect((await hosts.resolve(host))?.settings).toEqual({
      fileProtection: true,
      loginPath: 'door',
    });
    hosts.forgetInstall('another-install');
    expect(hosts.cached(host)?.settings.loginPath).toBe('door');
  });
});
