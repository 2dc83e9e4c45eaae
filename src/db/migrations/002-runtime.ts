import type { Kysely } from 'kysely';
import type { Engine } from '../engine.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations change tables that the typed schema does not know yet */
export async function up(db: Kysely<any>, _engine: Engine): Promise<void> {
  // A job that failed waits until run_after before its next attempt; error keeps the last reason.
  await db.schema.alterTable('jobs').addColumn('run_after', 'text').execute();
  await db.schema.alterTable('jobs').addColumn('error', 'text').execute();
  // What provisioning chose for the install, needed to run and manage it afterwards.
  await db.schema.alterTable('installs').addColumn('release_version', 'text').execute();
  await db.schema.alterTable('installs').addColumn('table_prefix', 'text').execute();
  await db.schema.alterTable('installs').addColumn('agent_secret', 'text').execute();
  // A MySQL/MariaDB install's own database and user (null for SQLite installs).
  await db.schema.alterTable('installs').addColumn('db_name', 'text').execute();
  await db.schema.alterTable('installs').addColumn('db_user', 'text').execute();
  await db.schema.alterTable('installs').addColumn('db_password', 'text').execute();
}
