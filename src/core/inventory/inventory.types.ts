/**
 * What wpfleet knows of one WordPress install from inside it: the agent's `GET /inventory`
 * (agent/wpfleet-agent/inventory.php), read by runtime/agent/inventory.ts and stored per install
 * by InventoryRepository. Versions are WordPress's strings; times are unix seconds unless named
 * otherwise.
 */

/** A user of the install's site, as the agent tells it: never a password hash. */
export interface WordPressUser {
  id: number;
  login: string;
  email: string;
  displayName: string;
  /** Role names on the site (`administrator`, …); usually one. */
  roles: string[];
  /** When the user registered, ISO 8601 UTC; null when WordPress has no date. */
  registered: string | null;
}

/** An update WordPress's last check found (its update transients); never looked up live. */
export interface AvailableUpdate {
  version: string;
  /** The WordPress version it needs, if the check said. */
  requires: string | null;
  requiresPhp: string | null;
  /** The WordPress version it was tested up to, if the check said. */
  tested: string | null;
  /** Its zip URL, if the check gave one. */
  package: string | null;
}

export interface InventoryPlugin {
  /** `akismet/akismet.php`: how WordPress names a plugin. */
  file: string;
  /** The folder, or the file name without `.php` for a single-file plugin (`hello`). */
  slug: string;
  name: string;
  version: string;
  active: boolean;
  networkActive: boolean;
  /** Auto-updates turned on for it (the `auto_update_plugins` site option). */
  autoUpdate: boolean;
  update: AvailableUpdate | null;
}

export interface InventoryTheme {
  stylesheet: string;
  name: string;
  version: string;
  active: boolean;
  /** The parent theme's stylesheet for a child theme; null otherwise. */
  parent: string | null;
  autoUpdate: boolean;
  update: AvailableUpdate | null;
}

/** A language pack WordPress's last check found newer than the installed one. */
export interface InventoryTranslation {
  /** `core`, `plugin` or `theme`. */
  type: string;
  slug: string;
  language: string;
  version: string;
  /** When wordpress.org built it (`Y-m-d H:i:s`). */
  updated: string;
}

/** A core release WordPress's last version check offered. */
export interface CoreUpdateOffer {
  /** `upgrade`, `latest`, `development` or `autoupdate`, as WordPress stores it. */
  response: string;
  version: string;
  locale: string;
  phpVersion: string | null;
  package: string | null;
}

export type DatabaseEngine = 'sqlite' | 'mysql' | 'mariadb';

export interface Inventory {
  agentVersion: string;
  core: {
    version: string;
    /** The release's `$wp_db_version`: the schema its code expects. */
    dbVersion: number;
    /** The `db_version` option: the schema the install's database is at. */
    dbVersionStored: number;
    /** The two differ: `POST /core/upgrade-db` is due (after a release switch). */
    dbUpgradeNeeded: boolean;
    locale: string;
    multisite: boolean;
    home: string;
    siteurl: string;
  };
  php: {
    version: string;
    /** Loaded extensions, lower case, sorted. */
    extensions: string[];
    memoryLimit: string;
  };
  database: {
    engine: DatabaseEngine;
    /** `10.11.6` for MariaDB, SQLite's library version on SQLite. */
    serverVersion: string | null;
    serverInfo: string | null;
    /** On SQLite: the integration plugin's version and its db.php drop-in's. */
    sqliteIntegration: { version: string | null; dropinVersion: string | null } | null;
  };
  plugins: InventoryPlugin[];
  themes: InventoryTheme[];
  translations: InventoryTranslation[];
  /** The site's first 1,000 users by id (`usersTotal` says how many there are). */
  users: WordPressUser[];
  usersTotal: number;
  updates: {
    core: CoreUpdateOffer[];
    /** When WordPress last checked each kind; null if it never did (offline installs). */
    checkedAt: { core: number | null; plugins: number | null; themes: number | null };
  };
}
