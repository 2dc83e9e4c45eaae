import type { Kysely } from 'kysely';
import type { Engine } from '../engine.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations change tables that the typed schema does not know yet */
export async function up(db: Kysely<any>, _engine: Engine): Promise<void> {
  // Counts the install's page purges, so that every server's edge (each keeps its own page
  // cache) drops pages rendered before the latest one.
  await db.schema
    .alterTable('installs')
    .addColumn('pages_generation', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}
