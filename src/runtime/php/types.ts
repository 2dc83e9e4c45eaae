import type { SiteDatabase } from './network-policy.js';

/** What a PHP runtime needs to run one install: its files and its address. */
export interface SiteMount {
  installId: string;
  phpVersion: string;
  /** The shared, read-only WordPress core of the install's release. */
  releaseDir: string;
  /** The install's own wp-content. */
  contentDir: string;
  /** The install's own wp-config.php. */
  configFile: string;
  /** Scheme, host and port WordPress is reached at, e.g. `http://blog.localhost:8080`. */
  absoluteUrl: string;
  /** The install's MySQL database, the one private address its PHP may reach; none on SQLite. */
  database?: SiteDatabase;
}

/** A connection an install's PHP asked for and the network policy refused (docs/security.md). */
export interface RefusedConnection {
  installId: string;
  host: string;
  port: number;
  address?: string;
  reason: string;
}

export interface PhpRequest {
  method: string;
  /** Path and query, e.g. `/wp-login.php?action=lostpassword`. */
  url: string;
  headers: Record<string, string>;
  body?: Uint8Array;
}

export interface PhpResponse {
  status: number;
  headers: Record<string, string[]>;
  body: Uint8Array;
}

export interface PhpScriptResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RuntimeStats {
  /** Installs with at least one PHP instance loaded. */
  activeInstalls: number;
  instances: number;
  /** Requests and scripts waiting for a PHP instance. */
  queued: number;
  /** Idle instances stopped, since the start, to make room for another install's. */
  evictions: number;
}

/**
 * No PHP instance could be had within the queue timeout: all were busy. The request never reached
 * PHP, so it can be sent again as it is; visitors get a 503 with Retry-After.
 */
export class PhpBusyError extends Error {
  override readonly name = 'PhpBusyError';
}

/**
 * Runs PHP for installs, off the main event loop. `wasm` (php-wasm in worker threads) is the
 * first implementation; a native php-fpm one can take the same place.
 */
export interface PhpRuntime {
  readonly kind: string;
  /** PHP versions this runtime can run. */
  readonly versions: readonly string[];
  /**
   * Answers a request on one of the install's instances. When none can be had at once (the
   * limits are reached and none is idle), it waits its turn; past the queue timeout it fails
   * with PhpBusyError.
   */
  request(site: SiteMount, request: PhpRequest): Promise<PhpResponse>;
  /** Runs a PHP script inside the install's WordPress tree (cwd /wordpress); queued likewise. */
  runScript(site: SiteMount, code: string): Promise<PhpScriptResult>;
  /**
   * Readies a PHP instance for installs of this release and PHP version ahead of their first
   * request (a hint: a runtime may do nothing).
   */
  prewarm(base: { phpVersion: string; releaseDir: string }): void;
  /** Stops the install's PHP instances (after a PHP version change, or on delete). */
  unload(installId: string): Promise<void>;
  stats(): RuntimeStats;
  close(): Promise<void>;
}
