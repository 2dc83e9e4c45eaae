import { requireScope, type Actor, type Scope } from '../actor.js';
import { DomainError, SiteOperationError } from '../errors.js';
import type { InventoryRecord } from '../inventory/inventory.repository.js';
import type { AvailableUpdate, Inventory } from '../inventory/inventory.types.js';
import { phpVersionCompare } from '../packages/version-compare.js';
import type { InstallRecord } from '../installs/installs.repository.js';
import type { InstallsService } from '../installs/installs.service.js';
import { nowIso } from '../shared/ids.js';
import type { PackageSources } from '../packages/package-source.js';
import type { Store } from '../store.js';
import type {
  CreateUserInput,
  PluginChange,
  PluginEntry,
  RoleChange,
  SearchReplaceOptions,
  SearchReplaceResult,
  ThemeChange,
  ThemeEntry,
  TranslationsResult,
  UserDeletion,
  UserList,
  UserRef,
  UserWithPassword,
} from './operations.types.js';
import type { ExtensionKind, LoginLink, PackageFile, SiteAgent, SiteAgents } from './site-agent.js';

/** Where a plugin or theme comes from, as a client names it: never a path on the server. */
export type PackageRequest = { slug: string; version?: string } | { url: string };

export interface SiteOperationsDeps {
  store: Store;
  installs: InstallsService;
  agents: SiteAgents;
  packages: PackageSources;
  /** Told after every change inside a site: its cached pages are dropped on every server. */
  pagesChanged: (installId: string) => Promise<void>;
}

type ExtensionChange = PluginChange | ThemeChange;

/**
 * Operations inside one WordPress, for every dialect and the CLI: checks that the actor may act
 * on the install, calls the site's agent, and records each change in the activity log with who
 * did what and the version before and after; a refusal is logged too, with WordPress's message.
 * After a change the install's stored inventory is refreshed and its cached pages dropped.
 */
export class SiteOperationsService {
  constructor(private readonly deps: SiteOperationsDeps) {}

  /** Reads the inventory from the site now, stores it and answers it. */
  async refreshInventory(actor: Actor, installId: string): Promise<Inventory> {
    const { install, agent } = await this.site(actor, installId, 'read');
    return this.refresh(install.id, agent);
  }

  /**
   * Reads the inventory again after a job changed the site (a core update): the job was
   * authorised when it was queued, so no actor is asked for. A failure is stored and thrown.
   */
  async refreshAfterJob(installId: string): Promise<Inventory> {
    return this.refresh(installId, await this.deps.agents.forInstall(installId));
  }

  /** The inventory stored at the last refresh (with the error of a later failed one), if any. */
  async storedInventory(actor: Actor, installId: string): Promise<InventoryRecord | null> {
    requireScope(actor, 'read');
    const install = await this.deps.installs.find(this.deps.store.read, actor, installId);
    return (await this.deps.store.read.inventory.find(install.id)) ?? null;
  }

  plugins(actor: Actor, installId: string): Promise<PluginEntry[]> {
    return this.read(actor, installId, (agent) => agent.listPlugins());
  }

  themes(actor: Actor, installId: string): Promise<ThemeEntry[]> {
    return this.read(actor, installId, (agent) => agent.listThemes());
  }

  users(actor: Actor, installId: string): Promise<UserList> {
    return this.read(actor, installId, (agent) => agent.listUsers());
  }

  installExtension(
    actor: Actor,
    installId: string,
    kind: ExtensionKind,
    request: PackageRequest,
    options: { activate: boolean; overwrite: boolean },
  ): Promise<ExtensionChange> {
    const work = async (agent: SiteAgent): Promise<ExtensionChange> => {
      const pkg = await this.fetch(kind, request);
      return kind === 'plugin'
        ? agent.installPlugin(pkg, options)
        : agent.installTheme(pkg, options);
    };
    const details = { ...describe(request), ...options };
    return this.change(actor, installId, `${kind}.install`, details, work, extension);
  }

  /** WordPress's update to `version`, or to the newest version the package sources know. */
  updateExtension(
    actor: Actor,
    installId: string,
    kind: ExtensionKind,
    slug: string,
    version?: string,
  ): Promise<ExtensionChange> {
    const request = version === undefined ? { slug } : { slug, version };
    const installed = async (agent: SiteAgent): Promise<boolean> =>
      kind === 'plugin'
        ? (await agent.listPlugins()).some((p) => p.slug === slug)
        : (await agent.listThemes()).some((t) => t.stylesheet === slug);
    // WordPress's upgrader checks that the extension is installed itself, so it is not asked
    // first: each call into the site loads WordPress (~0.3 s of PHP), which a fleet update pays
    // per install. "Not installed" is still what a caller hears first, in WordPress's words or
    // when the package sources refuse the slug.
    const work = async (agent: SiteAgent): Promise<ExtensionChange> => {
      let pkg: PackageFile;
      try {
        pkg = await this.fetch(kind, request);
      } catch (err) {
        if (!(await installed(agent))) throw notInstalled(kind, slug);
        throw err;
      }
      try {
        return await (kind === 'plugin' ? agent.updatePlugin(pkg) : agent.updateTheme(pkg));
      } catch (err) {
        if (err instanceof SiteOperationError && err.reason === 'not_found') {
          throw notInstalled(kind, slug);
        }
        throw err;
      }
    };
    return this.change(actor, installId, `${kind}.update`, request, work, extension);
  }

  /** Activates a plugin or theme, or deactivates a plugin (a theme is replaced, not deactivated). */
  setExtensionActive(
    actor: Actor,
    installId: string,
    kind: ExtensionKind,
    slug: string,
    active: boolean,
  ): Promise<ExtensionChange> {
    if (kind === 'theme' && !active) {
      throw new SiteOperationError(
        'invalid',
        'theme_deactivate',
        'A theme cannot be deactivated: activate another theme instead.',
      );
    }
    const work = (agent: SiteAgent): Promise<ExtensionChange> => {
      if (kind === 'theme') return agent.activateTheme(slug);
      return active ? agent.activatePlugin(slug) : agent.deactivatePlugin(slug);
    };
    const action = `${kind}.${active ? 'activate' : 'deactivate'}`;
    return this.change(actor, installId, action, { slug }, work, extension);
  }

  setAutoUpdate(
    actor: Actor,
    installId: string,
    kind: ExtensionKind,
    slug: string,
    enabled: boolean,
  ): Promise<ExtensionChange> {
    const work = (agent: SiteAgent): Promise<ExtensionChange> =>
      kind === 'plugin'
        ? agent.setPluginAutoUpdate(slug, enabled)
        : agent.setThemeAutoUpdate(slug, enabled);
    const action = `${kind}.auto_update`;
    return this.change(actor, installId, action, { slug, enabled }, work, extension);
  }

  /** An active plugin is refused unless `deactivate`; the active theme always is. */
  deleteExtension(
    actor: Actor,
    installId: string,
    kind: ExtensionKind,
    slug: string,
    options: { deactivate: boolean } = { deactivate: false },
  ): Promise<ExtensionChange> {
    const work = (agent: SiteAgent): Promise<ExtensionChange> =>
      kind === 'plugin' ? agent.deletePlugin(slug, options) : agent.deleteTheme(slug);
    const action = `${kind}.delete`;
    return this.change(actor, installId, action, { slug }, work, extension, 'delete');
  }

  updateTranslations(actor: Actor, installId: string): Promise<TranslationsResult> {
    const work = (agent: SiteAgent) => agent.updateTranslations();
    return this.change(actor, installId, 'translations.update', {}, work, (r) => ({
      updated: r.updated.length,
      failed: r.failed.length,
    }));
  }

  /** A generated password is answered once and never logged. */
  createUser(actor: Actor, installId: string, user: CreateUserInput): Promise<UserWithPassword> {
    const request = { login: user.login, email: user.email, role: user.role ?? null };
    const work = (agent: SiteAgent) => agent.createUser(user);
    return this.change(actor, installId, 'wp_user.create', request, work, (r) => ({
      user_id: r.user.id,
      roles: r.user.roles,
    }));
  }

  setUserRole(actor: Actor, installId: string, user: UserRef, role: string): Promise<RoleChange> {
    const work = (agent: SiteAgent) => agent.setUserRole(user, role);
    return this.change(actor, installId, 'wp_user.role', { user, role }, work, (r) => ({
      user_id: r.user.id,
      roles_before: r.previousRoles,
      roles_after: r.user.roles,
    }));
  }

  deleteUser(
    actor: Actor,
    installId: string,
    user: UserRef,
    reassignTo?: UserRef,
  ): Promise<UserDeletion> {
    const request = { user, reassign: reassignTo ?? null };
    const work = (agent: SiteAgent) => agent.deleteUser(user, reassignTo);
    const details = (r: UserDeletion) => ({
      user_id: r.deleted.id,
      login: r.deleted.login,
      reassigned_to: r.reassignedTo,
    });
    return this.change(actor, installId, 'wp_user.delete', request, work, details, 'delete');
  }

  /** The new password is answered once and never logged. */
  resetPassword(
    actor: Actor,
    installId: string,
    user: UserRef,
    password?: string,
  ): Promise<UserWithPassword> {
    const work = (agent: SiteAgent) => agent.resetPassword(user, password);
    return this.change(actor, installId, 'wp_user.reset_password', { user }, work, (r) => ({
      user_id: r.user.id,
      generated: r.password !== null,
    }));
  }

  /** A dry run changes nothing and is a read. */
  searchReplace(
    actor: Actor,
    installId: string,
    options: SearchReplaceOptions,
  ): Promise<SearchReplaceResult> {
    const work = (agent: SiteAgent) => agent.searchReplace(options);
    if (options.dryRun === true) return this.read(actor, installId, work);
    const request = { search: options.search, replace: options.replace };
    const details = (r: SearchReplaceResult) => ({ total: r.total });
    return this.change(actor, installId, 'site.search_replace', request, work, details);
  }

  setMaintenance(actor: Actor, installId: string, enabled: boolean): Promise<boolean> {
    const work = (agent: SiteAgent) => agent.setMaintenance(enabled);
    return this.change(actor, installId, 'site.maintenance', { enabled }, work, (on) => ({
      enabled: on,
    }));
  }

  /** A single-use wp-admin login link (5 minutes), for `userId` or the first administrator. */
  loginLink(actor: Actor, installId: string, userId?: number): Promise<LoginLink> {
    const work = (agent: SiteAgent) =>
      agent.loginLink(userId === undefined ? { ttlSeconds: 300 } : { userId, ttlSeconds: 300 });
    const details = (link: LoginLink) => ({ user_id: link.userId, expires_at: link.expiresAt });
    return this.change(actor, installId, 'site.login_link', {}, work, details, 'write', false);
  }

  flushObjectCache(actor: Actor, installId: string): Promise<boolean> {
    const work = (agent: SiteAgent) => agent.flushObjectCache();
    return this.change(actor, installId, 'site.object_cache_flush', {}, work, (flushed) => ({
      flushed,
    }));
  }

  /** The zip of a package request: a slug (and version) from the sources, or an https URL. */
  private fetch(kind: ExtensionKind, request: PackageRequest): Promise<PackageFile> {
    return 'url' in request
      ? this.deps.packages.fromUrl(kind, request.url)
      : this.deps.packages.fetch(kind, request.slug, request.version);
  }

  private async site(
    actor: Actor,
    installId: string,
    scope: Scope,
  ): Promise<{ install: InstallRecord; agent: SiteAgent }> {
    requireScope(actor, scope);
    const install = await this.deps.installs.find(this.deps.store.read, actor, installId);
    return { install, agent: await this.deps.agents.forInstall(install.id) };
  }

  private async read<T>(
    actor: Actor,
    installId: string,
    work: (agent: SiteAgent) => Promise<T>,
  ): Promise<T> {
    const { agent } = await this.site(actor, installId, 'read');
    return work(agent);
  }

  /** Runs a change and logs it, or its refusal; then refreshes the inventory and drops pages. */
  private async change<T>(
    actor: Actor,
    installId: string,
    action: string,
    request: Record<string, unknown>,
    work: (agent: SiteAgent) => Promise<T>,
    /** What the log keeps of the answer: versions before and after, never a secret. */
    details: (result: T) => Record<string, unknown>,
    scope: Scope = 'write',
    /** False for what changes nothing WordPress shows (a login link). */
    changesSite = true,
  ): Promise<T> {
    const { install, agent } = await this.site(actor, installId, scope);
    let result: T;
    try {
      result = await work(agent);
    } catch (err) {
      // Refused by WordPress, or before it (an unknown package, a refused URL, a broken zip).
      if (err instanceof DomainError) {
        const code = err instanceof SiteOperationError ? err.code : err.kind;
        await this.log(actor, install.id, `${action}.refused`, {
          ...request,
          error: { code, message: err.message },
        });
      }
      throw err;
    }
    await this.log(actor, install.id, action, { ...request, ...details(result) });
    if (changesSite) {
      await this.deps.pagesChanged(install.id);
      // The change is done and logged; a refresh that fails is recorded with the inventory.
      await this.refresh(install.id, agent).catch(() => undefined);
    }
    return result;
  }

  private async refresh(installId: string, agent: SiteAgent): Promise<Inventory> {
    try {
      const inventory = await this.withSourceUpdates(await agent.inventory());
      await this.deps.store.transaction((r) =>
        r.inventory.saveInventory(installId, inventory, nowIso()),
      );
      return inventory;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await this.deps.store.transaction((r) =>
        r.inventory.saveFailure(installId, message, nowIso()),
      );
      throw err;
    }
  }

  /**
   * Adds the updates the package sources offer (the mirror, wordpress.org when reachable) to
   * what WordPress's own update checks found, which offline installs never run. A source that
   * cannot be reached leaves WordPress's answer as it was.
   */
  private async withSourceUpdates(inventory: Inventory): Promise<Inventory> {
    const newer = async (
      kind: ExtensionKind,
      slug: string,
      installed: string,
    ): Promise<AvailableUpdate | null> => {
      const latest = await this.deps.packages.latest(kind, slug).catch(() => null);
      if (latest === null || phpVersionCompare(latest.version, installed) <= 0) return null;
      return {
        version: latest.version,
        requires: null,
        requiresPhp: null,
        tested: null,
        package: null,
      };
    };
    const plugins = await Promise.all(
      inventory.plugins.map(async (p) => ({
        ...p,
        update: (await newer('plugin', p.slug, p.version)) ?? p.update,
      })),
    );
    const themes = await Promise.all(
      inventory.themes.map(async (t) => ({
        ...t,
        update: (await newer('theme', t.stylesheet, t.version)) ?? t.update,
      })),
    );
    const core = [...inventory.updates.core];
    const versions = await this.deps.packages.coreVersions().catch(() => null);
    if (
      versions !== null &&
      phpVersionCompare(versions.latest, inventory.core.version) > 0 &&
      !core.some((offer) => offer.version === versions.latest)
    ) {
      core.push({
        response: 'upgrade',
        version: versions.latest,
        locale: inventory.core.locale,
        phpVersion: null,
        package: null,
      });
    }
    return { ...inventory, plugins, themes, updates: { ...inventory.updates, core } };
  }

  private async log(
    actor: Actor,
    installId: string,
    action: string,
    details: Record<string, unknown>,
  ): Promise<void> {
    await this.deps.store.transaction((r) =>
      r.activity.record(actor, { action, targetType: 'install', targetId: installId, details }),
    );
  }
}

function describe(request: PackageRequest): Record<string, unknown> {
  return 'url' in request ? { url: request.url } : { ...request };
}

function notInstalled(kind: ExtensionKind, slug: string): SiteOperationError {
  return kind === 'plugin'
    ? new SiteOperationError(
        'not_found',
        'plugin_not_installed',
        `The plugin ${slug} is not installed.`,
      )
    : new SiteOperationError(
        'not_found',
        'theme_not_installed',
        `The theme ${slug} is not installed.`,
      );
}

function extension(change: ExtensionChange): Record<string, unknown> {
  return {
    name: change.name,
    version_before: change.versionBefore,
    version_after: change.versionAfter,
    active_before: change.activeBefore,
    active: change.active,
  };
}
