import type { Kysely } from 'kysely';
import type { Engine } from '../engine.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations change tables that the typed schema does not know yet */
export async function up(db: Kysely<any>, _engine: Engine): Promise<void> {
  // Restarts that interrupted a job one after another without it recording a new step, and the
  // step it had last recorded then: a restart is no failed attempt, but a job that kills the
  // process at one point every time must still be given up.
  await db.schema
    .alterTable('jobs')
    .addColumn('interruptions', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('jobs').addColumn('interrupted_at', 'text').execute();
  // Why a failed install failed (null unless its status is `failed`).
  await db.schema.alterTable('installs').addColumn('status_reason', 'text').execute();
}
