import type { Kysely } from 'kysely';
import type { Engine } from '../engine.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations build tables that the typed schema does not know yet */
export async function up(db: Kysely<any>, _engine: Engine): Promise<void> {
  // The last inventory read from inside each install (JSON), and why the last refresh failed:
  // a failed refresh keeps the inventory it could not replace.
  await db.schema
    .createTable('install_inventory')
    .addColumn('install_id', 'text', (c) => c.primaryKey().references('installs.id'))
    .addColumn('inventory', 'text')
    .addColumn('refreshed_at', 'text')
    .addColumn('error', 'text')
    .addColumn('failed_at', 'text')
    .execute();
}
