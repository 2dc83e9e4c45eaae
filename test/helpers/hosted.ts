import { basicAuth } from './harness.js';
import { ensureBuilt, startServe, type ServeOptions, type ServeProcess } from './cli.js';
import { SHARED_CACHE, testStore, type TestStore } from './engines.js';
import { waitFor } from './site.js';

/**
 * `wpfleet serve` hosting real WordPress (Debian's release, unpacked by the release source) with
 * the job runner on, for the end-to-end tests. The release is cached across runs, in SHARED_CACHE.
 */
export { SHARED_CACHE };

export interface HostedInstall {
  id: string;
  name: string;
  status: string;
  wp_version: string | null;
  php_version: string;
}

export interface ApiResult<T> {
  status: number;
  body: T;
}

export interface Hosted {
  store: TestStore;
  serve: ServeProcess;
  /** The port `serve` listens on, as a string. */
  port: string;
  /** `Authorization` header value of the first-start user. */
  auth: string;
  /** The first-start account. */
  accountId: string;
  /** One WP Engine API call with the first-start user's credentials. */
  api<T>(method: string, p: string, body?: unknown): Promise<ApiResult<T>>;
  /** Polls the API until the install is active (a release, the installer and a boot). */
  waitActive(id: string, timeoutMs?: number): Promise<HostedInstall>;
  /**
   * Stops `serve` (if it still runs) and starts it again on the same store and port, with `env`
   * added (e.g. WPFLEET_CRASH_AT); `serve` is the new process afterwards.
   */
  restart(env?: Record<string, string>): Promise<ServeProcess>;
  stop(): Promise<void>;
}

/** MariaDB on this machine (and CI's), for installs with their own MySQL database. */
export const MARIADB_URL = process.env.WPFLEET_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';

/**
 * A fresh SQLite store and `wpfleet serve` on it, with its first-start credentials. `env` adds
 * settings, e.g. WPFLEET_WP_DATABASE_URL for installs on MariaDB; `options` apply to every start.
 */
export async function startHosted(
  env: Record<string, string> = {},
  options: ServeOptions = {},
): Promise<Hosted> {
  await ensureBuilt();
  const store = await testStore('sqlite', {
    WPFLEET_JOBS: 'true',
    WPFLEET_RELEASE_SOURCES: 'debian',
    WPFLEET_CACHE_DIR: SHARED_CACHE,
    // Installs' cron would wake their PHP and change their databases under tests that count PHP
    // instances or compare databases; test/e2e/cron.test.ts turns it on.
    WPFLEET_CRON_INTERVAL: '0',
    ...env,
  });
  let serve: ServeProcess;
  try {
    serve = await startServe(store.env, [], undefined, options);
  } catch (err) {
    await store.dispose();
    throw err;
  }
  const user = /username: (\S+)/.exec(serve.stdout)?.[1] ?? '';
  const password = /password: (\S+)/.exec(serve.stdout)?.[1] ?? '';
  const auth = basicAuth(user, password);

  const api = async <T>(method: string, p: string, body?: unknown): Promise<ApiResult<T>> => {
    const res = await fetch(`${serve.url}${p}`, {
      method,
      headers: {
        authorization: auth,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
  };

  const stop = async (): Promise<void> => {
    await serve.stop();
    await store.dispose();
  };
  const port = new URL(serve.url).port;
  const restart = async (extra: Record<string, string> = {}): Promise<ServeProcess> => {
    await serve.stop();
    serve = await startServe({ ...store.env, ...extra }, ['--port', port], undefined, options);
    return serve;
  };

  let accountId: string;
  try {
    const accounts = await api<{ results: { id: string }[] }>('GET', '/v1/accounts');
    accountId = accounts.body.results[0]?.id ?? '';
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    store,
    get serve() {
      return serve;
    },
    port,
    auth,
    accountId,
    api,
    waitActive: (id, timeoutMs = 280_000) =>
      waitFor(
        'the install to become active',
        async () => {
          const r = await api<HostedInstall>('GET', `/v1/installs/${id}`);
          return r.body.status === 'active' ? r.body : undefined;
        },
        timeoutMs,
        500,
      ),
    restart,
    stop,
  };
}
