import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import type { JobRow } from '../../src/core/jobs/jobs.repository.js';
import { FinalJobError, JobRunner, type JobHandler, type JobType } from '../../src/jobs/runner.js';
import { JobSteps } from '../../src/jobs/steps.js';
import { ENGINES, testStore, type TestStore } from '../helpers/engines.js';
import { waitFor } from '../helpers/site.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const ATTEMPTS = 3;

/**
 * The job runner on a real store: what a crashed attempt recorded reaches the next one, a job
 * that restarts interrupted on every attempt is given up cleanly, and a final error is final.
 */
describe.each(ENGINES)('the job runner on %s', (engine) => {
  let store: TestStore;
  let app: App;
  let accountId: string;

  beforeAll(async () => {
    store = await testStore(engine);
    app = await createApp(store.config);
    accountId = (await app.services.accounts.create({ name: 'Runner test' })).account.id;
  });
  afterAll(async () => {
    await app.close();
    await store.dispose();
  });

  const enqueue = (type: string): Promise<JobRow> =>
    app.store.transaction((r) =>
      r.jobs.enqueue({ accountId, installId: null, type, targetId: `target-${type}` }),
    );

  /** What a process killed during the job leaves: the job `running`, claimed `times` times. */
  async function interrupted(job: JobRow, times: number, steps?: Record<string, unknown>) {
    for (let i = 0; i < times; i += 1) {
      if (i > 0)
        await app.store.transaction((r) => r.jobs.requeueRunning(new Date().toISOString()));
      await app.store.transaction((r) => r.jobs.claim(job.id, new Date().toISOString()));
    }
    if (steps !== undefined) {
      const claimed = { ...job, state: 'running', attempts: times };
      const recorder = JobSteps.of(app.store, claimed);
      for (const [name, data] of Object.entries(steps)) {
        await recorder.record(name, data as Record<string, unknown>);
      }
    }
  }

  async function runUntilDone(
    handlers: Record<string, JobHandler | JobType>,
    jobId: string,
  ): Promise<JobRow> {
    const runner = new JobRunner(
      app.store,
      handlers,
      { concurrency: 1, pollMs: 20, maxAttempts: ATTEMPTS },
      quiet,
    );
    await runner.start();
    try {
      return await waitFor(
        'the job to end',
        async () => {
          const job = await app.store.read.jobs.findById(accountId, jobId);
          return job?.state === 'succeeded' || job?.state === 'failed' ? job : undefined;
        },
        10_000,
        20,
      );
    } finally {
      await runner.stop();
    }
  }

  it('gives the steps an interrupted attempt recorded to the next attempt', async () => {
    const job = await enqueue('test.resume');
    await interrupted(job, 1, { 'test.first': { chose: 'blue' } });
    const seen: unknown[] = [];
    const done = await runUntilDone(
      {
        'test.resume': async (_job, steps) => {
          seen.push(steps.get('test.first'), steps.has('test.second'));
          await steps.record('test.second');
          return { finished: true };
        },
      },
      job.id,
    );
    expect(seen).toEqual([{ chose: 'blue' }, false]);
    expect(done.state).toBe('succeeded');
    expect(done.attempts).toBe(2);
    // The steps were working notes: the result is the handler's.
    expect(JSON.parse(done.result ?? '{}')).toEqual({ finished: true });
  });

  it('abandons a job that restarts interrupted on every attempt, without running it again', async () => {
    const job = await enqueue('test.crashing');
    await interrupted(job, ATTEMPTS, { 'test.half': {} });
    const calls: string[] = [];
    const done = await runUntilDone(
      {
        'test.crashing': {
          run: () => {
            calls.push('run');
            return Promise.resolve({});
          },
          abandon: (_job, steps, reason) => {
            calls.push(`abandon ${String(steps.has('test.half'))} ${reason}`);
            return Promise.resolve();
          },
        },
      },
      job.id,
    );
    expect(calls).toEqual([
      `abandon true interrupted by a restart on each of its ${ATTEMPTS} attempts`,
    ]);
    expect(done.state).toBe('failed');
    expect(done.error).toBe(`interrupted by a restart on each of its ${ATTEMPTS} attempts`);
  });

  it('does not retry a job that failed with a final error', async () => {
    const job = await enqueue('test.final');
    let runs = 0;
    const done = await runUntilDone(
      {
        'test.final': () => {
          runs += 1;
          return Promise.reject(new FinalJobError('rolled back; retrying cannot help'));
        },
      },
      job.id,
    );
    expect(runs).toBe(1);
    expect(done.state).toBe('failed');
    expect(done.error).toBe('rolled back; retrying cannot help');
  });
});
