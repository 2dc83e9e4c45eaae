import type { App } from '../composition.js';
import type { JobRow } from '../core/jobs/jobs.repository.js';
import { recordedStepNames } from '../core/jobs/steps.js';
import { CliError } from './output.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface WaitOptions {
  timeoutMs: number;
  /** Told the steps recorded so far, each time they change. */
  onSteps?: (steps: string[]) => void;
}

/**
 * Waits for a queued job that the running server (`wpfleet serve`) takes, and answers its row
 * once it succeeded; a failure or the timeout is a CliError that says what to do.
 */
export async function waitForJob(
  app: App,
  accountId: string,
  jobId: string,
  options: WaitOptions,
): Promise<JobRow> {
  const deadline = Date.now() + options.timeoutMs;
  let seen = -1;
  for (;;) {
    const job = await app.store.read.jobs.findById(accountId, jobId);
    if (job === undefined) throw new CliError(`job ${jobId} is gone`);
    if (job.state === 'succeeded') return job;
    // A finished job's result replaces its steps; while it runs, they only grow.
    const steps = recordedStepNames(job);
    if (steps.length > seen) {
      seen = steps.length;
      options.onSteps?.(steps);
    }
    if (job.state === 'failed') throw new CliError(`${job.type} failed: ${job.error ?? 'unknown'}`);
    if (Date.now() > deadline) {
      throw new CliError(
        `job ${jobId} (${job.type}) has not finished (state ${job.state}); is \`wpfleet serve\` running on this data directory?`,
      );
    }
    await sleep(250);
  }
}
