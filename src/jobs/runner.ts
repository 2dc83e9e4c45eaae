import type { Logger } from 'pino';
import type { JobRow } from '../core/jobs/jobs.repository.js';
import { FinalJobError, type RunnableJob } from '../core/jobs/job-contract.js';
import type { Store } from '../core/store.js';
import { requeueInterrupted } from './recovery.js';
import { JobSteps } from '../core/jobs/steps.js';

/** Runs one attempt of a job; `steps` holds what earlier attempts recorded. */
export type JobHandler = (job: JobRow, steps: JobSteps) => Promise<Record<string, unknown>>;

/**
 * A job type whose target must be left in a final state when the job is given up. The runner
 * knows job types only by name: their payloads and the complete list are core's
 * (src/core/jobs/job-contract.ts, runnableJobs).
 */
export type JobType = RunnableJob;

export interface RunnerOptions {
  /** Jobs run at once (each on a different install). */
  concurrency: number;
  pollMs: number;
  /** Attempts that fail before the job fails for good (restarts that interrupt one do not count). */
  maxAttempts: number;
  /** Restarts in a row that interrupt a job at the same step before it is given up. */
  maxInterruptions?: number;
  /** First retry delay in ms, doubled at each further attempt or interruption, up to a minute. */
  backoffMs?: number;
}

/**
 * More than a supervisor's burst of quick restarts (systemd allows 5 in 10 s), few enough that
 * a job that kills the process at one point is stopped within minutes (its backoff doubles).
 */
export const DEFAULT_MAX_INTERRUPTIONS = 8;
const DEFAULT_BACKOFF_MS = 1000;

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Takes due jobs from the durable queue and runs their handlers, one job per install at a time.
 * Jobs a crashed process left `running` are queued again at start (src/jobs/recovery.ts): the
 * next run picks up from the steps they recorded, and a restart does not use up an attempt. With
 * SQLite one process runs the jobs; on PostgreSQL several can share them, since a job is claimed
 * by a conditional update.
 */
export class JobRunner {
  private running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private readonly options: Required<RunnerOptions>;

  constructor(
    private readonly store: Store,
    private readonly handlers: Record<string, JobHandler | JobType>,
    options: RunnerOptions,
    private readonly log: Pick<Logger, 'info' | 'warn' | 'error'>,
  ) {
    this.options = {
      maxInterruptions: DEFAULT_MAX_INTERRUPTIONS,
      backoffMs: DEFAULT_BACKOFF_MS,
      ...options,
    };
  }

  async start(): Promise<void> {
    this.stopped = false;
    const requeued = await requeueInterrupted(this.store, this.options);
    for (const job of requeued) {
      this.log.info(
        { job: job.id, type: job.type, target: job.targetId, interruptions: job.count },
        `job interrupted by a restart ${
          job.step === null ? 'before its first step' : `after step ${job.step}`
        } was queued again`,
      );
    }
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

  private backoff(attempt: number): string {
    const ms = Math.min(60_000, this.options.backoffMs * 2 ** attempt);
    return new Date(Date.now() + ms).toISOString();
  }

  private async run(job: JobRow): Promise<void> {
    const handler = this.handlers[job.type];
    if (handler === undefined) return;
    try {
      const steps = JobSteps.of(this.store, job);
      if (job.interruptions >= this.options.maxInterruptions) {
        await this.abandon(job, handler, steps);
        return;
      }
      if (job.attempts > this.options.maxAttempts) {
        // Its last attempt failed, but failing it for good did not commit: only that is redone.
        await this.giveUp(job, handler, job.error ?? 'failed on every attempt');
        return;
      }
      let result: Record<string, unknown>;
      try {
        result = await (typeof handler === 'function' ? handler : handler.run)(job, steps);
      } catch (err) {
        const message = messageOf(err);
        if (job.attempts >= this.options.maxAttempts || err instanceof FinalJobError) {
          await this.giveUp(job, handler, message);
          return;
        }
        const runAfter = this.backoff(job.attempts);
        await this.store.transaction((r) =>
          r.jobs.fail(job.id, message, runAfter, new Date().toISOString()),
        );
        this.log.warn(
          { job: job.id, type: job.type, attempt: job.attempts, err: message },
          'job will be retried',
        );
        return;
      }
      await this.store.transaction((r) => r.jobs.finish(job.id, result, new Date().toISOString()));
      this.log.info({ job: job.id, type: job.type, target: job.target_id }, 'job succeeded');
    } catch (err) {
      // The store failed under the runner: the job stays `running` until the next start.
      this.log.error({ err, job: job.id, type: job.type }, 'recording the outcome of a job failed');
    }
  }

  /**
   * Fails the job for good and, in the same transaction, its type's `givenUp` (the target says
   * it failed). If that does not commit, the job is queued to be given up again later, so a
   * target is never left without a final state.
   */
  private async giveUp(job: JobRow, handler: JobHandler | JobType, error: string): Promise<void> {
    try {
      await this.store.transaction(async (r) => {
        await r.jobs.fail(job.id, error, null, new Date().toISOString());
        if (typeof handler !== 'function') await handler.givenUp?.(r, job, error);
      });
    } catch (err) {
      this.log.error(
        { err, job: job.id, type: job.type, target: job.target_id },
        'failing a job and its target did not commit; it will be tried again',
      );
      const runAfter = this.backoff(job.attempts);
      await this.store.transaction((r) =>
        r.jobs.fail(job.id, error, runAfter, new Date().toISOString()),
      );
      return;
    }
    this.log.warn({ job: job.id, type: job.type, target: job.target_id, err: error }, 'job failed');
  }

  /** Gives up a job restarts kept interrupting at one step, without running it again. */
  private async abandon(
    job: JobRow,
    handler: JobHandler | JobType,
    steps: JobSteps,
  ): Promise<void> {
    const at =
      job.interrupted_at === null
        ? 'before recording its first step'
        : `without getting past step ${job.interrupted_at}`;
    const reason = `interrupted by a restart ${job.interruptions} times in a row ${at}`;
    let error = reason;
    if (typeof handler !== 'function' && handler.abandon !== undefined) {
      try {
        await handler.abandon(job, steps, reason);
      } catch (err) {
        error = `${reason}; then: ${messageOf(err)}`;
      }
    }
    await this.giveUp(job, handler, error);
  }
}
