import type { Kysely } from 'kysely';
import type { Engine } from '../engine.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations change tables that the typed schema does not know yet */
export async function up(db: Kysely<any>, _engine: Engine): Promise<void> {
  // What a finished backup takes in storage, and why a failed one failed.
  await db.schema.alterTable('backups').addColumn('size_bytes', 'bigint').execute();
  await db.schema.alterTable('backups').addColumn('error', 'text').execute();
  // Days an account's backups are kept; null means the server's default.
  await db.schema.alterTable('accounts').addColumn('backup_retention_days', 'integer').execute();
}
