import type { Kysely, Selectable } from 'kysely';
import type { BackupsTable, DB } from '../../db/schema.js';

export type BackupRow = Selectable<BackupsTable>;

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
}
