import type { Store } from '../core/store.js';
import { lastRecordedStep } from '../core/jobs/steps.js';

export interface RecoveryOptions {
  /** Interruptions in a row at one step after which the job is given up. */
  maxInterruptions: number;
  /** The first delay of a backoff, in ms; each further interruption doubles it, up to a minute. */
  backoffMs: number;
}

export interface Interrupted {
  id: string;
  type: string;
  targetId: string;
  /** Interruptions in a row at `step`, this one included. */
  count: number;
  step: string | null;
}

/**
 * How long a job waits after its `count`-th interruption in a row at one step: it resumes at
 * once after a single restart, and later and later when it keeps being interrupted at the same
 * point, so that a job that itself kills the process lets the server run meanwhile.
 */
export function interruptionDelay(count: number, baseMs: number): number {
  return count <= 1 ? 0 : Math.min(60_000, baseMs * 2 ** (count - 2));
}

/**
 * Queues again the jobs a dead process left `running` (run by the job runner when it starts).
 * A restart is not the job's fault: the attempt it was on is given back. What is counted is
 * interruptions in a row at the same recorded step, reset as soon as the job records a new one:
 * a platform restarted often still lets each job make progress, while a job that kills the
 * process at one point every time reaches `maxInterruptions` and is given up by the runner.
 */
export async function requeueInterrupted(
  store: Store,
  options: RecoveryOptions,
  now: Date = new Date(),
): Promise<Interrupted[]> {
  return store.transaction(async (r) => {
    const requeued: Interrupted[] = [];
    for (const job of await r.jobs.listRunning()) {
      const step = lastRecordedStep(job);
      const count = step === job.interrupted_at ? job.interruptions + 1 : 1;
      // A job to be given up is due at once: the runner abandons it without running it.
      const delay =
        count >= options.maxInterruptions ? 0 : interruptionDelay(count, options.backoffMs);
      const runAfter = delay === 0 ? null : new Date(now.getTime() + delay).toISOString();
      const at = now.toISOString();
      if (await r.jobs.requeueInterrupted(job.id, { count, step, runAfter }, at)) {
        requeued.push({ id: job.id, type: job.type, targetId: job.target_id, count, step });
      }
    }
    return requeued;
  });
}
