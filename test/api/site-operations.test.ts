import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/composition.js';
import { operatorActor, type Actor } from '../../src/core/actor.js';
import {
  ForbiddenError,
  NotFoundError,
  SiteOperationError,
  ValidationError,
} from '../../src/core/errors.js';
import type { Inventory } from '../../src/core/inventory/inventory.types.js';
import type {
  LocalPackage,
  PackageKind,
  PackageSources,
} from '../../src/core/packages/package-source.js';
import type {
  PluginChange,
  PluginEntry,
  UserWithPassword,
} from '../../src/core/site-agent/operations.types.js';
import type { SiteAgent, SiteAgents } from '../../src/core/site-agent/site-agent.js';
import { SiteOperationsService } from '../../src/core/site-agent/site-operations.service.js';
import { ENGINES, testStore, type TestStore } from '../helpers/engines.js';

/**
 * SiteOperationsService on a real store, with a site that is a stand-in for WordPress (the
 * end-to-end tests run the real agent): who may act on which install, what the activity log
 * keeps (versions before and after, refusals with WordPress's message, never a password), and
 * the inventory stored after a change with the updates the package sources offer.
 */

/** A WordPress with one plugin list, recording what it was asked. */
class StandInSite {
  plugins: PluginEntry[] = [];
  calls: string[] = [];
  refuseNext: SiteOperationError | null = null;

  agent(): SiteAgent {
    const unused = (): never => {
      throw new Error('not used by this test');
    };
    const change = (slug: string, before: PluginEntry | undefined): PluginChange => {
      const after = this.plugins.find((p) => p.slug === slug);
      return {
        file: `${slug}/${slug}.php`,
        slug,
        name: slug,
        versionBefore: before?.version ?? null,
        versionAfter: after?.version ?? null,
        activeBefore: before?.active ?? false,
        active: after?.active ?? false,
        networkActive: false,
        autoUpdateBefore: false,
        autoUpdate: false,
        warnings: [],
      };
    };
    const refusal = (): void => {
      const refused = this.refuseNext;
      this.refuseNext = null;
      if (refused !== null) throw refused;
    };
    return {
      inventory: () => Promise.resolve(this.inventory()),
      listPlugins: () => Promise.resolve(this.plugins),
      installPlugin: (pkg, options) => {
        this.calls.push(`install ${pkg.slug} ${pkg.version}`);
        refusal();
        const before = this.plugins.find((p) => p.slug === pkg.slug);
        this.plugins = [
          ...this.plugins.filter((p) => p.slug !== pkg.slug),
          {
            file: `${pkg.slug}/${pkg.slug}.php`,
            slug: pkg.slug,
            name: pkg.slug,
            version: pkg.version,
            active: options.activate,
            networkActive: false,
            autoUpdate: false,
          },
        ];
        return Promise.resolve(change(pkg.slug, before));
      },
      updatePlugin: unused,
      activatePlugin: unused,
      deactivatePlugin: unused,
      deletePlugin: unused,
      setPluginAutoUpdate: unused,
      listThemes: () => Promise.resolve([]),
      installTheme: unused,
      updateTheme: unused,
      activateTheme: unused,
      deleteTheme: unused,
      setThemeAutoUpdate: unused,
      updateTranslations: unused,
      upgradeDatabase: unused,
      listUsers: unused,
      createUser: (user): Promise<UserWithPassword> => {
        this.calls.push(`create user ${user.login}`);
        return Promise.resolve({
          user: {
            id: 7,
            login: user.login,
            email: user.email,
            displayName: user.login,
            roles: [user.role ?? 'subscriber'],
            registered: null,
          },
          password: user.password === undefined ? 'generated-secret-1' : null,
        });
      },
      setUserRole: unused,
      deleteUser: unused,
      resetPassword: unused,
      getOptions: unused,
      setOptions: unused,
      searchReplace: (options) => {
        this.calls.push(`search-replace ${options.search}`);
        return Promise.resolve({ total: 3, report: [], warnings: [] });
      },
      setMaintenance: unused,
      loginLink: unused,
      flushObjectCache: unused,
      runDueEvents: unused,
    };
  }

  private inventory(): Inventory {
    return {
      agentVersion: '1.0.0',
      core: {
        version: '6.1.9',
        dbVersion: 53496,
        dbVersionStored: 53496,
        dbUpgradeNeeded: false,
        locale: 'en_US',
        multisite: false,
        home: 'http://site.localhost',
        siteurl: 'http://site.localhost',
      },
      php: { version: '8.3.0', extensions: [], memoryLimit: '256M' },
      database: {
        engine: 'sqlite',
        serverVersion: null,
        serverInfo: null,
        sqliteIntegration: null,
      },
      plugins: this.plugins.map((p) => ({ ...p, update: null })),
      themes: [],
      translations: [],
      users: [],
      usersTotal: 0,
      updates: { core: [], checkedAt: { core: null, plugins: null, themes: null } },
    };
  }
}

/** Package sources that know `hello` up to 2.0.0 and a core 6.2. */
const sources: PackageSources = {
  latest: (kind: PackageKind, slug: string) =>
    Promise.resolve(
      slug === 'hello'
        ? { kind, slug, name: 'Hello', version: '2.0.0', versions: ['2.0.0', '1.0.0'] }
        : null,
    ),
  fetch: (kind: PackageKind, slug: string, version?: string): Promise<LocalPackage> =>
    Promise.resolve({ kind, slug, version: version ?? '2.0.0', file: '/unused.zip', sha256: '' }),
  fromUrl: () =>
    Promise.reject(ValidationError.field('Package', 'url', 'refused_url', 'refused by this test')),
  coreVersions: () => Promise.resolve({ latest: '6.2', versions: ['6.2', '6.1.9'] }),
};

describe.each(ENGINES)('site operations on %s', (engine) => {
  let store: TestStore;
  let app: App;
  let service: SiteOperationsService;
  let site: StandInSite;
  let owner: Actor;
  let other: Actor;
  let installId: string;
  let purged: string[];

  beforeAll(async () => {
    store = await testStore(engine);
    app = await createApp(store.config);
    const a = await app.services.accounts.create({ name: 'Agency A' });
    const b = await app.services.accounts.create({ name: 'Agency B' });
    owner = operatorActor(a.account.id);
    other = operatorActor(b.account.id);
    const view = await app.services.installs.create(owner, {
      name: 'siteops',
      account_id: a.account.id,
    });
    installId = view.install.id;
    const agents: SiteAgents = { forInstall: () => Promise.resolve(site.agent()) };
    service = new SiteOperationsService({
      store: app.store,
      installs: app.services.installs,
      agents,
      packages: sources,
      pagesChanged: (id) => {
        purged.push(id);
        return Promise.resolve();
      },
    });
  });

  beforeEach(() => {
    site = new StandInSite();
    purged = [];
  });

  afterAll(async () => {
    await app.close();
    await store.dispose();
  });

  const activity = async (): Promise<{ action: string; details: Record<string, unknown> }[]> =>
    (await app.store.read.activity.listForAccount(owner.accountId, 100))
      .filter((row) => row.target_id === installId && row.action !== 'install.create')
      .map((row) => ({
        action: row.action,
        details: JSON.parse(row.details) as Record<string, unknown>,
      }));

  it("answers another account's install as not found, and never reaches its site", async () => {
    await expect(service.plugins(other, installId)).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      service.installExtension(
        other,
        installId,
        'plugin',
        { slug: 'hello' },
        {
          activate: true,
          overwrite: false,
        },
      ),
    ).rejects.toBeInstanceOf(NotFoundError);
    const partial: Actor = { ...owner, installIds: new Set(['another-install']) };
    await expect(service.plugins(partial, installId)).rejects.toBeInstanceOf(NotFoundError);
    expect(site.calls).toEqual([]);
  });

  it('lets a read-only credential read but not change', async () => {
    const reader: Actor = { ...owner, scopes: new Set(['read']) };
    expect(await service.plugins(reader, installId)).toEqual([]);
    await expect(
      service.installExtension(
        reader,
        installId,
        'plugin',
        { slug: 'hello' },
        {
          activate: true,
          overwrite: false,
        },
      ),
    ).rejects.toBeInstanceOf(ForbiddenError);
    expect(site.calls).toEqual([]);
  });

  it('logs a change with the versions before and after, drops pages and stores the inventory with the sources’ updates', async () => {
    const before = (await activity()).length;
    const change = await service.installExtension(
      owner,
      installId,
      'plugin',
      { slug: 'hello', version: '1.0.0' },
      { activate: true, overwrite: false },
    );
    expect([change.versionBefore, change.versionAfter, change.active]).toEqual([
      null,
      '1.0.0',
      true,
    ]);
    const rows = (await activity()).slice(0, (await activity()).length - before);
    expect(rows.map((r) => r.action)).toEqual(['plugin.install']);
    expect(rows[0]?.details).toMatchObject({
      slug: 'hello',
      version: '1.0.0',
      version_before: null,
      version_after: '1.0.0',
      active: true,
    });
    expect(purged).toEqual([installId]);
    const stored = await service.storedInventory(owner, installId);
    expect(stored?.inventory?.plugins.map((p) => [p.slug, p.version, p.update?.version])).toEqual([
      ['hello', '1.0.0', '2.0.0'],
    ]);
    expect(stored?.inventory?.updates.core.map((c) => c.version)).toEqual(['6.2']);
  });

  it("logs a refusal with WordPress's message, and changes nothing else", async () => {
    site.refuseNext = new SiteOperationError(
      'conflict',
      'folder_exists',
      'Destination folder already exists.',
    );
    await expect(
      service.installExtension(
        owner,
        installId,
        'plugin',
        { slug: 'hello' },
        {
          activate: false,
          overwrite: false,
        },
      ),
    ).rejects.toThrow('Destination folder already exists.');
    const [last] = await activity();
    expect(last?.action).toBe('plugin.install.refused');
    expect(last?.details.error).toEqual({
      code: 'folder_exists',
      message: 'Destination folder already exists.',
    });
    expect(purged).toEqual([]);
  });

  it('logs a refusal of the package sources before the site is reached', async () => {
    await expect(
      service.installExtension(
        owner,
        installId,
        'plugin',
        { url: 'http://10.0.0.1/x.zip' },
        {
          activate: false,
          overwrite: false,
        },
      ),
    ).rejects.toThrow('refused by this test');
    const [last] = await activity();
    expect(last?.action).toBe('plugin.install.refused');
    expect(last?.details).toMatchObject({
      url: 'http://10.0.0.1/x.zip',
      error: { code: 'validation', message: 'Invalid Package: refused by this test' },
    });
    expect(site.calls).toEqual([]);
  });

  it('never logs a password, given or generated', async () => {
    const given = await service.createUser(owner, installId, {
      login: 'alice',
      email: 'alice@example.com',
      password: 'given-secret-2',
    });
    const generated = await service.createUser(owner, installId, {
      login: 'bob',
      email: 'bob@example.com',
    });
    expect([given.password, generated.password]).toEqual([null, 'generated-secret-1']);
    const logged = JSON.stringify(await activity());
    expect(logged).toContain('wp_user.create');
    expect(logged).not.toContain('given-secret-2');
    expect(logged).not.toContain('generated-secret-1');
  });

  it('treats a dry run as a read: nothing logged, no pages dropped', async () => {
    const before = (await activity()).length;
    const result = await service.searchReplace(owner, installId, {
      search: 'old',
      replace: 'new',
      dryRun: true,
    });
    expect(result.total).toBe(3);
    expect((await activity()).length).toBe(before);
    expect(purged).toEqual([]);
    await service.searchReplace(owner, installId, { search: 'old', replace: 'new' });
    const [last] = await activity();
    expect(last).toEqual({
      action: 'site.search_replace',
      details: { search: 'old', replace: 'new', total: 3 },
    });
  });
});
