import type {
  PhpRequest,
  PhpResponse,
  PhpRuntime,
  PhpScriptResult,
  RefusedConnection,
  RuntimeStats,
  SiteMount,
} from '../types.js';
import type { FromWorker, RuntimeBase, ToWorker, WorkerData } from './messages.js';
import { PhpHost, type InstanceChannel } from './php-host.js';

export const WASM_PHP_VERSIONS = ['7.4', '8.0', '8.1', '8.2', '8.3', '8.4', '8.5'] as const;

export interface WasmPoolOptions {
  /** PHP instances one install may run at once. */
  perInstall: number;
  /** PHP instances across all installs, spares included. */
  total: number;
  /** An install's instances (and a spare) stop after this long without use. */
  idleMs: number;
  /** A request (or script) taking longer is treated as hung: its instance is replaced. */
  timeoutMs: number;
  /** Node options of the PHP host process; `HOST_EXEC_ARGV` by default. */
  hostExecArgv?: string[];
  /** Private CIDR blocks installs' PHP may reach (`WPFLEET_PHP_NETWORK_ALLOW`). */
  networkAllow?: string[];
  /** Told of each connection the network policy refused (docs/security.md). */
  onRefused?: (connection: RefusedConnection) => void;
}

/**
 * V8 compiles PHP's wasm with Liftoff, then again with TurboFan for the functions it finds hot.
 * Measured on WordPress's home page, TurboFan's code and compile memory cost about 90 MB per host
 * for no measurable gain in page time (see docs/benchmarks.md): the host runs Liftoff only.
 */
export const HOST_EXEC_ARGV = ['--liftoff-only'];

type Outcome =
  | { kind: 'response'; response: PhpResponse }
  | { kind: 'script'; result: PhpScriptResult }
  | { kind: 'assigned' };

interface InstallPool {
  instances: Instance[];
  waiting: (() => void)[];
  idleTimer: NodeJS.Timeout | undefined;
}

interface Instance {
  channel: InstanceChannel;
  base: RuntimeBase;
  /** The install it serves; null while it is a spare. */
  site: SiteMount | null;
  pool: InstallPool | null;
  ready: Promise<void>;
  busy: boolean;
  pending: Map<number, { resolve: (o: Outcome) => void; reject: (e: Error) => void }>;
  spareTimer?: NodeJS.Timeout;
}

export class PhpTimeoutError extends Error {}
export class PhpCrashError extends Error {}

/**
 * php-wasm in worker threads of one PHP host process (php-host.ts): each PHP instance is a thread
 * serving one install. Instances start on an install's first request and stop when it idles; the
 * host process ends with its last instance, so idle installs hold no memory. One spare per
 * release and PHP version, booted and compiled ahead, takes a new install's first request without
 * the cold start.
 */
export class WasmRuntime implements PhpRuntime {
  readonly kind = 'wasm';
  readonly versions = WASM_PHP_VERSIONS;
  private readonly pools = new Map<string, InstallPool>();
  private spares: Instance[] = [];
  private nextId = 1;
  private nextProcessId = 1;
  private closed = false;
  private readonly host: PhpHost;

  constructor(private readonly options: WasmPoolOptions) {
    this.host = new PhpHost({ execArgv: options.hostExecArgv ?? HOST_EXEC_ARGV });
  }

  /** The PHP host process's id while any instance runs (for tests and measurements). */
  get hostPid(): number | undefined {
    return this.host.pid;
  }

  async request(site: SiteMount, request: PhpRequest): Promise<PhpResponse> {
    const outcome = await this.dispatch(site, (id) => ({ kind: 'request', id, request }));
    if (outcome.kind !== 'response') throw new Error('php worker answered a request oddly');
    return outcome.response;
  }

  async runScript(site: SiteMount, code: string): Promise<PhpScriptResult> {
    const outcome = await this.dispatch(site, (id) => ({ kind: 'script', id, code }));
    if (outcome.kind !== 'script') throw new Error('php worker answered a script oddly');
    return outcome.result;
  }

  /** Boots a spare for this release and PHP version if there is none and the limit allows. */
  prewarm(base: RuntimeBase): void {
    if (this.closed || this.spares.some((s) => sameBase(s.base, base))) return;
    if (this.totalInstances() >= this.options.total) return;
    const spare = this.spawn(base, null, null);
    this.spares.push(spare);
    spare.spareTimer = setTimeout(() => {
      void this.stopInstance(spare, new PhpCrashError('spare idled out'));
    }, this.options.idleMs);
    spare.spareTimer.unref();
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
    let instances = this.spares.length;
    let queued = 0;
    let activeInstalls = 0;
    for (const pool of this.pools.values()) {
      instances += pool.instances.length;
      queued += pool.waiting.length;
      if (pool.instances.length > 0) activeInstalls += 1;
    }
    return { activeInstalls, instances, queued };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.spares.map((s) => this.stopInstance(s, new PhpCrashError('closed'))));
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
    let n = this.spares.length;
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
      // An instance started for an older version or layout is not reused.
      const free = pool.instances.find((i) => !i.busy && i.site !== null && sameSite(i.site, site));
      if (free !== undefined) {
        free.busy = true;
        return free;
      }
      const stale = pool.instances.find((i) => !i.busy);
      if (stale !== undefined) await this.stopInstance(stale, new PhpCrashError('replaced'));
      if (pool.instances.length < this.options.perInstall && this.makeRoom()) {
        const instance = this.start(pool, site);
        instance.busy = true;
        return instance;
      }
      await new Promise<void>((resolve) => pool.waiting.push(resolve));
    }
  }

  /** Whether one more instance fits, stopping an unmatched spare to make room if need be. */
  private makeRoom(): boolean {
    if (this.totalInstances() < this.options.total) return true;
    const spare = this.spares[0];
    if (spare === undefined) return false;
    void this.stopInstance(spare, new PhpCrashError('spare given up for an install'));
    return true;
  }

  /** The install's new instance: a matching spare assigned to it, or a fresh thread. */
  private start(pool: InstallPool, site: SiteMount): Instance {
    const base = { phpVersion: site.phpVersion, releaseDir: site.releaseDir };
    const spare = this.spares.find((s) => sameBase(s.base, base));
    if (spare === undefined) {
      const instance = this.spawn(base, site, pool);
      pool.instances.push(instance);
      return instance;
    }
    this.spares = this.spares.filter((s) => s !== spare);
    clearTimeout(spare.spareTimer);
    spare.site = site;
    spare.pool = pool;
    const booted = spare.ready;
    spare.ready = booted.then(async () => {
      await this.send(spare, { kind: 'assign', id: this.nextId++, site });
      // The next new install gets a spare too.
      this.prewarm(base);
    });
    spare.ready.catch(() => undefined);
    pool.instances.push(spare);
    return spare;
  }

  private spawn(base: RuntimeBase, site: SiteMount | null, pool: InstallPool | null): Instance {
    const data: WorkerData = {
      base,
      site,
      processId: this.nextProcessId++,
      networkAllow: this.options.networkAllow ?? [],
    };
    let booted: { resolve: () => void; reject: (err: Error) => void } | undefined;
    const ready = new Promise<void>((resolve, reject) => {
      booted = { resolve, reject };
    });
    // Unhandled until the first request awaits it.
    ready.catch(() => undefined);
    const gone = (err: Error): void => {
      booted?.reject(err);
      this.detach(instance, err);
    };
    const channel = this.host.spawn(data, {
      message: (m) => {
        if (m.kind === 'ready') booted?.resolve();
        else if (m.kind === 'refused') {
          this.options.onRefused?.({ installId: instance.site?.installId ?? '', ...m.connection });
        } else if (m.kind === 'boot-failed') {
          booted?.reject(new PhpCrashError(`PHP failed to start: ${m.message}`));
        } else settle(instance, m);
      },
      error: (err) => {
        gone(new PhpCrashError(`PHP crashed: ${err.message}`));
      },
      exit: (code) => {
        gone(new PhpCrashError(`PHP exited (${code})`));
      },
    });
    const instance: Instance = {
      channel,
      base,
      site,
      pool,
      busy: false,
      pending: new Map(),
      ready,
    };
    return instance;
  }

  /** Takes an instance out of service at once: its waiters fail, its place is free. */
  private detach(instance: Instance, reason: Error): void {
    for (const w of instance.pending.values()) w.reject(reason);
    instance.pending.clear();
    clearTimeout(instance.spareTimer);
    this.spares = this.spares.filter((s) => s !== instance);
    const pool = instance.pool;
    if (pool !== null) {
      pool.instances = pool.instances.filter((i) => i !== instance);
      pool.waiting.shift()?.();
    }
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
      instance.channel.post(message);
    });
  }

  private async stopInstance(instance: Instance, reason: Error): Promise<void> {
    this.detach(instance, reason);
    await instance.channel.terminate();
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

/** Hands a worker's answer to the request waiting for it. */
function settle(
  instance: Instance,
  m: Exclude<FromWorker, { kind: 'ready' | 'boot-failed' | 'refused' }>,
): void {
  const waiter = instance.pending.get(m.id);
  instance.pending.delete(m.id);
  if (waiter === undefined) return;
  if (m.kind === 'error') waiter.reject(new Error(m.message));
  else if (m.kind === 'response') waiter.resolve({ kind: 'response', response: m.response });
  else if (m.kind === 'script') waiter.resolve({ kind: 'script', result: m.result });
  else waiter.resolve({ kind: 'assigned' });
}

function sameBase(a: RuntimeBase, b: RuntimeBase): boolean {
  return a.phpVersion === b.phpVersion && a.releaseDir === b.releaseDir;
}

function sameSite(a: SiteMount, b: SiteMount): boolean {
  return (
    sameBase(a, b) &&
    a.contentDir === b.contentDir &&
    a.configFile === b.configFile &&
    a.absoluteUrl === b.absoluteUrl
  );
}
