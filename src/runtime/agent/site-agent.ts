/**
 * The SiteAgent seam of core, implemented with the signed agent mu-plugin. The agent client is
 * transport-agnostic (into a hosted install's PHP, or HTTPS to a connected site); how a package
 * zip reaches the site is a separate strategy (`PackageHandoff`), since only a hosted install
 * shares the server's disk.
 */
import { SiteOperationError, UnavailableError } from '../../core/errors.js';
import type { PackageFile, SiteAgent } from '../../core/site-agent/site-agent.js';
import type { JsonObject, UserRef } from '../../core/site-agent/operations.types.js';
import { AgentError, type AgentClient } from './client.js';
import { getOptions, setOptions, upgradeDatabase } from './core.js';
import { runDueEvents } from './cron.js';
import * as extensions from './extensions.js';
import { getInventory } from './inventory.js';
import { searchReplace } from './search-replace.js';
import { createUser, deleteUser, listUsers, resetPassword, updateUserRole } from './users.js';

/** Puts a package zip where the site's agent can read it, for the time of `work`. */
export type PackageHandoff = <T>(
  pkg: PackageFile,
  work: (name: string) => Promise<T>,
) => Promise<T>;

/**
 * The agent's refusals become SiteOperationErrors with WordPress's message; a site that does not
 * answer (PHP busy, a proxy's error, a broken answer) is unavailable. Signature failures are the
 * platform's own bugs and stay errors.
 */
function translated(err: unknown): unknown {
  if (!(err instanceof AgentError)) return err;
  const code = err.wpCode ?? err.code;
  switch (err.code) {
    case 'invalid':
      return new SiteOperationError('invalid', code, err.message);
    case 'not_found':
      return new SiteOperationError('not_found', code, err.message);
    case 'conflict':
      return new SiteOperationError('conflict', code, err.message);
    case 'failed':
      return new SiteOperationError('failed', code, err.message);
    case 'unreachable':
    case 'http_error':
    case 'bad_response':
      return new UnavailableError(`The site did not answer its agent: ${err.message}`);
    default:
      return err;
  }
}

async function call<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw translated(err);
  }
}

/** One WordPress, through its agent. */
export class AgentSiteAgent implements SiteAgent {
  constructor(
    private readonly client: AgentClient,
    private readonly handoff: PackageHandoff,
  ) {}

  inventory = () => call(() => getInventory(this.client));

  listPlugins = () => call(() => extensions.listPlugins(this.client));

  installPlugin = (pkg: PackageFile, options: { activate: boolean; overwrite: boolean }) =>
    call(() =>
      this.handoff(pkg, (name) =>
        extensions.installPlugin(this.client, { package: name, ...options }),
      ),
    );

  updatePlugin = (pkg: PackageFile) =>
    call(() =>
      this.handoff(pkg, (name) =>
        extensions.updatePlugin(this.client, { slug: pkg.slug, package: name }),
      ),
    );

  activatePlugin = (slug: string) => call(() => extensions.activatePlugin(this.client, { slug }));

  deactivatePlugin = (slug: string) =>
    call(() => extensions.deactivatePlugin(this.client, { slug }));

  deletePlugin = (slug: string, options: { deactivate: boolean }) =>
    call(() => extensions.deletePlugin(this.client, { slug }, options));

  setPluginAutoUpdate = (slug: string, enabled: boolean) =>
    call(() => extensions.setPluginAutoUpdate(this.client, { slug }, enabled));

  listThemes = () => call(() => extensions.listThemes(this.client));

  installTheme = (pkg: PackageFile, options: { activate: boolean; overwrite: boolean }) =>
    call(() =>
      this.handoff(pkg, (name) =>
        extensions.installTheme(this.client, { package: name, ...options }),
      ),
    );

  updateTheme = (pkg: PackageFile) =>
    call(() =>
      this.handoff(pkg, (name) =>
        extensions.updateTheme(this.client, { stylesheet: pkg.slug, package: name }),
      ),
    );

  activateTheme = (stylesheet: string) =>
    call(() => extensions.activateTheme(this.client, stylesheet));

  deleteTheme = (stylesheet: string) => call(() => extensions.deleteTheme(this.client, stylesheet));

  setThemeAutoUpdate = (stylesheet: string, enabled: boolean) =>
    call(() => extensions.setThemeAutoUpdate(this.client, stylesheet, enabled));

  updateTranslations = () => call(() => extensions.updateTranslations(this.client));

  upgradeDatabase = () => call(() => upgradeDatabase(this.client));

  listUsers = () => call(() => listUsers(this.client));

  createUser = (user: Parameters<SiteAgent['createUser']>[0]) =>
    call(() => createUser(this.client, user));

  setUserRole = (user: UserRef, role: string) =>
    call(() => updateUserRole(this.client, user, role));

  deleteUser = (user: UserRef, reassignTo?: UserRef) =>
    call(() => deleteUser(this.client, user, reassignTo));

  resetPassword = (user: UserRef, password?: string) =>
    call(() => resetPassword(this.client, user, password));

  getOptions = (names: string[]) => call(() => getOptions(this.client, names));

  setOptions = (values: JsonObject) => call(() => setOptions(this.client, values));

  searchReplace = (options: Parameters<SiteAgent['searchReplace']>[0]) =>
    call(() => searchReplace(this.client, options));

  setMaintenance = (enabled: boolean) => call(() => this.client.setMaintenance(enabled));

  loginLink = (options: { userId?: number; ttlSeconds?: number }) =>
    call(() => this.client.loginLink(options));

  flushObjectCache = () => call(() => this.client.flushObjectCache());

  runDueEvents = (options: { maxSeconds: number }) =>
    call(() => runDueEvents(this.client, options));
}
