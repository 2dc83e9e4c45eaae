import { randomBytes } from 'node:crypto';
import {
  DEFAULT_INSTALL_SETTINGS,
  type InstallSettings,
} from '../../core/installs/install-settings.js';

const SALT_NAMES = [
  'AUTH_KEY',
  'SECURE_AUTH_KEY',
  'LOGGED_IN_KEY',
  'NONCE_KEY',
  'AUTH_SALT',
  'SECURE_AUTH_SALT',
  'LOGGED_IN_SALT',
  'NONCE_SALT',
] as const;

// The characters wordpress.org's salt generator uses, minus the quote and backslash, so a salt
// can sit in a single-quoted PHP string unescaped.
const SALT_ALPHABET =
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!@#$%^&*()-_ []{}<>~`+=,.;:/?|';

function salt(): string {
  const bytes = randomBytes(64);
  let out = '';
  for (const b of bytes) out += SALT_ALPHABET[b % SALT_ALPHABET.length] ?? 'x';
  return out;
}

/** `wp_` and six random lower-case letters and digits, so no two installs share a prefix. */
export function randomTablePrefix(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(6);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length] ?? 'x';
  return `wp_${out}_`;
}

export type DatabaseSettings =
  | { kind: 'sqlite' }
  | { kind: 'mysql'; host: string; name: string; user: string; password: string };

export interface WpConfigOptions {
  tablePrefix: string;
  database: DatabaseSettings;
  agentSecret: string;
  /** The install's hardening settings; the defaults when left out. */
  settings?: InstallSettings;
}

function php(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * The install's own wp-config.php: fresh salts, its table prefix, its database and the agent's
 * secret. It sits one level above ABSPATH (WordPress looks there), outside the shared core.
 */
export function renderWpConfig(options: WpConfigOptions): string {
  const db = options.database;
  const lines = [
    '<?php',
    '// Written by wpfleet when the install was provisioned.',
    ...(db.kind === 'sqlite'
      ? [
          "define( 'DB_NAME', 'wordpress' );",
          "define( 'DB_USER', '' );",
          "define( 'DB_PASSWORD', '' );",
          "define( 'DB_HOST', '' );",
          "define( 'DB_DIR', ABSPATH . 'wp-content/database/' );",
          "define( 'DB_FILE', '.ht.sqlite' );",
        ]
      : [
          `define( 'DB_NAME', ${php(db.name)} );`,
          `define( 'DB_USER', ${php(db.user)} );`,
          `define( 'DB_PASSWORD', ${php(db.password)} );`,
          `define( 'DB_HOST', ${php(db.host)} );`,
        ]),
    "define( 'DB_CHARSET', 'utf8mb4' );",
    "define( 'DB_COLLATE', '' );",
    ...SALT_NAMES.map((name) => `define( '${name}', ${php(salt())} );`),
    `$table_prefix = ${php(options.tablePrefix)};`,
    `define( 'WPFLEET_AGENT_SECRET', ${php(options.agentSecret)} );`,
    settingsBlock(options.settings ?? DEFAULT_INSTALL_SETTINGS),
    "define( 'FS_METHOD', 'direct' );",
    // wp-cron's loopback requests are replaced by the control plane's own schedule.
    "define( 'DISABLE_WP_CRON', true );",
    "define( 'AUTOMATIC_UPDATER_DISABLED', true );",
    "if ( ! defined( 'ABSPATH' ) ) {",
    "\tdefine( 'ABSPATH', '/wordpress/' );",
    '}',
    "require_once ABSPATH . 'wp-settings.php';",
    '',
  ];
  return lines.join('\n');
}

const BLOCK_START = "// wpfleet settings: rewritten whenever the install's settings change.";
const BLOCK_END = '// wpfleet settings end.';
const BLOCK = /^\/\/ wpfleet settings: .*\n(?:.*\n)*?\/\/ wpfleet settings end\.$/m;
/** What wp-config.php had before the block existed, where the block now goes. */
const LEGACY_DEBUG = /^define\( 'WP_DEBUG', false \);$/m;
const SETTINGS_REQUIRE = /^require_once ABSPATH \. 'wp-settings\.php';$/m;

/**
 * The lines of wp-config.php that the install's settings decide. WP_DEBUG logs to
 * wp-content/debug.log (which the edge never serves) and never displays errors to visitors.
 */
export function settingsBlock(settings: InstallSettings): string {
  const lines = [BLOCK_START, `define( 'WP_DEBUG', ${String(settings.wpDebug)} );`];
  if (settings.wpDebug) {
    lines.push("define( 'WP_DEBUG_LOG', true );", "define( 'WP_DEBUG_DISPLAY', false );");
  }
  lines.push(`define( 'DISALLOW_FILE_EDIT', ${String(settings.disallowFileEdit)} );`);
  if (settings.loginPath !== null) {
    lines.push(`define( 'WPFLEET_LOGIN_PATH', ${php(settings.loginPath)} );`);
  }
  lines.push(BLOCK_END);
  return lines.join('\n');
}

/**
 * An install's wp-config.php with its settings block replaced by one for `settings`; everything
 * else (salts, database, prefix, secret) is kept as written. A file written before the block
 * existed has it put where its WP_DEBUG line was, or else before wp-settings.php is required.
 */
export function withSettings(config: string, settings: InstallSettings): string {
  const block = settingsBlock(settings);
  if (BLOCK.test(config)) return config.replace(BLOCK, () => block);
  if (LEGACY_DEBUG.test(config)) return config.replace(LEGACY_DEBUG, () => block);
  if (SETTINGS_REQUIRE.test(config)) {
    return config.replace(SETTINGS_REQUIRE, (line) => `${block}\n${line}`);
  }
  throw new Error('wp-config.php does not require wp-settings.php: it was not written by wpfleet');
}
