import type { Logger } from 'pino';
import type { JobRow } from '../core/jobs/jobs.repository.js';
import type { Store } from '../core/store.js';
import { JobSteps } from './steps.js';

/** Runs one attempt of a job; `steps` holds what earlier attempts recorded. */
export type JobHandler = (job: JobRow, steps: JobSteps) => Promise<Record<string, unknown>>;

/** A job type whose target must be left in a final state when the job is given up. */
export interface JobType {
  run: JobHandler;
  /**
   * Called instead of another run when restarts interrupted every attempt (a crash at the same
   * point each time), so the job fails without crashing the process again and again.
   */
  abandon(job: JobRow, steps: JobSteps, reason: string): Promise<void>;
}

/** A failure that another attempt cannot help (the handler already cleaned up): not retried. */
export class FinalJobError extends Error {}

export interface RunnerOptions {
  /** Jobs run at once (each on a different install). */
  concurrency: number;
  pollMs: number;
  maxAttempts: number;
}

function backoff(attempt: number): number {
  return Math.min(60_000, 1000 * 2 ** attempt);
}

/**
 * Takes due jobs from the durable queue and runs their handlers, one job per install at a time.
 * Jobs a crashed process left `running` are queued again at start, and each attempt they were
 * on counts: every handler is written to be run again safely, from the steps it recorded. With
 * SQLite one process runs the jobs; on PostgreSQL several can share them, since a job is claimed
 * by a conditional update.
 */
export class JobRunner {
  private running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;

  constructor(
    private readonly store: Store,
    private readonly handlers: Record<string, JobHandler | JobType>,
    private readonly options: RunnerOptions,
    private readonly log: Pick<Logger, 'info' | 'warn' | 'error'>,
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    const requeued = await this.store.transaction((r) =>
      r.jobs.requeueRunning(new Date().toISOString()),
    );
    if (requeued > 0)
      this.log.info({ requeued }, 'jobs interrupted by a restart were queued again');
    this.schedule(0);
  }

  /** Stops taking jobs and waits for the running ones. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.all([...this.running]);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      void this.tick();
    }, ms);
  }

  private async tick(): Promise<void> {
    try {
      while (!this.stopped && this.running.size < this.options.concurrency) {
        const job = await this.claimNext();
        if (job === undefined) break;
        const run = this.run(job).finally(() => {
          this.running.delete(run);
          this.schedule(0);
        });
        this.running.add(run);
      }
    } catch (err) {
      this.log.error({ err }, 'job queue poll failed');
    }
    this.schedule(this.options.pollMs);
  }

  private async claimNext(): Promise<JobRow | undefined> {
    const types = Object.keys(this.handlers);
    return this.store.transaction(async (r) => {
      const now = new Date().toISOString();
      const job = await r.jobs.nextDue(now, types);
      if (job === undefined) return undefined;
      return (await r.jobs.claim(job.id, now)) ? { ...job, attempts: job.attempts + 1 } : undefined;
    });
  }

  private async run(job: JobRow): Promise<void> {
    const handler = this.handlers[job.type];
    if (handler === undefined) return;
    const steps = JobSteps.of(this.store, job);
    if (job.attempts > this.options.maxAttempts) {
      await this.abandon(job, handler, steps);
      return;
    }
    try {
      const result = await (typeof handler === 'function' ? handler : handler.run)(job, steps);
      await this.store.transaction((r) => r.jobs.finish(job.id, result, new Date().toISOString()));
      this.log.info({ job: job.id, type: job.type, target: job.target_id }, 'job succeeded');
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const last = job.attempts >= this.options.maxAttempts || err instanceof FinalJobError;
      const runAfter = last ? null : new Date(Date.now() + backoff(job.attempts)).toISOString();
      await this.store.transaction((r) =>
        r.jobs.fail(job.id, message, runAfter, new Date().toISOString()),
      );
      this.log.warn(
        { job: job.id, type: job.type, attempt: job.attempts, err: message },
        last ? 'job failed' : 'job will be retried',
      );
    }
  }

  /** Fails a job whose every attempt a restart interrupted, leaving its target in a final state. */
  private async abandon(
    job: JobRow,
    handler: JobHandler | JobType,
    steps: JobSteps,
  ): Promise<void> {
    const reason = `interrupted by a restart on each of its ${this.options.maxAttempts} attempts`;
    let error = reason;
    if (typeof handler !== 'function') {
      try {
        await handler.abandon(job, steps, reason);
      } catch (err) {
        error = `${reason}; then: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    await this.store.transaction((r) => r.jobs.fail(job.id, error, null, new Date().toISOString()));
    this.log.warn({ job: job.id, type: job.type, target: job.target_id, err: error }, 'job failed');
  }
}
