import { requireScope, type Actor, type Scope } from '../actor.js';
import type { InstallRecord } from '../installs/installs.repository.js';
import type { InstallsService } from '../installs/installs.service.js';
import type { Store } from '../store.js';
import { SiteOperationError } from '../errors.js';
import type {
  ExtensionChange,
  ExtensionKind,
  LoginLink,
  NewSiteUser,
  PackageFile,
  PasswordReset,
  SearchReplaceOptions,
  SearchReplaceResult,
  SiteAgent,
  SiteAgents,
  SiteInventory,
  SitePlugin,
  SiteTheme,
  SiteUser,
} from './site-agent.js';

/** Where a plugin or theme comes from, as a client names it: never a path on the server. */
export type PackageRequest = { slug: string; version?: string } | { url: string };

/** Turns a client's package request into a zip the platform holds (runtime's package sources). */
export interface PackageResolver {
  resolve(kind: ExtensionKind, request: PackageRequest): Promise<PackageFile>;
}

export interface SiteOperationsDeps {
  store: Store;
  installs: InstallsService;
  agents: SiteAgents;
  packages: PackageResolver;
  /** Told after every change inside a site (the inventory is refreshed, cached pages dropped). */
  changed?: (installId: string) => Promise<void>;
}

/**
 * Operations inside one WordPress, for every dialect and the CLI: checks the actor may act on the
 * install, calls the site's agent, and records each change in the activity log with who did
 * what and the version before and after. A refusal is logged too, with WordPress's message.
 */
export class SiteOperationsService {
  constructor(private readonly deps: SiteOperationsDeps) {}

  inventory(actor: Actor, installId: string): Promise<SiteInventory> {
    return this.read(actor, installId, (agent) => agent.inventory());
  }

  plugins(actor: Actor, installId: string): Promise<SitePlugin[]> {
    return this.read(actor, installId, (agent) => agent.listPlugins());
  }

  themes(actor: Actor, installId: string): Promise<SiteTheme[]> {
    return this.read(actor, installId, (agent) => agent.listThemes());
  }

  users(actor: Actor, installId: string): Promise<SiteUser[]> {
    return this.read(actor, installId, (agent) => agent.listUsers());
  }

  installExtension(
    actor: Actor,
    installId: string,
    kind: ExtensionKind,
    request: PackageRequest,
    options: { activate: boolean },
  ): Promise<ExtensionChange> {
    const work = async (agent: SiteAgent): Promise<ExtensionChange> => {
      const pkg = await this.deps.packages.resolve(kind, request);
      return kind === 'plugin'
        ? agent.installPlugin(pkg, options)
        : agent.installTheme(pkg, options);
    };
    return this.change(actor, installId, `${kind}.install`, describe(request), work, extension);
  }

  /** Updates to `version`, or to the newest the package sources know. */
  updateExtension(
    actor: Actor,
    installId: string,
    kind: ExtensionKind,
    slug: string,
    version?: string,
  ): Promise<ExtensionChange> {
    const request = version === undefined ? { slug } : { slug, version };
    const work = async (agent: SiteAgent): Promise<ExtensionChange> => {
      const installed =
        kind === 'plugin'
          ? (await agent.listPlugins()).some((p) => p.slug === slug)
          : (await agent.listThemes()).some((t) => t.stylesheet === slug);
      if (!installed) throw notInstalled(kind, slug);
      const pkg = await this.deps.packages.resolve(kind, request);
      return kind === 'plugin' ? agent.updatePlugin(pkg) : agent.updateTheme(pkg);
    };
    return this.change(actor, installId, `${kind}.update`, describe(request), work, extension);
  }

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

  deleteExtension(
    actor: Actor,
    installId: string,
    kind: ExtensionKind,
    slug: string,
  ): Promise<ExtensionChange> {
    const work = (agent: SiteAgent): Promise<ExtensionChange> =>
      kind === 'plugin' ? agent.deletePlugin(slug) : agent.deleteTheme(slug);
    return this.change(actor, installId, `${kind}.delete`, { slug }, work, extension, 'delete');
  }

  updateTranslations(
    actor: Actor,
    installId: string,
  ): Promise<{ updated: string[]; failed: string[] }> {
    const work = (agent: SiteAgent) => agent.updateTranslations();
    return this.change(actor, installId, 'translations.update', {}, work, (r) => ({ ...r }));
  }

  createUser(actor: Actor, installId: string, user: NewSiteUser): Promise<SiteUser> {
    const request = { login: user.login, email: user.email, role: user.role ?? null };
    const work = (agent: SiteAgent) => agent.createUser(user);
    return this.change(actor, installId, 'wp_user.create', request, work, siteUser);
  }

  setUserRole(actor: Actor, installId: string, user: string, role: string): Promise<SiteUser> {
    const work = (agent: SiteAgent) => agent.setUserRole(user, role);
    return this.change(actor, installId, 'wp_user.role', { user, role }, work, siteUser);
  }

  deleteUser(
    actor: Actor,
    installId: string,
    user: string,
    reassignTo?: string,
  ): Promise<{ id: number; login: string }> {
    const request = { user, reassign: reassignTo ?? null };
    const work = (agent: SiteAgent) => agent.deleteUser(user, reassignTo);
    return this.change(actor, installId, 'wp_user.delete', request, work, siteUser, 'delete');
  }

  /** The new password is answered once and never logged. */
  resetPassword(
    actor: Actor,
    installId: string,
    user: string,
    password?: string,
  ): Promise<PasswordReset> {
    const work = (agent: SiteAgent) => agent.resetPassword(user, password);
    const details = (r: PasswordReset) => ({ user_id: r.userId, login: r.login });
    return this.change(actor, installId, 'wp_user.reset_password', { user }, work, details);
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
    return this.change(actor, installId, 'site.login_link', {}, work, details);
  }

  flushObjectCache(actor: Actor, installId: string): Promise<boolean> {
    const work = (agent: SiteAgent) => agent.flushObjectCache();
    return this.change(actor, installId, 'site.object_cache_flush', {}, work, (flushed) => ({
      flushed,
    }));
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

  /** Runs a change and logs it, or its refusal, in the activity log. */
  private async change<T>(
    actor: Actor,
    installId: string,
    action: string,
    request: Record<string, unknown>,
    work: (agent: SiteAgent) => Promise<T>,
    /** What the log keeps of the answer: versions before and after, never a secret. */
    details: (result: T) => Record<string, unknown>,
    scope: Scope = 'write',
  ): Promise<T> {
    const { install, agent } = await this.site(actor, installId, scope);
    let result: T;
    try {
      result = await work(agent);
    } catch (err) {
      if (err instanceof SiteOperationError) {
        await this.log(actor, install.id, `${action}.refused`, {
          ...request,
          error: { code: err.code, message: err.message },
        });
      }
      throw err;
    }
    await this.log(actor, install.id, action, { ...request, ...details(result) });
    await this.deps.changed?.(install.id);
    return result;
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
    version_before: change.versionBefore,
    version_after: change.versionAfter,
    active: change.active,
  };
}

function siteUser(user: { id: number; login: string; roles?: string[] }): Record<string, unknown> {
  return { user_id: user.id, login: user.login, ...(user.roles ? { roles: user.roles } : {}) };
}
