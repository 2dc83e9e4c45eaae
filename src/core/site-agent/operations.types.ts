/**
 * The shapes of operations inside one WordPress (users, options, the database upgrade,
 * search-replace), shared by the SiteAgent seam and its runtime implementation.
 */
import type {
  InventoryPlugin,
  InventoryTheme,
  WordPressUser,
} from '../inventory/inventory.types.js';

/** A JSON object, as option values are. */
export type JsonObject = Record<string, unknown>;

/** A user id, or a login (else an e-mail). */
export type UserRef = number | string;

export interface UserList {
  /** The site's users by id, at most `limit` of them. */
  users: WordPressUser[];
  total: number;
  limit: number;
}

export interface CreateUserInput {
  login: string;
  email: string;
  /** Default: the site's `default_role` option. */
  role?: string;
  /** Default: 24 characters from wp_generate_password(), answered once. */
  password?: string;
  displayName?: string;
  /** wp_new_user_notification() to the user and the admin; default false. */
  sendEmail?: boolean;
}

export interface UserWithPassword {
  user: WordPressUser;
  /** Only when the agent generated it; never stored by the agent in clear. */
  password: string | null;
}

export interface RoleChange {
  user: WordPressUser;
  previousRoles: string[];
}

export interface UserDeletion {
  deleted: WordPressUser;
  /** The user who got the deleted user's posts and links; null when WordPress deleted them. */
  reassignedTo: number | null;
}

export interface DatabaseUpgrade {
  /** The install's `db_version` option before and after wp_upgrade(). */
  dbVersionBefore: number;
  dbVersionAfter: number;
  /** False when the database was already at the release's version. */
  upgraded: boolean;
  wordpressVersion: string;
}

export interface OptionValues {
  /** get_option() of each name that exists, as JSON (serialized values unserialized). */
  values: JsonObject;
  /** Names with no option. */
  missing: string[];
}

export interface OptionsUpdate {
  /** get_option() of each name after the update. */
  values: JsonObject;
  /** The values before, of the names that existed. */
  previous: JsonObject;
  /** Names whose value changed (update_option() answers false for an unchanged value). */
  changed: string[];
}

export interface SearchReplaceOptions {
  /** Not empty. A PCRE pattern without delimiters when `regex` is set. */
  search: string;
  /** May be empty. With `regex`, `$1`/`\1` refer to groups. */
  replace: string;
  /** Count what would change; write nothing. */
  dryRun?: boolean;
  /** Narrow the tables to these names (`*` and `?` wildcards); none matching is an error. */
  tables?: string[];
  /** Leave these tables out (`*` and `?` wildcards). */
  skipTables?: string[];
  /** `column` or `table.column`. */
  skipColumns?: string[];
  /** Only these columns: `column` or `table.column`. */
  includeColumns?: string[];
  /** Every table of the database, registered or not, with any prefix. */
  allTables?: boolean;
  /** Every table whose name starts with the site's table prefix. */
  allTablesWithPrefix?: boolean;
  regex?: boolean;
  /** PCRE modifiers such as `i`. Given without `regex`, they only force PHP mode (as WP-CLI). */
  regexFlags?: string;
  /** Default `chr(1)`. */
  regexDelimiter?: string;
  /** Replacements per string, a positive integer or -1 (no limit, the default). */
  regexLimit?: number;
  /** PHP for every column, never SQL REPLACE(). */
  precise?: boolean;
  /** Replace inside stdClass objects of serialized values; default true. */
  recurseObjects?: boolean;
  /** Leave out of the report the columns with no change and the skipped tables. */
  reportChangedOnly?: boolean;
}

export type SearchReplaceReportRow =
  | { table: string; column: string; replacements: number; type: 'SQL' | 'PHP' }
  /** A view, or a table without a primary key: WP-CLI's report shows them so. */
  | { table: string; column: ''; replacements: 'skipped' | 'skipped (view)'; type: '' };

export interface SearchReplaceResult {
  /** Rows changed (on a dry run: that would change), summed over columns. */
  total: number;
  /** One row per column searched, in table order. */
  report: SearchReplaceReportRow[];
  /** WP-CLI's warnings: objects of other classes left as they were, failed updates, PCRE errors. */
  warnings: string[];
}

/** A plugin as WordPress lists it, without what the update checks found. */
export type PluginEntry = Omit<InventoryPlugin, 'update'>;

/** A theme as WordPress lists it, without what the update checks found. */
export type ThemeEntry = Omit<InventoryTheme, 'update'>;

/** What a plugin operation changed. A version is null when the plugin was (or is) not installed. */
export interface PluginChange {
  file: string;
  slug: string;
  name: string;
  versionBefore: string | null;
  versionAfter: string | null;
  activeBefore: boolean;
  active: boolean;
  networkActive: boolean;
  autoUpdateBefore: boolean;
  autoUpdate: boolean;
  /** What WordPress said that did not stop the operation (a plugin's unexpected output). */
  warnings: string[];
}

export interface ThemeChange {
  stylesheet: string;
  name: string;
  versionBefore: string | null;
  versionAfter: string | null;
  activeBefore: boolean;
  active: boolean;
  parent: string | null;
  autoUpdateBefore: boolean;
  autoUpdate: boolean;
  warnings: string[];
}

/** A plugin named by its file (`akismet/akismet.php`) or its slug (`akismet`). */
export type PluginRef = { file: string } | { slug: string };

export interface InstallPackageOptions {
  /** The name withPackageInInstall() gave the zip. */
  package: string;
  /** Activate after installing (default false). */
  activate?: boolean;
  /** Replace an installed plugin or theme of the same folder (default false: `conflict`). */
  overwrite?: boolean;
}

export interface TranslationUpdate {
  type: string;
  slug: string;
  language: string;
  version: string;
}

export interface TranslationsResult {
  updated: TranslationUpdate[];
  failed: (TranslationUpdate & { message: string })[];
}

/** One due event the agent ran (agent/wpfleet-agent/cron.php). */
export interface CronHookRun {
  hook: string;
  /** When it was due, unix seconds. */
  timestamp: number;
  /** Its recurrence (`hourly`, `twicedaily`…), rescheduled before it ran; null for a single event. */
  schedule: string | null;
  /** What went wrong: a rescheduling refused by WordPress, or what the hook threw. */
  error: string | null;
}

/** What one run of an install's due events did, as `wp-cron.php` would have. */
export interface CronRunResult {
  /** Nothing ran: the install is in maintenance mode, when WordPress runs no cron either. */
  maintenance: boolean;
  /** Nothing ran: another run holds WordPress's cron lock (the `doing_cron` transient). */
  locked: boolean;
  ran: CronHookRun[];
  /** Due events were left for the next run: the time budget was spent, or the lock was lost. */
  incomplete: boolean;
  /** The earliest event still scheduled, unix seconds; null for none. */
  nextEvent: number | null;
}
