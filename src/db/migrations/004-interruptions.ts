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
  await failStrandedInstalls(db);
}

/**
 * Installs that earlier versions left `pending` for ever, their provisioning given up and none
 * queued or running, become `failed` with the given-up job's error, so that they say what
 * happened and can be retried.
 */
export async function failStrandedInstalls(db: Kysely<any>): Promise<number> {
  const stranded = (await db
    .selectFrom('installs as i')
    .select(['i.id', 'i.account_id'])
    .where('i.status', '=', 'pending')
    .where('i.deleted_at', 'is', null)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('jobs as j')
            .select('j.id')
            .whereRef('j.target_id', '=', 'i.id')
            .where('j.type', '=', 'install.provision')
            .where('j.state', '!=', 'failed'),
        ),
      ),
    )
    .execute()) as { id: string; account_id: string }[];
  let failed = 0;
  for (const install of stranded) {
    const job = (await db
      .selectFrom('jobs')
      .select('error')
      .where('target_id', '=', install.id)
      .where('type', '=', 'install.provision')
      .orderBy('updated_at', 'desc')
      .limit(1)
      .executeTakeFirst()) as { error: string | null } | undefined;
    // An install without any provisioning job was made by hand (a test, a bench): not stranded.
    if (job === undefined) continue;
    const reason = `provisioning failed: ${job.error ?? 'unknown error'}`.slice(0, 2000);
    await db
      .updateTable('installs')
      .set({ status: 'failed', status_reason: reason })
      .where('id', '=', install.id)
      .execute();
    await db
      .insertInto('activity')
      .values({
        account_id: install.account_id,
        actor: 'runtime',
        action: 'install.failed',
        target_type: 'install',
        target_id: install.id,
        details: JSON.stringify({ reason }),
        created_at: new Date().toISOString(),
      })
      .execute();
    failed += 1;
  }
  return failed;
}
