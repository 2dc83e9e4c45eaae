import { Worker } from 'node:worker_threads';
import type {
  PhpRequest,
  PhpResponse,
  PhpRuntime,
  PhpScriptResult,
  RuntimeStats,
  SiteMount,
} from '../types.js';
import type { FromWorker, ToWorker, WorkerData } from './messages.js';

export const WASM_PHP_VERSIONS = ['7.4', '8.0', '8.1', '8.2', '8.3', '8.4', '8.5'] as const;

// src/runtime/php/wasm and dist/runtime/php/wasm sit at the same depth: the worker always runs
// from the compiled tree, also when this module is loaded from source by the tests.
const WORKER_URL = new URL('../../../../dist/runtime/php/wasm/worker.js', import.meta.url);

export interface WasmPoolOptions {
  /** PHP instances one install may run at once. */
  perInstall: number;
  /** PHP instances across all installs. */
  total: number;
  /** An install's instances stop after this long without a request. */
  idleMs: number;
  /** A request (or script) taking longer is treated as hung: its instance is replaced. */
  timeoutMs: number;
}

type Outcome =
  { kind: 'response'; response: PhpResponse } | { kind: 'script'; result: PhpScriptResult };

interface Instance {
  worker: Worker;
  pool: InstallPool;
  ready: Promise<void>;
  busy: boolean;
  site: SiteMount;
  pending: Map<number, { resolve: (o: Outcome) => void; reject: (e: Error) => void }>;
}

interface InstallPool {
  instances: Instance[];
  waiting: (() => void)[];
  idleTimer: NodeJS.Timeout | undefined;
}

export class PhpTimeoutError extends Error {}
export class PhpCrashError extends Error {}

/**
 * php-wasm in worker threads: each PHP instance is a thread serving one install. Instances start
 * on an install's first request and stop when it idles, so idle installs hold no memory.
 */
export class WasmRuntime implements PhpRuntime {
  readonly kind = 'wasm';
  readonly versions = WASM_PHP_VERSIONS;
  private readonly pools = new Map<string, InstallPool>();
  private nextId = 1;
  private nextProcessId = 1;
  private closed = false;

  constructor(private readonly options: WasmPoolOptions) {}

  async request(site: SiteMount, request: PhpRequest): Promise<PhpResponse> {
    const outcome = await this.dispatch(site, (id) => ({ kind: 'request', id, request }));
    if (outcome.kind !== 'response')
      throw new Error('php worker answered a request with a script result');
    return outcome.response;
  }

  async runScript(site: SiteMount, code: string): Promise<PhpScriptResult> {
    const outcome = await this.dispatch(site, (id) => ({ kind: 'script', id, code }));
    if (outcome.kind !== 'script') throw new Error('php worker answered a script with a response');
    return outcome.result;
  }

  async unload(installId: string): Promise<void> {
    const pool = this.pools.get(installId);
    if (pool === undefined) return;
    this.pools.delete(installId);
    clearTimeout(pool.idleTimer);
    await Promise.all(
      pool.instances.map((i) => this.stopInstance(i, new PhpCrashError('PHP was unloaded'))),
    );
  }

  stats(): RuntimeStats {
    let instances = 0;
    let queued = 0;
    for (const pool of this.pools.values()) {
      instances += pool.instances.length;
      queued += pool.waiting.length;
    }
    return {
      activeInstalls: [...this.pools.values()].filter((p) => p.instances.length > 0).length,
      instances,
      queued,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.pools.keys()].map((id) => this.unload(id)));
  }

  private pool(installId: string): InstallPool {
    let pool = this.pools.get(installId);
    if (pool === undefined) {
      pool = { instances: [], waiting: [], idleTimer: undefined };
      this.pools.set(installId, pool);
    }
    return pool;
  }

  private totalInstances(): number {
    let n = 0;
    for (const pool of this.pools.values()) n += pool.instances.length;
    return n;
  }

  private async dispatch(site: SiteMount, message: (id: number) => ToWorker): Promise<Outcome> {
    if (this.closed) throw new PhpCrashError('the PHP runtime is closed');
    const pool = this.pool(site.installId);
    clearTimeout(pool.idleTimer);
    const instance = await this.acquire(pool, site);
    try {
      await instance.ready;
      return await this.send(instance, message(this.nextId++));
    } finally {
      instance.busy = false;
      pool.waiting.shift()?.();
      this.scheduleIdle(site.installId, pool);
    }
  }

  /** A free instance of the install, a new one if the limits allow, or the next one freed. */
  private async acquire(pool: InstallPool, site: SiteMount): Promise<Instance> {
    for (;;) {
      // An instance booted for an older version or layout is not reused.
      const free = pool.instances.find((i) => !i.busy && sameSite(i.site, site));
      if (free !== undefined) {
        free.busy = true;
        return free;
      }
      const stale = pool.instances.find((i) => !i.busy && !sameSite(i.site, site));
      if (stale !== undefined) await this.stopInstance(stale, new PhpCrashError('replaced'));
      if (
        pool.instances.length < this.options.perInstall &&
        this.totalInstances() < this.options.total
      ) {
        const instance = this.start(pool, site);
        instance.busy = true;
        return instance;
      }
      await new Promise<void>((resolve) => pool.waiting.push(resolve));
    }
  }

  private start(pool: InstallPool, site: SiteMount): Instance {
    const data: WorkerData = { site, processId: this.nextProcessId++ };
    const worker = new Worker(WORKER_URL, { workerData: data });
    const instance: Instance = {
      worker,
      pool,
      busy: false,
      site,
      pending: new Map(),
      ready: Promise.resolve(),
    };
    instance.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: FromWorker) => {
        if (m.kind === 'ready') resolve();
        else if (m.kind === 'boot-failed')
          reject(new PhpCrashError(`PHP failed to start: ${m.message}`));
        else {
          const waiter = instance.pending.get(m.id);
          instance.pending.delete(m.id);
          if (waiter === undefined) return;
          if (m.kind === 'error') waiter.reject(new Error(m.message));
          else if (m.kind === 'response')
            waiter.resolve({ kind: 'response', response: m.response });
          else waiter.resolve({ kind: 'script', result: m.result });
        }
      });
      const gone = (err: Error): void => {
        reject(err);
        for (const w of instance.pending.values()) w.reject(err);
        instance.pending.clear();
        pool.instances = pool.instances.filter((i) => i !== instance);
        pool.waiting.shift()?.();
      };
      worker.on('error', (err) => {
        gone(new PhpCrashError(`PHP crashed: ${err.message}`));
      });
      worker.on('exit', (code) => {
        gone(new PhpCrashError(`PHP exited (${code})`));
      });
    });
    // Unhandled until the first request awaits it.
    instance.ready.catch(() => undefined);
    pool.instances.push(instance);
    return instance;
  }

  private send(instance: Instance, message: ToWorker): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        // A hung PHP cannot be interrupted from outside: the thread is replaced.
        void this.stopInstance(
          instance,
          new PhpTimeoutError(`PHP did not answer within ${this.options.timeoutMs} ms`),
        );
      }, this.options.timeoutMs);
      instance.pending.set(message.id, {
        resolve: (o) => {
          clearTimeout(timer);
          resolve(o);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      instance.worker.postMessage(message);
    });
  }

  private async stopInstance(instance: Instance, reason: Error): Promise<void> {
    // Out of the pool at once: a request arriving while the thread winds down gets a new one.
    instance.pool.instances = instance.pool.instances.filter((i) => i !== instance);
    for (const w of instance.pending.values()) w.reject(reason);
    instance.pending.clear();
    await instance.worker.terminate();
  }

  private scheduleIdle(installId: string, pool: InstallPool): void {
    clearTimeout(pool.idleTimer);
    pool.idleTimer = setTimeout(() => {
      // A pool replaced since (unloaded, then used again) is not this timer's to stop.
      if (this.pools.get(installId) !== pool) return;
      if (pool.instances.some((i) => i.busy) || pool.waiting.length > 0) return;
      void this.unload(installId);
    }, this.options.idleMs);
    pool.idleTimer.unref();
  }
}

function sameSite(a: SiteMount, b: SiteMount): boolean {
  return (
    a.phpVersion === b.phpVersion &&
    a.releaseDir === b.releaseDir &&
    a.contentDir === b.contentDir &&
    a.configFile === b.configFile &&
    a.absoluteUrl === b.absoluteUrl
  );
}
