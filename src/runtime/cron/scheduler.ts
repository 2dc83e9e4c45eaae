import type { Logger } from 'pino';
import { cronDue, nextRunAt } from '../../core/cron/cron-policy.js';
import type { CronCandidate } from '../../core/cron/cron.repository.js';
import type { InstallRow } from '../../core/installs/installs.repository.js';
import type { CronRunResult } from '../../core/site-agent/operations.types.js';
import type { SiteAgents } from '../../core/site-agent/site-agent.js';
import type { Store } from '../../core/store.js';
import { nextCronEvent } from './cron-option.js';
import type { CronSource } from './cron-sources.js';

export type RunningInstall = InstallRow & { table_prefix: string };

export interface CronSchedulerOptions {
  /** Between looks at the installs. */
  intervalMs: number;
  /** Installs run at once. */
  concurrency: number;
  /** How long a run is waited for before it counts as failed. */
  timeoutMs: number;
}

export interface CronSchedulerDeps {
  store: Store;
  agents: SiteAgents;
  /** Where an install's stored `cron` option is read from. */
  source(install: RunningInstall): CronSource;
  /** Whether the install is in maintenance mode (nothing runs then, as in WordPress). */
  inMaintenance(install: RunningInstall): boolean;
  log: Pick<Logger, 'debug' | 'info' | 'warn'>;
  /** Milliseconds since the epoch; the system clock by default. */
  clock?: () => number;
}

/** What one look at the installs found. */
export interface CronLook {
  /** Running installs not claimed for later (run within the minute, or backing off). */
  looked: number;
  /** Installs whose stored option was read (the others had not changed since the last read). */
  read: number;
  /** Installs with an event due, queued to run. */
  due: number;
  /** Installs left alone because they are in maintenance mode. */
  maintenance: number;
  /** Installs whose option could not be read or parsed (logged; looked at again next time). */
  unreadable: number;
}

/** What was last read of an install's option, kept while its fingerprint stays the same. */
interface Known {
  fingerprint: string | null;
  readAtMs: number;
  next: number | null;
}

/** A MySQL install's option (no fingerprint) is read again after this long. */
const UNFINGERPRINTED_TTL_MS = 60_000;

/** The agent gets this much less than the scheduler's wait, to answer before it. */
const AGENT_MARGIN_MS = 10_000;

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Runs installs' due WordPress cron events, since WP-Cron is off in every install. Every
 * `intervalMs` it looks at the running installs no process has claimed for later, reads each
 * one's `cron` option straight from its database (an idle install's PHP is not woken to find
 * out), and queues those with an event due. A queued install is claimed in the store (at most
 * one run a minute in all, whatever the number of server processes) and run through its agent
 * (SiteAgent.runDueEvents), `concurrency` at a time, each waited for `timeoutMs` at most. A
 * failure is logged and retried the next minute, then less and less often (core/cron).
 */
export class CronScheduler {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private looking: Promise<void> | null = null;
  /** Queued, running, or abandoned after a timeout but not yet settled: never queued twice. */
  private readonly active = new Set<string>();
  private readonly queue: CronCandidate[] = [];
  private readonly slots = new Set<Promise<void>>();
  private readonly known = new Map<string, Known>();
  /** The last unreadable option reported per install, so that it is reported once. */
  private readonly reported = new Map<string, string>();
  private readonly clock: () => number;

  constructor(
    private readonly deps: CronSchedulerDeps,
    private readonly options: CronSchedulerOptions,
  ) {
    this.clock = deps.clock ?? Date.now;
  }

  /** Looks at once, then every `intervalMs`, until stop(). */
  start(): void {
    this.schedule(0);
  }

  /** Stops looking, drops what is queued, and waits for the runs in progress (or their timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const dropped of this.queue.splice(0)) this.active.delete(dropped.install.id);
    await this.looking;
    await this.drain();
  }

  /** Resolves once nothing is queued or running (abandoned runs are not waited for). */
  async drain(): Promise<void> {
    while (this.slots.size > 0) await Promise.all([...this.slots]);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.looking = this.look()
        .then(() => undefined)
        .catch((err: unknown) => {
          this.deps.log.warn({ err }, 'cron: looking at the installs failed');
        })
        .finally(() => {
          this.looking = null;
          this.schedule(this.options.intervalMs);
        });
    }, ms);
  }

  /**
   * One look at the installs: queues those with an event due and starts what the concurrency
   * allows. Resolves once queued, not once run (see drain()).
   */
  async look(): Promise<CronLook> {
    const nowMs = this.clock();
    const found: CronLook = { looked: 0, read: 0, due: 0, maintenance: 0, unreadable: 0 };
    const candidates = await this.deps.store.read.cron.candidates(new Date(nowMs).toISOString());
    // What is known of installs no longer looked at (deleted, or claimed: a run forgets it
    // anyway) goes, so that the map does not outlive the installs.
    const ids = new Set(candidates.map((c) => c.install.id));
    for (const id of this.known.keys()) if (!ids.has(id)) this.known.delete(id);
    for (const candidate of candidates) {
      const { install } = candidate;
      if (this.active.has(install.id) || install.table_prefix === null) continue;
      const running = { ...install, table_prefix: install.table_prefix };
      found.looked += 1;
      if (this.deps.inMaintenance(running)) {
        found.maintenance += 1;
        continue;
      }
      let next: number | null;
      try {
        const known = await this.nextEvent(running, nowMs);
        if (known.read) found.read += 1;
        next = known.next;
      } catch (err) {
        found.unreadable += 1;
        this.reportUnreadable(running, err);
        continue;
      }
      if (!cronDue(next, nowMs)) continue;
      found.due += 1;
      this.active.add(install.id);
      this.queue.push(candidate);
    }
    this.pump();
    if (found.looked > 0) this.deps.log.debug({ ...found }, 'cron: looked at the installs');
    return found;
  }

  /** When the install's next event is due, from what was read before if its database has not changed. */
  private async nextEvent(
    install: RunningInstall,
    nowMs: number,
  ): Promise<{ next: number | null; read: boolean }> {
    const source = this.deps.source(install);
    const fingerprint = await source.fingerprint();
    const before = this.known.get(install.id);
    if (
      before !== undefined &&
      (fingerprint === null
        ? nowMs - before.readAtMs < UNFINGERPRINTED_TTL_MS && !cronDue(before.next, nowMs)
        : fingerprint === before.fingerprint)
    ) {
      return { next: before.next, read: false };
    }
    const next = nextCronEvent(await source.read());
    this.known.set(install.id, { fingerprint, readAtMs: nowMs, next });
    this.reported.delete(install.id);
    return { next, read: true };
  }

  private reportUnreadable(install: RunningInstall, err: unknown): void {
    const message = messageOf(err);
    // WordPress writing at that moment: the next look reads it.
    if (err instanceof Error && 'code' in err && err.code === 'SQLITE_BUSY') {
      this.deps.log.debug({ install: install.name }, 'cron: database busy; read next time');
      return;
    }
    if (this.reported.get(install.id) === message) return;
    this.reported.set(install.id, message);
    this.deps.log.warn(
      { install: install.name, err: message },
      `cron: could not read the cron option of install ${install.name}; its events are not run until it can be read`,
    );
  }

  private pump(): void {
    while (!this.stopped && this.slots.size < this.options.concurrency) {
      const candidate = this.queue.shift();
      if (candidate === undefined) return;
      const slot = this.run(candidate).finally(() => {
        this.slots.delete(slot);
        this.pump();
      });
      this.slots.add(slot);
    }
  }

  /**
   * Claims and runs one install. The slot is given back at the timeout at the latest; the
   * install stays out of the queue until its call has settled, so it never runs twice at once.
   */
  private async run(candidate: CronCandidate): Promise<void> {
    const { install } = candidate;
    const startedMs = this.clock();
    const startedAt = new Date(startedMs).toISOString();
    let claimed: boolean;
    try {
      claimed = await this.deps.store.read.cron.claim(
        install.id,
        startedAt,
        new Date(nextRunAt(startedMs, 0)).toISOString(),
      );
    } catch (err) {
      this.active.delete(install.id);
      this.deps.log.warn({ err, install: install.name }, 'cron: claiming a run failed');
      return;
    }
    if (!claimed) {
      this.active.delete(install.id);
      return;
    }
    // Whatever the answer, the option changed (or may have): read it again next time.
    this.known.delete(install.id);
    const call = this.call(install.id);
    void call.then(
      () => this.active.delete(install.id),
      () => this.active.delete(install.id),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`no answer within ${String(this.options.timeoutMs / 1000)} s`));
      }, this.options.timeoutMs);
    });
    try {
      const result = await Promise.race([call, timeout]);
      await this.succeeded(install, startedAt, startedMs, result);
    } catch (err) {
      await this.failed(candidate, startedMs, err);
    } finally {
      clearTimeout(timer);
    }
  }

  private async call(installId: string): Promise<CronRunResult> {
    const agent = await this.deps.agents.forInstall(installId);
    const maxSeconds = Math.max(1, Math.floor((this.options.timeoutMs - AGENT_MARGIN_MS) / 1000));
    return agent.runDueEvents({ maxSeconds });
  }

  private async succeeded(
    install: InstallRow,
    startedAt: string,
    startedMs: number,
    result: CronRunResult,
  ): Promise<void> {
    const nextEventAt =
      result.nextEvent === null ? null : new Date(result.nextEvent * 1000).toISOString();
    await this.deps.store.read.cron.succeeded(install.id, {
      startedAt,
      hooks: result.ran.length,
      nextEventAt,
    });
    const errors = result.ran.filter((r) => r.error !== null);
    const details = {
      install: install.name,
      hooks: result.ran.map((r) => r.hook),
      ms: Math.round(this.clock() - startedMs),
      ...(result.locked ? { locked: true } : {}),
      ...(result.maintenance ? { maintenance: true } : {}),
      ...(result.incomplete ? { incomplete: true } : {}),
      nextEventAt,
    };
    if (errors.length > 0) {
      this.deps.log.info(
        { ...details, errors: errors.map((e) => `${e.hook}: ${e.error ?? ''}`) },
        `cron: ran ${result.ran.length} due events of install ${install.name}, ${errors.length} with errors`,
      );
    } else {
      this.deps.log.debug(
        details,
        `cron: ran ${result.ran.length} due events of install ${install.name}`,
      );
    }
  }

  private async failed(candidate: CronCandidate, startedMs: number, err: unknown): Promise<void> {
    const { install } = candidate;
    const failures = candidate.failures + 1;
    const retryAt = new Date(nextRunAt(startedMs, failures)).toISOString();
    const message = messageOf(err);
    this.deps.log.warn(
      { install: install.name, failures, retryAt, err: message },
      `cron: running the due events of install ${install.name} failed; trying again at ${retryAt}`,
    );
    try {
      await this.deps.store.read.cron.failed(install.id, message, retryAt);
    } catch (recordErr) {
      this.deps.log.warn(
        { err: recordErr, install: install.name },
        'cron: recording a failure failed',
      );
    }
  }
}
