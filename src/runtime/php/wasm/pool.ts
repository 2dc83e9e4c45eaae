import type { Logger } from 'pino';
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
import { WaitQueue, type Waiter } from './wait-queue.js';

export const WASM_PHP_VERSIONS = ['7.4', '8.0', '8.1', '8.2', '8.3', '8.4', '8.5'] as const;

export interface WasmPoolOptions {
  /** PHP instances one install may run at once. */
  perInstall: number;
  /** PHP instances across all installs, spares and instances still stopping included. */
  total: number;
  /** An install's instances (and a spare) stop after this long without use. */
  idleMs: number;
  /** A request (or script) taking longer is treated as hung: its instance is replaced. */
  timeoutMs: number;
  /**
   * A request (or script) that gets no instance within this long fails with PhpBusyError;
   * `DEFAULT_QUEUE_MS` if unset.
   */
  queueMs?: number;
  /** Node options of the PHP host process; `HOST_EXEC_ARGV` by default. */
  hostExecArgv?: string[];
  /** Private CIDR blocks installs' PHP may reach (`WPFLEET_PHP_NETWORK_ALLOW`). */
  networkAllow?: string[];
  /** Told of each connection the network policy refused (docs/security.md). */
  onRefused?: (connection: RefusedConnection) => void;
  /** Where evictions are told (at info: they show the limit is reached). */
  log?: Pick<Logger, 'info'>;
}

/**
 * V8 compiles PHP's wasm with Liftoff, then again with TurboFan for the functions it finds hot.
 * Measured on WordPress's home page, TurboFan's code and compile memory cost about 90 MB per host
 * for no measurable gain in page time (see docs/benchmarks.md): the host runs Liftoff only.
 */
export const HOST_EXEC_ARGV = ['--liftoff-only'];

/** As `WPFLEET_PHP_QUEUE_SECONDS`'s default (src/config.ts). */
export const DEFAULT_QUEUE_MS = 30_000;

type Outcome =
  | { kind: 'response'; response: PhpResponse }
  | { kind: 'script'; result: PhpScriptResult }
  | { kind: 'assigned' };

interface InstallPool {
  installId: string;
  instances: Instance[];
  idleTimer: NodeJS.Timeout | undefined;
}

interface Instance {
  channel: InstanceChannel;
  base: RuntimeBase;
  /** The install it serves; null while it is a spare. */
  site: SiteMount | null;
  pool: InstallPool | null;
  ready: Promise<void>;
  /** Given to a request (from then on, through its boot or assignment, until the answer). */
  busy: boolean;
  /** The runtime's clock when it was last given or gave back a request: eviction takes the lowest. */
  lastUsed: number;
  pending: Map<number, { resolve: (o: Outcome) => void; reject: (e: Error) => void }>;
  spareTimer?: NodeJS.Timeout;
  /** Set once it is being stopped; resolves when its thread is gone. */
  stopped?: Promise<void>;
}

export class PhpTimeoutError extends Error {}
export class PhpCrashError extends Error {}

/**
 * php-wasm in worker threads of one PHP host process (php-host.ts): each PHP instance is a thread
 * serving one install. Instances start on an install's first request and stop when it idles; the
 * host process ends with its last instance, so idle installs hold no memory. One spare per
 * release and PHP version, booted and compiled ahead, takes a new install's first request without
 * the cold start.
 *
 * Instances are one capacity shared by all installs (`total`): when it is reached, a request for
 * an install without a free instance takes a spare's place, else the place of the least recently
 * used idle instance of another install, else it waits in one queue across installs (oldest
 * first) until an instance frees, for `queueMs` at most.
 */
export class WasmRuntime implements PhpRuntime {
  readonly kind = 'wasm';
  readonly versions = WASM_PHP_VERSIONS;
  private readonly pools = new Map<string, InstallPool>();
  private spares: Instance[] = [];
  /** Instances stopped whose thread has not exited yet: each still holds its place. */
  private readonly stopping = new Set<Instance>();
  private readonly queue: WaitQueue<Instance>;
  private clock = 0;
  private evictions = 0;
  private pumping = false;
  private pumpsAsked = 0;
  private nextId = 1;
  private nextProcessId = 1;
  private closed = false;
  private readonly host: PhpHost;

  constructor(private readonly options: WasmPoolOptions) {
    this.host = new PhpHost({ execArgv: options.hostExecArgv ?? HOST_EXEC_ARGV });
    this.queue = new WaitQueue(options.queueMs ?? DEFAULT_QUEUE_MS);
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

  /** Boots a spare for this release and PHP version if there is none and a place is free. */
  prewarm(base: RuntimeBase): void {
    if (this.closed || this.spares.some((s) => sameBase(s.base, base))) return;
    // A spare never takes a place a waiting request could have.
    if (this.used() >= this.options.total || this.queue.length > 0) return;
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
    let activeInstalls = 0;
    for (const pool of this.pools.values()) {
      instances += pool.instances.length;
      if (pool.instances.length > 0) activeInstalls += 1;
    }
    return { activeInstalls, instances, queued: this.queue.length, evictions: this.evictions };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.queue.failAll(new PhpCrashError('the PHP runtime is closed'));
    await Promise.all(this.spares.map((s) => this.stopInstance(s, new PhpCrashError('closed'))));
    await Promise.all([...this.pools.keys()].map((id) => this.unload(id)));
    await Promise.all([...this.stopping].map((i) => i.stopped ?? Promise.resolve()));
  }

  private pool(installId: string): InstallPool {
    let pool = this.pools.get(installId);
    if (pool === undefined) {
      pool = { installId, instances: [], idleTimer: undefined };
      this.pools.set(installId, pool);
    }
    return pool;
  }

  /** Places taken: spares, installs' instances, and instances whose thread has not exited yet. */
  private used(): number {
    let n = this.spares.length + this.stopping.size;
    for (const pool of this.pools.values()) n += pool.instances.length;
    return n;
  }

  private async dispatch(site: SiteMount, message: (id: number) => ToWorker): Promise<Outcome> {
    if (this.closed) throw new PhpCrashError('the PHP runtime is closed');
    const granted = this.queue.wait(
      site,
      () =>
        `${this.used()} of ${this.options.total} PHP instances in use, ` +
        `${this.options.perInstall} per install at most`,
    );
    this.pump();
    const instance = await granted;
    try {
      try {
        await instance.ready;
      } catch (err) {
        // It never became able to serve (boot or assignment failed): its place goes back.
        void this.stopInstance(instance, err instanceof Error ? err : new Error(String(err)));
        throw err;
      }
      return await this.send(instance, message(this.nextId++));
    } finally {
      this.release(instance);
    }
  }

  private release(instance: Instance): void {
    instance.busy = false;
    instance.lastUsed = ++this.clock;
    const pool = instance.pool;
    if (
      pool !== null &&
      this.pools.get(pool.installId) === pool &&
      instance.stopped === undefined
    ) {
      this.scheduleIdle(pool);
    }
    this.pump();
  }

  /**
   * Hands free instances, and places for new ones, to the waiters, oldest first. Runs whenever
   * that may change: a request arrives or ends, an instance stops, crashes or idles out.
   */
  private pump(): void {
    this.pumpsAsked += 1;
    if (this.pumping) return;
    this.pumping = true;
    try {
      // Asked again meanwhile (by what a grant set off): go through the waiters again.
      let done = 0;
      while (done !== this.pumpsAsked) {
        done = this.pumpsAsked;
        if (!this.closed) this.serveWaiters();
      }
    } finally {
      this.pumping = false;
    }
  }

  private serveWaiters(): void {
    // Places that instances still stopping will free, each promised to the oldest waiter that
    // needs one: a younger waiter does not make room again for it.
    let promised = 0;
    // Installs with a request still waiting ahead of this one: their instances are kept for it.
    const ahead = new Set<string>();
    for (const waiter of this.queue.list()) {
      const { site } = waiter;
      const own = this.pools.get(site.installId)?.instances ?? [];
      const free = own.find((i) => !i.busy && i.site !== null && sameSite(i.site, site));
      if (free !== undefined) {
        this.grant(waiter, free);
        continue;
      }
      // An instance started for an older version or layout is not reused.
      const stale = own.find((i) => !i.busy);
      if (stale !== undefined) void this.stopInstance(stale, new PhpCrashError('replaced'));
      // At the install's own limit: it waits for one of its instances to free.
      const running = this.pools.get(site.installId)?.instances.length ?? 0;
      if (running < this.options.perInstall) {
        const placed = this.place(site);
        if (placed !== undefined) {
          this.grant(waiter, placed);
          continue;
        }
        if (this.stopping.size > promised || this.makeRoom(site.installId, ahead)) promised += 1;
      }
      ahead.add(site.installId);
    }
  }

  private grant(waiter: Waiter<Instance>, instance: Instance): void {
    instance.busy = true;
    instance.lastUsed = ++this.clock;
    clearTimeout(instance.pool?.idleTimer);
    waiter.grant(instance);
  }

  /** The install's new instance if one fits: a matching spare, or a new thread in a free place. */
  private place(site: SiteMount): Instance | undefined {
    const base = { phpVersion: site.phpVersion, releaseDir: site.releaseDir };
    const spare = this.spares.find((s) => sameBase(s.base, base));
    if (spare !== undefined) return this.assignSpare(spare, site);
    if (this.used() >= this.options.total) return undefined;
    const pool = this.pool(site.installId);
    const instance = this.spawn(base, site, pool);
    pool.instances.push(instance);
    return instance;
  }

  /**
   * Frees a place for another install's instance: a spare's, else that of the least recently
   * used idle instance of an install with no request waiting ahead of this one (one that came
   * later does not hold back an older request of another install: the queue is first come, first
   * served). Busy instances, which includes those booting or being assigned for a request, are
   * never taken. Whether a place is on its way.
   */
  private makeRoom(forInstall: string, ahead: ReadonlySet<string>): boolean {
    const spare = this.spares[0];
    if (spare !== undefined) {
      void this.stopInstance(spare, new PhpCrashError('spare given up for an install'));
      return true;
    }
    let victim: Instance | undefined;
    for (const pool of this.pools.values()) {
      if (pool.installId === forInstall || ahead.has(pool.installId)) continue;
      for (const i of pool.instances) {
        if (!i.busy && (victim === undefined || i.lastUsed < victim.lastUsed)) victim = i;
      }
    }
    if (victim === undefined) return false;
    this.evictions += 1;
    this.options.log?.info(
      { evicted: victim.site?.installId, for: forInstall, limit: this.options.total },
      'PHP instances at their limit: the least recently used idle one was stopped',
    );
    void this.stopInstance(victim, new PhpCrashError('evicted for another install'));
    return true;
  }

  /** A booted spare, made the install's. */
  private assignSpare(spare: Instance, site: SiteMount): Instance {
    const base = spare.base;
    const pool = this.pool(site.installId);
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
      this.pump();
    };
    const channel = this.host.spawn(data, {
      message: (m) => {
        if (m.kind === 'ready') booted?.resolve();
        else if (m.kind === 'refused') {
          this.options.onRefused?.({ installId: instance.site?.installId ?? '', ...m.connection });
        } else if (m.kind === 'boot-failed') {
          const err = new PhpCrashError(`PHP failed to start: ${m.message}`);
          booted?.reject(err);
          void this.stopInstance(instance, err);
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
      lastUsed: ++this.clock,
      pending: new Map(),
      ready,
    };
    return instance;
  }

  /** Takes an instance out of service at once: its waiters fail, it no longer serves anyone. */
  private detach(instance: Instance, reason: Error): void {
    for (const w of instance.pending.values()) w.reject(reason);
    instance.pending.clear();
    clearTimeout(instance.spareTimer);
    this.spares = this.spares.filter((s) => s !== instance);
    const pool = instance.pool;
    if (pool === null) return;
    pool.instances = pool.instances.filter((i) => i !== instance);
    if (pool.instances.length === 0) {
      clearTimeout(pool.idleTimer);
      if (this.pools.get(pool.installId) === pool) this.pools.delete(pool.installId);
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

  /** Takes the instance out of service and ends its thread; its place frees once it has exited. */
  private stopInstance(instance: Instance, reason: Error): Promise<void> {
    if (instance.stopped !== undefined) return instance.stopped;
    this.detach(instance, reason);
    this.stopping.add(instance);
    instance.stopped = instance.channel.terminate().then(() => {
      this.stopping.delete(instance);
      this.pump();
    });
    return instance.stopped;
  }

  private scheduleIdle(pool: InstallPool): void {
    clearTimeout(pool.idleTimer);
    pool.idleTimer = setTimeout(() => {
      // A pool replaced since (unloaded, then used again) is not this timer's to stop.
      if (this.pools.get(pool.installId) !== pool) return;
      if (pool.instances.some((i) => i.busy) || this.queue.installs().has(pool.installId)) return;
      void this.unload(pool.installId);
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
