import type { Kysely, Selectable } from 'kysely';
import type { DB, JobsTable } from '../../db/schema.js';
import { newId, nowIso } from '../shared/ids.js';
import type { JobName, JobPayload } from './job-contract.js';

export type JobRow = Selectable<JobsTable>;

/** A job to queue: one of the contract's names with that name's payload. */
export type NewJob = {
  [N in JobName]: {
    accountId: string;
    installId: string | null;
    type: N;
    targetId: string;
    payload: JobPayload<N>;
    idempotencyKey?: string;
    /**
     * A job of the same install this one must run after: its created_at is made later than that
     * job's, since jobs of one install run in the order they were created (`nextDue`), and two
     * queued in the same millisecond would otherwise be ordered by their random ids.
     */
    follows?: Pick<JobRow, 'created_at'>;
  };
}[JobName];

/**
 * The durable queue. A job is written in the same transaction as the change that asked for it;
 * the job runner (src/jobs) takes them from here.
 */
export class JobsRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async enqueue(job: NewJob): Promise<JobRow> {
    let now = nowIso();
    if (job.follows !== undefined && now <= job.follows.created_at) {
      now = new Date(Date.parse(job.follows.created_at) + 1).toISOString();
    }
    const row: JobRow = {
      id: newId(),
      account_id: job.accountId,
      install_id: job.installId,
      type: job.type,
      target_id: job.targetId,
      idempotency_key: job.idempotencyKey ?? null,
      state: 'queued',
      progress: 0,
      payload: JSON.stringify(job.payload),
      result: null,
      attempts: 0,
      created_at: now,
      updated_at: now,
      run_after: null,
      error: null,
      interruptions: 0,
      interrupted_at: null,
    };
    await this.db.insertInto('jobs').values(row).execute();
    return row;
  }

  /** When a job of this type was last asked for on this install, for per-install throttles. */
  async lastCreatedAt(installId: string, types: readonly string[]): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('jobs')
      .select('created_at')
      .where('install_id', '=', installId)
      .where('type', 'in', types)
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row?.created_at;
  }

  findById(accountId: string, id: string): Promise<JobRow | undefined> {
    return this.db
      .selectFrom('jobs')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  /** Whether a job of this type for this target is still queued or running. */
  async unfinished(targetId: string, type: JobName): Promise<boolean> {
    const row = await this.db
      .selectFrom('jobs')
      .select('id')
      .where('target_id', '=', targetId)
      .where('type', '=', type)
      .where('state', 'in', ['queued', 'running'])
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  listForTarget(targetId: string): Promise<JobRow[]> {
    return this.db
      .selectFrom('jobs')
      .selectAll()
      .where('target_id', '=', targetId)
      .orderBy('created_at')
      .execute();
  }

  /**
   * The oldest queued job that is due and whose install has no job running and no older job
   * still queued, if any: jobs on one install run one at a time, in order, so that a job waiting
   * out a backoff (a provisioning interrupted by a restart) is not overtaken by a later one (a
   * backup of that install).
   */
  nextDue(now: string, types: readonly string[]): Promise<JobRow | undefined> {
    return this.db
      .selectFrom('jobs as j')
      .selectAll('j')
      .where('j.state', '=', 'queued')
      .where('j.type', 'in', types)
      .where((eb) => eb.or([eb('j.run_after', 'is', null), eb('j.run_after', '<=', now)]))
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('jobs as r')
              .select('r.id')
              .where('r.state', '=', 'running')
              .whereRef('r.install_id', '=', 'j.install_id'),
          ),
        ),
      )
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('jobs as o')
              .select('o.id')
              .where('o.state', '=', 'queued')
              .where('o.type', 'in', types)
              .whereRef('o.install_id', '=', 'j.install_id')
              .where((o) =>
                o.or([
                  o('o.created_at', '<', o.ref('j.created_at')),
                  o.and([
                    o('o.created_at', '=', o.ref('j.created_at')),
                    o('o.id', '<', o.ref('j.id')),
                  ]),
                ]),
              ),
          ),
        ),
      )
      .orderBy('j.created_at')
      .orderBy('j.id')
      .limit(1)
      .executeTakeFirst();
  }

  /** Takes a queued job; false when another runner took it first. */
  async claim(id: string, now: string): Promise<boolean> {
    const result = await this.db
      .updateTable('jobs')
      .set((eb) => ({ state: 'running', attempts: eb('attempts', '+', 1), updated_at: now }))
      .where('id', '=', id)
      .where('state', '=', 'queued')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async finish(id: string, result: Record<string, unknown>, now: string): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({
        state: 'succeeded',
        progress: 100,
        result: JSON.stringify(result),
        error: null,
        updated_at: now,
      })
      .where('id', '=', id)
      .execute();
  }

  /** Puts a failed attempt back in the queue until `runAfter`, or fails it for good (null). */
  async fail(id: string, error: string, runAfter: string | null, now: string): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({
        state: runAfter === null ? 'failed' : 'queued',
        run_after: runAfter,
        error,
        updated_at: now,
      })
      .where('id', '=', id)
      .execute();
  }

  async setProgress(id: string, progress: number, now: string): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({ progress, updated_at: now })
      .where('id', '=', id)
      .execute();
  }

  /** What a running job has done so far (src/jobs/steps.ts), kept in `result` until it ends. */
  async saveSteps(id: string, steps: string, now: string): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({ result: steps, updated_at: now })
      .where('id', '=', id)
      .where('state', '=', 'running')
      .execute();
  }

  /** Jobs left `running` by a process that died, for src/jobs/recovery.ts to queue again. */
  listRunning(): Promise<JobRow[]> {
    return this.db
      .selectFrom('jobs')
      .selectAll()
      .where('state', '=', 'running')
      .orderBy('created_at')
      .execute();
  }

  /**
   * Queues a job a restart interrupted again, from its recorded steps. The attempt it was on is
   * given back (it did not fail); the interruption is counted instead.
   */
  async requeueInterrupted(
    id: string,
    interruption: { count: number; step: string | null; runAfter: string | null },
    now: string,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('jobs')
      .set((eb) => ({
        state: 'queued',
        attempts: eb('attempts', '-', 1),
        interruptions: interruption.count,
        interrupted_at: interruption.step,
        run_after: interruption.runAfter,
        updated_at: now,
      }))
      .where('id', '=', id)
      .where('state', '=', 'running')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}
