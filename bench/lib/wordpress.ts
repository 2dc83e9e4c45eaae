import { execFile } from 'node:child_process';
import http from 'node:http';
import { promisify } from 'node:util';
import { SHARED_CACHE } from '../../test/helpers/hosted.js';
import { testStore, type TestStore } from '../../test/helpers/engines.js';
import { request, sleep, type Reply } from './http.js';
import { freePort, launchServer, stopServer, type LaunchedServer } from './process.js';

const run = promisify(execFile);

export interface Install {
  id: string;
  name: string;
  status: string;
  wp_version: string | null;
  php_version: string;
}

/** `wpfleet serve` hosting real WordPress (Debian's release) with its job runner, on SQLite. */
export interface WordPressServer {
  store: TestStore;
  pid: number;
  port: number;
  base: string;
  accountId: string;
  /** The shared core of the release the installs run on. */
  releaseRoot: string;
  /** How long adding the release took (it is added before the server starts). */
  releaseAddMs: number;
  /** The server's latest output (warnings and errors only, unless the log level says more). */
  recentOutput(): string;
  /** Calls `listener` with each whole line the server prints from now on (its log, as JSON). */
  onLine(listener: (line: string) => void): void;
  api<T>(method: string, path: string, body?: unknown, agent?: http.Agent): Promise<ApiReply<T>>;
  /** GET (or `method`) on an install's host through the edge. */
  site(
    name: string,
    path: string,
    headers?: Record<string, string>,
    agent?: http.Agent,
  ): Promise<Reply>;
  stop(): Promise<void>;
}

export interface ApiReply<T> {
  status: number;
  body: T;
  ms: number;
}

/** A fresh SQLite store with the benchmarks' settings: jobs on, Debian's release, the tests' cache. */
export function benchStore(env: Record<string, string>): Promise<TestStore> {
  return testStore('sqlite', {
    WPFLEET_JOBS: 'true',
    WPFLEET_RELEASE_SOURCES: 'debian',
    WPFLEET_CACHE_DIR: SHARED_CACHE,
    WPFLEET_LOG_LEVEL: 'warn',
    ...env,
  });
}

/**
 * A fresh store with Debian's WordPress added as a release (from the tests' shared download
 * cache, so nothing is fetched twice), and `wpfleet serve` on it with the given extra settings.
 */
export async function startWordPress(env: Record<string, string>): Promise<WordPressServer> {
  const store = await benchStore(env);
  let launched: LaunchedServer;
  let releaseRoot: string;
  let releaseAddMs: number;
  try {
    const t0 = performance.now();
    const added = await run(
      process.execPath,
      ['bin/wpfleet.js', 'releases', 'add', '--source', 'debian', '--json'],
      { env: { ...process.env, ...store.env }, timeout: 300_000 },
    );
    releaseRoot = (JSON.parse(added.stdout) as { path: string }).path;
    releaseAddMs = performance.now() - t0;
    launched = await launchServer(store.env, await freePort(), /Try it:/);
  } catch (err) {
    await store.dispose();
    throw err;
  }
  return connect(store, launched, { releaseRoot, releaseAddMs });
}

/**
 * The WordPressServer of `wpfleet serve` launched on a fresh `store` (its output holds the
 * first start's credential); stopping it disposes of the store.
 */
export async function connect(
  store: TestStore,
  launched: LaunchedServer,
  release: { releaseRoot: string; releaseAddMs: number },
): Promise<WordPressServer> {
  const { releaseRoot, releaseAddMs } = release;
  const url = /listening on (http:\/\/\S+)/.exec(launched.output)?.[1] ?? '';
  const user = /username: (\S+)/.exec(launched.output)?.[1] ?? '';
  const password = /password: (\S+)/.exec(launched.output)?.[1] ?? '';
  const auth = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const port = Number(new URL(url).port);

  const api = async <T>(
    method: string,
    path: string,
    body?: unknown,
    agent?: http.Agent,
  ): Promise<ApiReply<T>> => {
    const json = body === undefined ? undefined : JSON.stringify(body);
    const r = await request(url, path, {
      method,
      headers: {
        authorization: auth,
        ...(json === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(json === undefined ? {} : { body: json }),
      ...(agent === undefined ? {} : { agent }),
    });
    const text = r.body.toString('utf8');
    return { status: r.status, body: (text === '' ? undefined : JSON.parse(text)) as T, ms: r.ms };
  };
  const stop = async (): Promise<void> => {
    await stopServer(launched.child);
    await store.dispose();
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
    pid: launched.child.pid ?? 0,
    port,
    base: url,
    accountId,
    releaseRoot,
    releaseAddMs,
    recentOutput: () => launched.recent(),
    onLine: (listener) => {
      let partial = '';
      launched.child.stdout?.on('data', (chunk: Buffer) => {
        const lines = (partial + chunk.toString()).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) listener(line);
      });
    },
    api,
    site: (name, path, headers = {}, agent) =>
      request(url, path, {
        headers: { host: `${name}.localhost:${port}`, ...headers },
        ...(agent === undefined ? {} : { agent }),
      }),
    stop,
  };
}

/** POSTs a new install; resolves with it once the API has answered 201. */
export async function createInstall(wp: WordPressServer, name: string): Promise<Install> {
  const r = await wp.api<Install>('POST', '/v1/installs', { name, account_id: wp.accountId });
  if (r.status !== 201) throw new Error(`POST /v1/installs answered ${r.status}`);
  return r.body;
}

/** Polls the API (every 250 ms, `timeoutMs` at most) until each install is active. */
export async function waitActive(
  wp: WordPressServer,
  ids: string[],
  timeoutMs: number,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (const id of ids) {
    for (;;) {
      const r = await wp.api<Install>('GET', `/v1/installs/${id}`);
      if (r.body.status === 'active') break;
      if (performance.now() > deadline) throw new Error(`install ${id} is not active in time`);
      await sleep(250);
    }
  }
}

/**
 * Runs a bench's work against the server, then stops it; if the work fails, prints what the
 * server last said first.
 */
export async function whileServing(wp: WordPressServer, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (err) {
    console.error(`\nthe benchmark failed; the server's last output:\n${wp.recentOutput()}`);
    throw err;
  } finally {
    await wp.stop();
  }
}
