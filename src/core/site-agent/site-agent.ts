/**
 * The seam between core and one running WordPress: everything done *inside* a WordPress (its
 * inventory, plugins, themes, core, users, options, search-replace, maintenance, login links,
 * object cache). Core defines it; runtime implements it with the signed agent over a transport
 * (into a hosted install's PHP today; over HTTPS to a connected site later), and the dialects and
 * the CLI reach it only through SiteOperationsService, which checks permissions and logs.
 *
 * Every method answers what WordPress answered. A refusal by WordPress (a plugin that is not
 * there, a login that exists, a broken zip) is thrown as a SiteOperationError carrying
 * WordPress's own code and message, and leaves the site as it was.
 */

import type { Inventory } from '../inventory/inventory.types.js';
import type { LocalPackage, PackageKind } from '../packages/package-source.js';
import type {
  CreateUserInput,
  CronRunResult,
  DatabaseUpgrade,
  JsonObject,
  OptionsUpdate,
  OptionValues,
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

/** A zip the platform holds on its own disk, handed to the site for one operation. */
export type PackageFile = LocalPackage;

export type ExtensionKind = PackageKind;

export interface ExtensionInstallOptions {
  activate: boolean;
  /** Replace an installed copy (a downgrade, or a reinstall); refused otherwise. */
  overwrite: boolean;
}

export interface LoginLink {
  url: string;
  userId: number;
  userLogin: string;
  /** Unix seconds. */
  expiresAt: number;
}

export interface SiteAgent {
  inventory(): Promise<Inventory>;

  listPlugins(): Promise<PluginEntry[]>;
  /** Installs the package (over an installed copy only with `overwrite`). */
  installPlugin(pkg: PackageFile, options: ExtensionInstallOptions): Promise<PluginChange>;
  /** WordPress's own update to the package's version, keeping the plugin active if it was. */
  updatePlugin(pkg: PackageFile): Promise<PluginChange>;
  activatePlugin(slug: string): Promise<PluginChange>;
  deactivatePlugin(slug: string): Promise<PluginChange>;
  /** An active plugin is refused unless `deactivate` (its deactivation hooks run first). */
  deletePlugin(slug: string, options: { deactivate: boolean }): Promise<PluginChange>;
  setPluginAutoUpdate(slug: string, enabled: boolean): Promise<PluginChange>;

  listThemes(): Promise<ThemeEntry[]>;
  installTheme(pkg: PackageFile, options: ExtensionInstallOptions): Promise<ThemeChange>;
  updateTheme(pkg: PackageFile): Promise<ThemeChange>;
  activateTheme(stylesheet: string): Promise<ThemeChange>;
  /** The active theme (or the parent of an active child) is refused. */
  deleteTheme(stylesheet: string): Promise<ThemeChange>;
  setThemeAutoUpdate(stylesheet: string, enabled: boolean): Promise<ThemeChange>;

  updateTranslations(): Promise<TranslationsResult>;
  /** wp_upgrade(), after the install was switched to another release. */
  upgradeDatabase(): Promise<DatabaseUpgrade>;

  listUsers(): Promise<UserList>;
  createUser(user: CreateUserInput): Promise<UserWithPassword>;
  setUserRole(user: UserRef, role: string): Promise<RoleChange>;
  deleteUser(user: UserRef, reassignTo?: UserRef): Promise<UserDeletion>;
  /** A new password (`password`, or a generated one, answered once); ends the user's sessions. */
  resetPassword(user: UserRef, password?: string): Promise<UserWithPassword>;

  getOptions(names: string[]): Promise<OptionValues>;
  setOptions(values: JsonObject): Promise<OptionsUpdate>;

  searchReplace(options: SearchReplaceOptions): Promise<SearchReplaceResult>;
  setMaintenance(enabled: boolean): Promise<boolean>;
  loginLink(options: { userId?: number; ttlSeconds?: number }): Promise<LoginLink>;
  flushObjectCache(): Promise<boolean>;
  /**
   * Runs the events that are due, as wp-cron.php does (recurring ones rescheduled first, under
   * WordPress's cron lock), starting no new event after `maxSeconds`.
   */
  runDueEvents(options: { maxSeconds: number }): Promise<CronRunResult>;
}

/** Finds the agent of a running install; runtime provides it. */
export interface SiteAgents {
  /** Throws SiteUnavailableError when the install does not run (not provisioned yet, deleted). */
  forInstall(installId: string): Promise<SiteAgent>;
}
