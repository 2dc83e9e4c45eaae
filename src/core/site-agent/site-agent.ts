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

export type ExtensionKind = 'plugin' | 'theme';

export interface SitePlugin {
  /** `akismet/akismet.php`. */
  file: string;
  /** The folder (or the file's name without `.php` for a single-file plugin). */
  slug: string;
  name: string;
  version: string;
  active: boolean;
  autoUpdate: boolean;
}

export interface SiteTheme {
  /** The folder: `twentytwentyfour`. */
  stylesheet: string;
  name: string;
  version: string;
  active: boolean;
  /** The parent theme's folder, for a child theme. */
  parent: string | null;
  autoUpdate: boolean;
}

export interface SiteUser {
  id: number;
  login: string;
  email: string;
  displayName: string;
  roles: string[];
  registered: string;
}

export interface SiteInventory {
  core: { version: string; dbVersion: number; locale: string; multisite: boolean };
  php: { version: string };
  database: { engine: string; version: string };
  plugins: SitePlugin[];
  themes: SiteTheme[];
  /** Language packs WordPress says need an update: `{type, slug, language, version}`. */
  translations: { type: string; slug: string; language: string; version: string }[];
  users: SiteUser[];
}

/** A zip that the platform holds on its own disk, handed to the site for one operation. */
export interface PackageFile {
  kind: ExtensionKind;
  slug: string;
  version: string;
  /** Absolute path on the server; never taken from a client. */
  file: string;
}

export interface ExtensionChange {
  slug: string;
  /** Null when it was not installed before. */
  versionBefore: string | null;
  /** Null when it is gone afterwards. */
  versionAfter: string | null;
  active: boolean;
}

export interface NewSiteUser {
  login: string;
  email: string;
  role?: string;
  password?: string;
  displayName?: string;
}

export interface PasswordReset {
  userId: number;
  login: string;
  /** The new password, answered once (generated when none was given). */
  password: string;
}

export interface LoginLink {
  url: string;
  userId: number;
  userLogin: string;
  /** Unix seconds. */
  expiresAt: number;
}

export interface SearchReplaceOptions {
  search: string;
  replace: string;
  dryRun?: boolean;
  tables?: string[];
  skipTables?: string[];
  skipColumns?: string[];
  includeColumns?: string[];
  allTables?: boolean;
  allTablesWithPrefix?: boolean;
  regex?: boolean;
  regexFlags?: string;
  regexDelimiter?: string;
  regexLimit?: number;
  precise?: boolean;
  recurseObjects?: boolean;
  reportChangedOnly?: boolean;
}

export interface SearchReplaceRow {
  table: string;
  column: string;
  /** Rows changed in that column, or `skipped`. */
  replacements: number | 'skipped';
  type: 'SQL' | 'PHP' | 'skipped';
}

export interface SearchReplaceResult {
  total: number;
  report: SearchReplaceRow[];
  warnings: string[];
}

export interface CoreDatabaseUpgrade {
  dbVersionBefore: number;
  dbVersionAfter: number;
  wordpressVersion: string;
}

export interface SiteAgent {
  inventory(): Promise<SiteInventory>;

  listPlugins(): Promise<SitePlugin[]>;
  installPlugin(pkg: PackageFile, options: { activate: boolean }): Promise<ExtensionChange>;
  /** Replaces the plugin's files with the package's version, keeping it active if it was. */
  updatePlugin(pkg: PackageFile): Promise<ExtensionChange>;
  activatePlugin(slug: string): Promise<ExtensionChange>;
  deactivatePlugin(slug: string): Promise<ExtensionChange>;
  deletePlugin(slug: string): Promise<ExtensionChange>;

  listThemes(): Promise<SiteTheme[]>;
  installTheme(pkg: PackageFile, options: { activate: boolean }): Promise<ExtensionChange>;
  updateTheme(pkg: PackageFile): Promise<ExtensionChange>;
  activateTheme(stylesheet: string): Promise<ExtensionChange>;
  deleteTheme(stylesheet: string): Promise<ExtensionChange>;

  updateTranslations(): Promise<{ updated: string[]; failed: string[] }>;
  /** wp_upgrade(), after the install was switched to another release. */
  upgradeDatabase(): Promise<CoreDatabaseUpgrade>;

  listUsers(): Promise<SiteUser[]>;
  createUser(user: NewSiteUser): Promise<SiteUser>;
  setUserRole(user: string, role: string): Promise<SiteUser>;
  deleteUser(user: string, reassignTo?: string): Promise<{ id: number; login: string }>;
  resetPassword(user: string, password?: string): Promise<PasswordReset>;

  getOptions(names: string[]): Promise<Record<string, unknown>>;
  setOptions(values: Record<string, unknown>): Promise<Record<string, unknown>>;

  searchReplace(options: SearchReplaceOptions): Promise<SearchReplaceResult>;
  setMaintenance(enabled: boolean): Promise<boolean>;
  loginLink(options: { userId?: number; ttlSeconds?: number }): Promise<LoginLink>;
  flushObjectCache(): Promise<boolean>;
}

/** Finds the agent of a running install; runtime provides it. */
export interface SiteAgents {
  /** Throws SiteUnavailableError when the install does not run (not provisioned yet, deleted). */
  forInstall(installId: string): Promise<SiteAgent>;
}
