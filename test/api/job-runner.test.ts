import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/composition.js';
import { SCOPES, type Actor } from '../../src/core/actor.js';
import { OWNER } from '../../src/core/users/roles.js';
import { FinalJobError, runnable } from '../../src/core/jobs/job-contract.js';
import type { JobRow, NewJob } from '../../src/core/jobs/jobs.repository.js';
import { openDatabase } from '../../src/db/database.js';
import { failStrandedInstalls } from '../../src/db/migrations/004-interruptions.js';
import { requeueInterrupted } from '../../src/jobs/recovery.js';
import {
  JobRunner,
  type JobHandler,
  type JobType,
  type RunnerOptions,
} from '../../src/jobs/runner.js';
import { JobSteps, type StepData } from '../../src/core/jobs/steps.js';
import { installJobTypes } from '../../src/runtime/provision/install-jobs.js';
import { ENGINES, testStore, type TestStore } from '../helpers/engines.js';
import { waitFor } from '../helpers/site.js';

/** The type and payload of one of the contract's jobs. */
type JobSpec = NewJob extends infer J
  ? J extends NewJob
    ? Pick<J, 'type' | 'payload'>
    : never
  : never;

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const ATTEMPTS = 3;
/** More than ATTEMPTS, so that interruptions counted as attempts would show. */
const INTERRUPTIONS = 5;
const OPTIONS = {
  concurrency: 1,
  pollMs: 20,
  maxAttempts: ATTEMPTS,
  maxInterruptions: INTERRUPTIONS,
  backoffMs: 10,
} satisfies RunnerOptions;

/**
 * The job runner on a real store: what an interrupted attempt recorded reaches the next one,
 * restarts do not use up attempts, a job interrupted at the same step again and again is given
 * up, a job given up leaves its install `failed` with the reason in the same transaction, and a
 * final error is final.
 */
describe.each(ENGINES)('the job runner on %s', (engine) => {
  let store: TestStore;
  let app: App;
  let accountId: string;
  let actor: Actor;
  let installs = 0;

  beforeAll(async () => {
    store = await testStore(engine);
    app = await createApp(store.config);
    const created = await app.services.accounts.create({ name: 'Runner test' });
    accountId = created.account.id;
    actor = {
      accountId,
      userId: created.ownerUserId,
      label: 'test',
      scopes: new Set(SCOPES),
      role: OWNER,
      installIds: null,
    };
  });
  afterAll(async () => {
    await app.close();
    await store.dispose();
  });

  /** A job of the contract's, run here by a test handler in place of the real one. */
  const enqueue = (job: JobSpec, installId: string | null = null): Promise<JobRow> =>
    app.store.transaction((r) =>
      r.jobs.enqueue({ ...job, accountId, installId, targetId: `target-${job.type}` }),
    );

  const jobOf = async (id: string): Promise<JobRow> => {
    const job = await app.store.read.jobs.findById(accountId, id);
    if (job === undefined) throw new Error(`job ${id} not found`);
    return job;
  };

  /** A new install (pending) and the provisioning job queued with it. */
  async function newInstall(): Promise<{ installId: string; job: JobRow }> {
    installs += 1;
    const view = await app.services.installs.create(actor, {
      name: `runner${installs}`,
      account_id: accountId,
    });
    const [job] = await app.store.read.jobs.listForTarget(view.install.id);
    if (job === undefined) throw new Error('no provisioning job was queued');
    return { installId: view.install.id, job };
  }

  /**
   * A process claims the job, records `steps` and is killed; the next start queues it again (as
   * JobRunner.start does).
   */
  async function interrupt(jobId: string, steps: Record<string, StepData> = {}): Promise<void> {
    expect(await app.store.transaction((r) => r.jobs.claim(jobId, new Date().toISOString()))).toBe(
      true,
    );
    const recorder = JobSteps.of(app.store, await jobOf(jobId));
    for (const [name, data] of Object.entries(steps)) await recorder.record(name, data);
    await requeueInterrupted(app.store, OPTIONS);
  }

  function runner(handlers: Record<string, JobHandler | JobType>): JobRunner {
    return new JobRunner(app.store, handlers, OPTIONS, quiet);
  }

  async function runUntilDone(
    handlers: Record<string, JobHandler | JobType>,
    jobId: string,
  ): Promise<JobRow> {
    const r = runner(handlers);
    await r.start();
    try {
      return await waitFor(
        'the job to end',
        async () => {
          const job = await jobOf(jobId);
          return job.state === 'succeeded' || job.state === 'failed' ? job : undefined;
        },
        20_000,
        20,
      );
    } finally {
      await r.stop();
    }
  }

  /** The install job types with a provisioning that `provision` stands in for. */
  const installTypes = (provision: () => Promise<Record<string, unknown>>) => {
    const types = installJobTypes(
      { provision, remove: () => Promise.resolve({ removed: true }) },
      app.services.installs,
    );
    return {
      'install.provision': runnable('install.provision', types['install.provision']),
      'install.delete': runnable('install.delete', types['install.delete']),
    };
  };

  async function activity(installId: string): Promise<string[]> {
    const rows = await app.store.read.activity.listForAccount(accountId, 1000);
    return rows
      .filter((a) => a.target_id === installId)
      .map((a) => a.action)
      .reverse();
  }

  it('gives the steps an interrupted attempt recorded to the next attempt', async () => {
    const job = await enqueue({ type: 'install.urls', payload: {} });
    await interrupt(job.id, { 'test.first': { chose: 'blue' } });
    const seen: unknown[] = [];
    const done = await runUntilDone(
      {
        'install.urls': async (_job, steps) => {
          seen.push(steps.get('test.first'), steps.has('test.second'));
          await steps.record('test.second');
          return { finished: true };
        },
      },
      job.id,
    );
    expect(seen).toEqual([{ chose: 'blue' }, false]);
    expect(done.state).toBe('succeeded');
    // The restart gave the attempt back: the one run is the first attempt.
    expect(done.attempts).toBe(1);
    expect(done.interruptions).toBe(1);
    // The steps were working notes: the result is the handler's.
    expect(JSON.parse(done.result ?? '{}')).toEqual({ finished: true });
  });

  it('counts interruptions in a row at the same step, and starts over when the job gets further', async () => {
    const job = await enqueue({ type: 'backup.create', payload: {} });
    for (let i = 1; i <= INTERRUPTIONS - 1; i += 1) {
      await interrupt(job.id, i === 1 ? { 'test.a': {} } : {});
      const row = await jobOf(job.id);
      expect([row.interruptions, row.interrupted_at, row.attempts]).toEqual([i, 'test.a', 0]);
    }
    // Recording a step it had already recorded is no progress; a new one is.
    await interrupt(job.id, { 'test.a': {}, 'test.b': {} });
    const row = await jobOf(job.id);
    expect([row.interruptions, row.interrupted_at, row.attempts, row.state]).toEqual([
      1,
      'test.b',
      0,
      'queued',
    ]);
  });

  it('runs a job interrupted more times than it has attempts, and still counts its own failures', async () => {
    const job = await enqueue({ type: 'cache.purge', payload: { type: 'page' } });
    for (let i = 0; i < INTERRUPTIONS - 1; i += 1) await interrupt(job.id, { 'test.half': {} });
    let runs = 0;
    const done = await runUntilDone(
      {
        'cache.purge': () => {
          runs += 1;
          return runs < ATTEMPTS
            ? Promise.reject(new Error(`failure ${runs}`))
            : Promise.resolve({ runs });
        },
      },
      job.id,
    );
    expect(done.state).toBe('succeeded');
    expect(runs).toBe(ATTEMPTS);
    expect(done.attempts).toBe(ATTEMPTS);
    expect(done.interruptions).toBe(INTERRUPTIONS - 1);
  });

  it('gives up a job interrupted at the same step too often, without running it, and its install is failed with the reason', async () => {
    const { installId, job } = await newInstall();
    for (let i = 0; i < INTERRUPTIONS; i += 1) {
      await interrupt(job.id, { 'provision.chosen': { release: '6.1.9' } });
    }
    let runs = 0;
    const abandoned: string[] = [];
    const types = installTypes(() => {
      runs += 1;
      return Promise.resolve({});
    });
    const provision = types['install.provision'];
    const done = await runUntilDone(
      {
        'install.provision': {
          ...provision,
          abandon: (_job, steps, reason) => {
            abandoned.push(`${String(steps.has('provision.chosen'))} ${reason}`);
            return Promise.resolve();
          },
        },
      },
      job.id,
    );
    const reason = `interrupted by a restart ${INTERRUPTIONS} times in a row without getting past step provision.chosen`;
    expect(runs).toBe(0);
    expect(abandoned).toEqual([`true ${reason}`]);
    expect(done.state).toBe('failed');
    expect(done.error).toBe(reason);
    const install = await app.store.read.installs.findAny(installId);
    expect(install?.status).toBe('failed');
    expect(install?.status_reason).toBe(`provisioning failed: ${reason}`);
    expect(await activity(installId)).toEqual(['install.create', 'install.failed']);
  });

  it('fails the job and marks its install in one transaction: neither happens if marking fails', async () => {
    const { installId, job } = await newInstall();
    for (let i = 0; i < INTERRUPTIONS; i += 1) await interrupt(job.id);
    const types = installTypes(() => Promise.resolve({}));
    const provision = types['install.provision'];
    if (provision.givenUp === undefined) throw new Error('no install.provision givenUp hook');
    const markFailed = provision.givenUp.bind(provision);
    let calls = 0;
    const broken = runner({
      'install.provision': {
        run: provision.run,
        givenUp: async (r, j, error) => {
          calls += 1;
          await markFailed(r, j, error);
          throw new Error('the store went away after marking the install');
        },
      },
    });
    await broken.start();
    try {
      // Each give-up that does not commit is tried again later: twice shows it was requeued.
      await waitFor(
        'two give-ups that did not commit',
        () => Promise.resolve(calls >= 2 ? true : undefined),
        20_000,
        20,
      );
    } finally {
      await broken.stop();
    }
    const pending = await app.store.read.installs.findAny(installId);
    expect([pending?.status, pending?.status_reason]).toEqual(['pending', null]);
    expect((await jobOf(job.id)).state).not.toBe('failed');
    expect(await activity(installId)).toEqual(['install.create']);

    const done = await runUntilDone(types, job.id);
    expect(done.state).toBe('failed');
    const failed = await app.store.read.installs.findAny(installId);
    expect(failed?.status).toBe('failed');
    expect(failed?.status_reason).toBe(`provisioning failed: ${done.error ?? ''}`);
    expect(await activity(installId)).toEqual(['install.create', 'install.failed']);
  });

  it('fails a provisioning that fails on every attempt, and its install with the error; a retry provisions it again', async () => {
    const { installId, job } = await newInstall();
    let runs = 0;
    const done = await runUntilDone(
      installTypes(() => {
        runs += 1;
        return Promise.reject(new Error("the new install's home page answered 500"));
      }),
      job.id,
    );
    expect(runs).toBe(ATTEMPTS);
    expect(done.state).toBe('failed');
    expect(done.attempts).toBe(ATTEMPTS);
    const failed = await app.store.read.installs.findAny(installId);
    expect(failed?.status).toBe('failed');
    expect(failed?.status_reason).toBe(
      "provisioning failed: the new install's home page answered 500",
    );

    const view = await app.services.installs.retry(actor, installId);
    expect([view.install.status, view.install.status_reason]).toEqual(['pending', null]);
    const jobs = await app.store.read.jobs.listForTarget(installId);
    expect(jobs.map((j) => [j.type, j.state])).toEqual([
      ['install.provision', 'failed'],
      ['install.provision', 'queued'],
    ]);
    const retried = jobs[1]?.id ?? '';
    const activated = await runUntilDone(
      installTypes(async () => {
        await app.store.transaction((r) =>
          app.services.installs.markActiveWithin(r, installId, {
            wp_version: '6.1.9',
            php_version: '8.3',
            release: '6.1.9',
          }),
        );
        return {};
      }),
      retried,
    );
    expect(activated.state).toBe('succeeded');
    const active = await app.store.read.installs.findAny(installId);
    expect([active?.status, active?.status_reason]).toEqual(['active', null]);
    expect(await activity(installId)).toEqual([
      'install.create',
      'install.failed',
      'install.retry',
      'install.active',
    ]);
  });

  it('does not retry a job that failed with a final error', async () => {
    const job = await enqueue({ type: 'domain.check_status', payload: { name: 'example.com' } });
    let runs = 0;
    const done = await runUntilDone(
      {
        'domain.check_status': () => {
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

  it('runs the jobs of one install in order: a later job waits for one waiting out a backoff', async () => {
    const { installId, job } = await newInstall();
    const later = await enqueue({ type: 'backup.restore', payload: { backup_id: 'b' } }, installId);
    const now = new Date().toISOString();
    const inAMinute = new Date(Date.now() + 60_000).toISOString();
    await app.store.transaction(async (r) => {
      await r.jobs.claim(job.id, now);
      await r.jobs.fail(job.id, 'retry later', inAMinute, now);
    });
    const types = ['install.provision', 'backup.restore'];
    const due = await app.store.read.jobs.nextDue(now, types);
    expect(due?.install_id).not.toBe(installId);
    const afterBackoff = await app.store.read.jobs.nextDue(inAMinute, types);
    expect(afterBackoff?.id).toBe(job.id);
    expect(later.install_id).toBe(installId);
  });

  it('fails, on upgrade, the installs an earlier version left pending with their provisioning given up', async () => {
    const stranded = await newInstall();
    const queued = await newInstall();
    await app.store.transaction(async (r) => {
      const now = new Date().toISOString();
      await r.jobs.claim(stranded.job.id, now);
      await r.jobs.fail(
        stranded.job.id,
        'interrupted by a restart on each of its 3 attempts',
        null,
        now,
      );
    });
    const database = await openDatabase(store.config.database);
    try {
      expect(await failStrandedInstalls(database.db)).toBe(1);
      expect(await failStrandedInstalls(database.db)).toBe(0);
    } finally {
      await database.close();
    }
    const failed = await app.store.read.installs.findAny(stranded.installId);
    expect([failed?.status, failed?.status_reason]).toEqual([
      'failed',
      'provisioning failed: interrupted by a restart on each of its 3 attempts',
    ]);
    expect(await activity(stranded.installId)).toEqual(['install.create', 'install.failed']);
    expect((await app.store.read.installs.findAny(queued.installId))?.status).toBe('pending');
  });
});
