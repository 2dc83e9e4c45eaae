import type { Kysely, Selectable } from 'kysely';
import type { DB, JobsTable } from '../../db/schema.js';
import { newId, nowIso } from '../shared/ids.js';

export type JobRow = Selectable<JobsTable>;

export interface NewJob {
  accountId: string;
  installId: string | null;
  type: string;
  targetId: string;
  payload?: Record<string, unknown>;
  idempotencyKey?: string;
}

/**
 * The durable queue. A job is written in the same transaction as the change that asked for it;
 * the runtime issue's worker takes them from here.
 */
export class JobsRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async enqueue(job: NewJob): Promise<JobRow> {
    const now = nowIso();
    const row: JobRow = {
      id: newId(),
      account_id: job.accountId,
      install_id: job.installId,
      type: job.type,
      target_id: job.targetId,
      idempotency_key: job.idempotencyKey ?? null,
      state: 'queued',
      progress: 0,
      payload: JSON.stringify(job.payload ?? {}),
      result: null,
      attempts: 0,
      created_at: now,
      updated_at: now,
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

  listForTarget(targetId: string): Promise<JobRow[]> {
    return this.db
      .selectFrom('jobs')
      .selectAll()
      .where('target_id', '=', targetId)
      .orderBy('created_at')
      .execute();
  }
}
