import type { Kysely } from 'kysely';
import type { Engine } from '../engine.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations build tables that the typed schema does not know yet */
export async function up(db: Kysely<any>, _engine: Engine): Promise<void> {
  // The scheduler's record of each install's WordPress cron (src/core/cron/): when it may run
  // next, which every server process claims with a conditional update so that an install runs
  // at most once a minute in all, its failures in a row (the backoff) and cheap counters instead
  // of an activity row per run. An install gets its row on its first due run.
  await db.schema
    .createTable('install_cron')
    .addColumn('install_id', 'text', (c) => c.primaryKey().references('installs.id'))
    .addColumn('next_run_at', 'text', (c) => c.notNull())
    .addColumn('last_run_at', 'text')
    .addColumn('last_ok_at', 'text')
    .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('runs', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('hooks_run', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_event_at', 'text')
    .execute();
}
