import { sql, type Kysely, type Selectable, type Updateable } from 'kysely';
import type { BackupsTable, DB } from '../../db/schema.js';

export type BackupRow = Selectable<BackupsTable>;

export type BackupStatus = 'requested' | 'in_progress' | 'completed' | 'failed';

export class BackupsRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async insert(row: BackupRow): Promise<void> {
    await this.db.insertInto('backups').values(row).execute();
  }

  findById(installId: string, id: string): Promise<BackupRow | undefined> {
    return this.db
      .selectFrom('backups')
      .selectAll()
      .where('install_id', '=', installId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  /** Any backup by id, for the runtime and the operator's CLI. */
  findAny(id: string): Promise<BackupRow | undefined> {
    return this.db.selectFrom('backups').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The install's backups, newest first. */
  listForInstall(installId: string): Promise<BackupRow[]> {
    return this.db
      .selectFrom('backups')
      .selectAll()
      .where('install_id', '=', installId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
  }

  /** Finished backups (completed or failed) made before `before`. */
  listFinishedBefore(before: string): Promise<BackupRow[]> {
    return this.db
      .selectFrom('backups')
      .selectAll()
      .where('status', 'in', ['completed', 'failed'])
      .where('created_at', '<', before)
      .orderBy('created_at')
      .execute();
  }

  /** Moves a backup on: `requested` → `in_progress` → `completed` | `failed`. */
  async setStatus(
    id: string,
    status: BackupStatus,
    changes: Omit<Updateable<BackupsTable>, 'id' | 'status'> = {},
  ): Promise<void> {
    await this.db
      .updateTable('backups')
      .set({ ...changes, status })
      .where('id', '=', id)
      .execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('backups').where('id', '=', id).execute();
  }

  /** Days the account keeps backups; null when it uses the server's default. */
  async retentionDays(accountId: string): Promise<number | null> {
    const { rows } = await sql<{ days: number | string | null }>`
      select backup_retention_days as days from accounts where id = ${accountId}`.execute(this.db);
    const days = rows[0]?.days;
    return days === undefined || days === null ? null : Number(days);
  }

  async setRetentionDays(accountId: string, days: number | null): Promise<void> {
    await sql`update accounts set backup_retention_days = ${days} where id = ${accountId}`.execute(
      this.db,
    );
  }
}
