import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Where the control plane keeps its own records. */
export type DatabaseConfig = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

export interface RateLimitConfig {
  /** Requests per hour per account; 0 turns the limit off. */
  accountPerHour: number;
  /** Requests per minute per client IP; 0 turns the limit off. */
  ipPerMinute: number;
}

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  database: DatabaseConfig;
  /** Installs answer at `<name>.<baseDomain>`. */
  baseDomain: string;
  /** Honour X-Forwarded-For/-Proto/-Host from a proxy in front of us. */
  trustProxy: boolean;
  rateLimits: RateLimitConfig;
  /** PHP version given to new installs (php-wasm ships 7.4 to 8.5). */
  defaultPhpVersion: string;
  logLevel: string;
  /**
   * The machine's cache, shared by every data directory of this user: verified releases
   * (`releases/`) and Debian's package downloads (`debian/`). Default `$XDG_CACHE_HOME/wpfleet`
   * or `~/.cache/wpfleet`.
   */
  cacheDir: string;
  /** WordPress release sources tried, in order, when a release must be added. */
  releaseSources: ReleaseSourceName[];
  /** Base URLs of wordpress.org's API and downloads; a mirror may stand in for them. */
  wordpressOrg: { api: string; downloads: string };
  /**
   * Where new installs keep their database: SQLite files (default) or, given an admin URL
   * `mysql://user:password@host:port`, one MySQL/MariaDB database and user per install.
   */
  wordpressDatabase: { kind: 'sqlite' } | { kind: 'mysql'; url: string };
  /** Run queued jobs (provisioning…) in this process; tests of the API alone turn it off. */
  jobs: boolean;
  php: PhpConfig;
  backups: BackupsConfig;
  /**
   * The addresses visitors reach this platform at: a domain "points here" when its A/AAAA
   * records meet them. Default: this machine's non-internal interface addresses, 127.0.0.1, ::1.
   */
  publicAddresses: string[];
  /** DNS servers the domain check asks (`ip` or `ip:port`, `[v6]:port`); empty: the system's. */
  dnsServers: string[];
  mail: MailConfig;
  packages: PackagesConfig;
  cron: CronConfig;
}

/** How the server runs installs' WordPress cron (docs/operations.md, "Scheduled events"). */
export interface CronConfig {
  /**
   * Seconds between the scheduler's looks at installs' due events (`WPFLEET_CRON_INTERVAL`, 20);
   * 0 turns the scheduler off. Each install still runs at most once a minute.
   */
  intervalSeconds: number;
  /** Installs whose events run at once (`WPFLEET_CRON_CONCURRENCY`, 2). */
  concurrency: number;
  /**
   * Seconds one install's run may take before the scheduler stops waiting for it and counts it
   * failed (`WPFLEET_CRON_TIMEOUT`, 60); the agent starts no new event after all but 10 of them.
   */
  timeoutSeconds: number;
}

/** Where plugin and theme zips come from (docs/operations.md, "Package sources"). */
export interface PackagesConfig {
  /** The offline mirror `wpfleet mirror add` fills (`WPFLEET_MIRROR_DIR`, `<data>/mirror`). */
  mirrorDir: string;
  /** Ask wordpress.org after the mirror (`WPFLEET_WPORG`, on). */
  wordpressOrg: boolean;
  /**
   * Loopback, private or link-local blocks (CIDR) that package URLs may point at although the
   * fetch policy refuses them (`WPFLEET_FETCH_ALLOW`); empty by default. Plain http:// is taken
   * only for these.
   */
  fetchAllow: string[];
}

/** How notification e-mails (a backup completed or failed) leave the platform. */
export interface MailConfig {
  /**
   * `smtp://user:password@host:port` (STARTTLS when the server offers it) or `smtps://…`
   * (implicit TLS); null when unset, and messages are then written to the log instead.
   */
  smtpUrl: string | null;
  /** The From address: `address` or `Name <address>`; default `wpfleet@<base domain>`. */
  from: string;
}

export interface BackupsConfig {
  /** Days backups are kept when an account sets none (`WPFLEET_BACKUP_RETENTION_DAYS`, 30). */
  retentionDays: number;
  /** Bytes a backup must leave free on its disk (`WPFLEET_BACKUP_RESERVE_MB`, 100 MB). */
  reserveBytes: number;
}

export interface PhpConfig {
  /** PHP instances one install may run at once. */
  perInstall: number;
  /** PHP instances in all. */
  total: number;
  /** An install's PHP stops after this many seconds without a request. */
  idleSeconds: number;
  /** A PHP request running longer is treated as hung and its instance replaced. */
  timeoutSeconds: number;
  /**
   * Private address blocks (CIDR) installs' PHP may reach although the network policy closes
   * them (`WPFLEET_PHP_NETWORK_ALLOW`, e.g. a shared Redis); empty by default. docs/security.md.
   */
  networkAllow: string[];
  /**
   * A request that finds every PHP instance busy waits this long at most for one, then gets a
   * 503 (provisioning tries again later).
   */
  queueSeconds: number;
}

export const RELEASE_SOURCES = ['wordpress.org', 'debian'] as const;
export type ReleaseSourceName = (typeof RELEASE_SOURCES)[number];

/** Values given on the command line; each overrides its environment variable. */
export interface ConfigFlags {
  host?: string | undefined;
  port?: string | undefined;
  data?: string | undefined;
  databaseUrl?: string | undefined;
  baseDomain?: string | undefined;
  trustProxy?: boolean | undefined;
  wpDatabaseUrl?: string | undefined;
}

export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`invalid ${setting}: ${message}`);
    this.name = 'ConfigError';
  }
}

const PHP_VERSIONS = ['7.4', '8.0', '8.1', '8.2', '8.3', '8.4', '8.5'];
const HOSTNAME =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

function integer(setting: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw)) throw new ConfigError(setting, `"${raw}" is not a whole number`);
  const value = Number(raw);
  if (value < min || value > max) {
    throw new ConfigError(setting, `${value} is outside ${min}..${max}`);
  }
  return value;
}

function boolean(setting: string, raw: string): boolean {
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(setting, `"${raw}" is not true or false`);
}

/** A bad value is reported under the name the user gave it: the flag if set, else the variable. */
function nameOf(flag: string, variable: string, flagValue: unknown): string {
  return flagValue === undefined ? variable : flag;
}

function database(raw: string | undefined, dataDir: string, setting: string): DatabaseConfig {
  if (raw === undefined || raw === '') {
    return { kind: 'sqlite', file: path.join(dataDir, 'wpfleet.sqlite') };
  }
  if (/^postgres(ql)?:\/\//.test(raw)) {
    try {
      new URL(raw);
    } catch {
      throw new ConfigError(setting, 'not a valid postgres:// URL');
    }
    return { kind: 'postgres', url: raw };
  }
  if (raw.startsWith('sqlite:')) {
    const file = raw.slice('sqlite:'.length).replace(/^\/\//, '');
    if (file === '') throw new ConfigError(setting, 'sqlite: needs a file path');
    return { kind: 'sqlite', file: path.resolve(file) };
  }
  throw new ConfigError(setting, 'expected postgres://… or sqlite:<file>');
}

function wordpressDatabase(raw: string | undefined, setting: string): Config['wordpressDatabase'] {
  if (raw === undefined || raw === '' || raw === 'sqlite') return { kind: 'sqlite' };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(setting, 'expected sqlite or mysql://user:password@host:port');
  }
  if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:') {
    throw new ConfigError(setting, 'expected sqlite or mysql://user:password@host:port');
  }
  return { kind: 'mysql', url: raw.replace(/^mariadb:/, 'mysql:') };
}

/** `wordpress.org,debian`; empty or `none` turns every automatic source off. */
function releaseSources(raw: string): ReleaseSourceName[] {
  const names = raw
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '' && s !== 'none');
  const bad = names.find((n) => !(RELEASE_SOURCES as readonly string[]).includes(n));
  if (bad !== undefined) {
    throw new ConfigError(
      'WPFLEET_RELEASE_SOURCES',
      `"${bad}" is not one of ${RELEASE_SOURCES.join(', ')}`,
    );
  }
  return [...new Set(names as ReleaseSourceName[])];
}

function baseUrl(setting: string, raw: string | undefined, fallback: string): string {
  const value = raw ?? fallback;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(setting, `"${value}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(setting, `"${value}" is not an http(s) URL`);
  }
  return value.replace(/\/+$/, '');
}

/** This machine's own addresses: non-internal interfaces (not link-local), then loopback. */
export function machineAddresses(): string[] {
  const found: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal || /^fe80:/i.test(a.address)) continue;
      found.push(a.address);
    }
  }
  return [...new Set([...found, '127.0.0.1', '::1'])];
}

/** `1.2.3.4,2001:db8::1`: a comma-separated list of IP addresses. */
function publicAddresses(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') return machineAddresses();
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = list.find((a) => net.isIP(a) === 0);
  if (bad !== undefined) {
    throw new ConfigError('WPFLEET_PUBLIC_ADDRESSES', `"${bad}" is not an IP address`);
  }
  return [...new Set(list)];
}

/** `9.9.9.9,127.0.0.1:5353,[2001:db8::53]:53`: DNS servers as node:dns takes them. */
function dnsServers(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') return [];
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const server of list) {
    const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(server) ?? /^([^:]+):(\d{1,5})$/.exec(server);
    const ip = m?.[1] ?? server;
    const port = m?.[2] === undefined ? 53 : Number(m[2]);
    if (net.isIP(ip) === 0 || port < 1 || port > 65535) {
      throw new ConfigError('WPFLEET_DNS_SERVERS', `"${server}" is not an IP address[:port]`);
    }
  }
  return list;
}

/** Comma-separated CIDR blocks (`10.0.0.0/8`, `fd00::/8`) or single addresses. */
function cidrList(setting: string, raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') return [];
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const block of list) {
    const [address = '', bits] = block.split('/');
    const version = net.isIP(address);
    const max = version === 6 ? 128 : 32;
    if (version === 0 || (bits !== undefined && (!/^\d{1,3}$/.test(bits) || Number(bits) > max))) {
      throw new ConfigError(setting, `"${block}" is not an address or CIDR block`);
    }
  }
  return list;
}

/** `smtp://…` or `smtps://…` with a host; the value is never echoed, as it holds a password. */
function smtpUrl(raw: string | undefined): string | null {
  if (raw === undefined || raw.trim() === '') return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(
      'WPFLEET_SMTP_URL',
      'expected smtp://user:password@host:port or smtps://…',
    );
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new ConfigError('WPFLEET_SMTP_URL', `${url.protocol} is not smtp: or smtps:`);
  }
  if (url.hostname === '') throw new ConfigError('WPFLEET_SMTP_URL', 'the URL names no host');
  return raw.trim();
}

const ADDRESS = /^[^\s@<>"]{1,64}@[^\s@<>"]{1,255}$/;

/** `address` or `Display Name <address>`, on one line. */
function mailFrom(raw: string | undefined, baseDomain: string): string {
  if (raw === undefined || raw.trim() === '') return `wpfleet@${baseDomain}`;
  const value = raw.trim();
  const named = /^[^<>\r\n]*<([^<>]+)>$/.exec(value);
  if (!ADDRESS.test(named?.[1] ?? value)) {
    throw new ConfigError('WPFLEET_MAIL_FROM', `"${value}" is not an address or Name <address>`);
  }
  return value;
}

/**
 * `WPFLEET_CACHE_DIR`, else the XDG base directory spec's cache folder: `$XDG_CACHE_HOME/wpfleet`
 * when that is an absolute path (the spec says to ignore a relative one), else
 * `~/.cache/wpfleet`. Outside the data directory on purpose: a second data directory on the
 * machine reuses what the first fetched.
 */
function machineCacheDir(env: NodeJS.ProcessEnv): string {
  if (env.WPFLEET_CACHE_DIR !== undefined && env.WPFLEET_CACHE_DIR !== '') {
    return path.resolve(env.WPFLEET_CACHE_DIR);
  }
  const xdg = env.XDG_CACHE_HOME;
  if (xdg !== undefined && path.isAbsolute(xdg)) return path.join(xdg, 'wpfleet');
  const home = env.HOME !== undefined && path.isAbsolute(env.HOME) ? env.HOME : os.homedir();
  return path.join(home, '.cache', 'wpfleet');
}

/**
 * Reads every setting once, from flags first and then the environment, and refuses the first
 * bad one with a ConfigError naming it. Nothing else in the program reads process.env.
 */
export function loadConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv): Config {
  const dataDir = path.resolve(flags.data ?? env.WPFLEET_DATA ?? './data');
  const port = integer(
    nameOf('--port', 'WPFLEET_PORT', flags.port),
    flags.port ?? env.WPFLEET_PORT ?? '8080',
    0,
    65535,
  );
  const host = flags.host ?? env.WPFLEET_HOST ?? '127.0.0.1';
  if (host === '') {
    throw new ConfigError(nameOf('--host', 'WPFLEET_HOST', flags.host), 'must not be empty');
  }

  const baseDomain = (flags.baseDomain ?? env.WPFLEET_BASE_DOMAIN ?? 'localhost').toLowerCase();
  if (!HOSTNAME.test(baseDomain)) {
    throw new ConfigError(
      nameOf('--base-domain', 'WPFLEET_BASE_DOMAIN', flags.baseDomain),
      `"${baseDomain}" is not a hostname`,
    );
  }

  const trustProxy =
    flags.trustProxy ?? boolean('WPFLEET_TRUST_PROXY', env.WPFLEET_TRUST_PROXY ?? 'false');

  const defaultPhpVersion = env.WPFLEET_PHP_VERSION ?? '8.3';
  if (!PHP_VERSIONS.includes(defaultPhpVersion)) {
    throw new ConfigError(
      'WPFLEET_PHP_VERSION',
      `"${defaultPhpVersion}" is not one of ${PHP_VERSIONS.join(', ')}`,
    );
  }

  const logLevel = env.WPFLEET_LOG_LEVEL ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError('WPFLEET_LOG_LEVEL', `"${logLevel}" is not a pino level`);
  }

  const cacheDir = machineCacheDir(env);

  return {
    host,
    port,
    dataDir,
    database: database(
      flags.databaseUrl ?? env.DATABASE_URL,
      dataDir,
      nameOf('--database-url', 'DATABASE_URL', flags.databaseUrl),
    ),
    baseDomain,
    trustProxy,
    rateLimits: {
      accountPerHour: integer(
        'WPFLEET_RATE_LIMIT_ACCOUNT_HOUR',
        env.WPFLEET_RATE_LIMIT_ACCOUNT_HOUR ?? '1000',
        0,
        1e9,
      ),
      ipPerMinute: integer(
        'WPFLEET_RATE_LIMIT_IP_MINUTE',
        env.WPFLEET_RATE_LIMIT_IP_MINUTE ?? '100',
        0,
        1e9,
      ),
    },
    defaultPhpVersion,
    logLevel,
    cacheDir,
    wordpressDatabase: wordpressDatabase(
      flags.wpDatabaseUrl ?? env.WPFLEET_WP_DATABASE_URL,
      nameOf('--wp-database-url', 'WPFLEET_WP_DATABASE_URL', flags.wpDatabaseUrl),
    ),
    jobs: boolean('WPFLEET_JOBS', env.WPFLEET_JOBS ?? 'true'),
    php: {
      perInstall: integer('WPFLEET_PHP_PER_INSTALL', env.WPFLEET_PHP_PER_INSTALL ?? '1', 1, 64),
      total: integer('WPFLEET_PHP_TOTAL', env.WPFLEET_PHP_TOTAL ?? '8', 1, 1024),
      idleSeconds: integer(
        'WPFLEET_PHP_IDLE_SECONDS',
        env.WPFLEET_PHP_IDLE_SECONDS ?? '300',
        1,
        86400,
      ),
      timeoutSeconds: integer(
        'WPFLEET_PHP_TIMEOUT_SECONDS',
        env.WPFLEET_PHP_TIMEOUT_SECONDS ?? '120',
        1,
        3600,
      ),
      networkAllow: cidrList('WPFLEET_PHP_NETWORK_ALLOW', env.WPFLEET_PHP_NETWORK_ALLOW),
      queueSeconds: integer(
        'WPFLEET_PHP_QUEUE_SECONDS',
        env.WPFLEET_PHP_QUEUE_SECONDS ?? '30',
        1,
        3600,
      ),
    },
    publicAddresses: publicAddresses(env.WPFLEET_PUBLIC_ADDRESSES),
    dnsServers: dnsServers(env.WPFLEET_DNS_SERVERS),
    mail: {
      smtpUrl: smtpUrl(env.WPFLEET_SMTP_URL),
      from: mailFrom(env.WPFLEET_MAIL_FROM, baseDomain),
    },
    backups: {
      retentionDays: integer(
        'WPFLEET_BACKUP_RETENTION_DAYS',
        env.WPFLEET_BACKUP_RETENTION_DAYS ?? '30',
        1,
        36500,
      ),
      reserveBytes:
        integer('WPFLEET_BACKUP_RESERVE_MB', env.WPFLEET_BACKUP_RESERVE_MB ?? '100', 0, 1e9) *
        1024 *
        1024,
    },
    packages: {
      mirrorDir:
        env.WPFLEET_MIRROR_DIR !== undefined && env.WPFLEET_MIRROR_DIR !== ''
          ? path.resolve(env.WPFLEET_MIRROR_DIR)
          : path.join(dataDir, 'mirror'),
      wordpressOrg: boolean('WPFLEET_WPORG', env.WPFLEET_WPORG ?? 'on'),
      fetchAllow: cidrList('WPFLEET_FETCH_ALLOW', env.WPFLEET_FETCH_ALLOW),
    },
    cron: {
      intervalSeconds: integer('WPFLEET_CRON_INTERVAL', env.WPFLEET_CRON_INTERVAL ?? '20', 0, 3600),
      concurrency: integer('WPFLEET_CRON_CONCURRENCY', env.WPFLEET_CRON_CONCURRENCY ?? '2', 1, 64),
      timeoutSeconds: integer('WPFLEET_CRON_TIMEOUT', env.WPFLEET_CRON_TIMEOUT ?? '60', 15, 3600),
    },
    releaseSources: releaseSources(env.WPFLEET_RELEASE_SOURCES ?? RELEASE_SOURCES.join(',')),
    wordpressOrg: {
      api: baseUrl(
        'WPFLEET_WORDPRESS_ORG_API',
        env.WPFLEET_WORDPRESS_ORG_API,
        'https://api.wordpress.org',
      ),
      downloads: baseUrl(
        'WPFLEET_WORDPRESS_ORG_DOWNLOADS',
        env.WPFLEET_WORDPRESS_ORG_DOWNLOADS,
        'https://downloads.wordpress.org',
      ),
    },
  };
}
