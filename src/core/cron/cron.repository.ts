import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { InstallRow } from '../installs/installs.repository.js';

/** What is recorded of an install's WordPress cron runs. */
export interface CronRecord {
  installId: string;
  /** ISO 8601: no process runs the install's cron before this. */
  nextRunAt: string;
  lastRunAt: string | null;
  lastOkAt: string | null;
  /** Failed runs in a row. */
  failures: number;
  lastError: string | null;
  runs: number;
  hooksRun: number;
  /** ISO 8601: the earliest event scheduled after the last successful run. */
  nextEventAt: string | null;
}

/** A running install the scheduler may look at, with its failures in a row so far. */
export interface CronCandidate {
  install: InstallRow;
  failures: number;
}

/**
 * The claim on each install's cron, shared by every server process on the store: a run is
 * claimed with a conditional update of `next_run_at`, so that of processes that see the same
 * install due, one runs it, and it runs at most once a minute in all.
 */
export class CronRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /**
   * Running installs (active, with a WordPress and an agent, not deleted) that no process has
   * claimed for later than `now`, least recently run first: installs run within the last
   * minute, or backing off, are left out before anything is read of them.
   */
  async candidates(now: string): Promise<CronCandidate[]> {
    const rows = await this.db
      .selectFrom('installs')
      .leftJoin('install_cron as c', 'c.install_id', 'installs.id')
      .selectAll('installs')
      .select('c.failures as cron_failures')
      .where('installs.deleted_at', 'is', null)
      .where('installs.status', '=', 'active')
      .where('installs.wp_version', 'is not', null)
      .where('installs.table_prefix', 'is not', null)
      .where('installs.agent_secret', 'is not', null)
      .where((eb) => eb.or([eb('c.next_run_at', 'is', null), eb('c.next_run_at', '<=', now)]))
      // Least recently run first, so that when more installs are due than the scheduler runs
      // in a minute, the ones that waited longest go first (NULLs first on both engines).
      .orderBy(sql`coalesce(c.last_run_at, '')`)
      .orderBy('installs.id')
      .execute();
    return rows.map(({ cron_failures, ...install }) => ({
      install,
      failures: cron_failures ?? 0,
    }));
  }

  /**
   * Claims the install's next run at `now` until `until` (ISO 8601): true when this caller may
   * run it, false when another claimed it first or its time has not come. The row is made on
   * the first claim; the update is conditional on `next_run_at` having come, which both SQLite
   * and PostgreSQL apply atomically to the row.
   */
  async claim(installId: string, now: string, until: string): Promise<boolean> {
    await this.db
      .insertInto('install_cron')
      .values({ install_id: installId, next_run_at: now })
      .onConflict((oc) => oc.column('install_id').doNothing())
      .execute();
    const result = await this.db
      .updateTable('install_cron')
      .set({ next_run_at: until, last_run_at: now })
      .where('install_id', '=', installId)
      .where('next_run_at', '<=', now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Records a run that succeeded: failures cleared, counters moved on. */
  async succeeded(
    installId: string,
    run: { startedAt: string; hooks: number; nextEventAt: string | null },
  ): Promise<void> {
    await this.db
      .updateTable('install_cron')
      .set((eb) => ({
        last_ok_at: run.startedAt,
        failures: 0,
        last_error: null,
        runs: eb('runs', '+', 1),
        hooks_run: eb('hooks_run', '+', run.hooks),
        next_event_at: run.nextEventAt,
      }))
      .where('install_id', '=', installId)
      .execute();
  }

  /**
   * Records a failed run: one more failure in a row, and no run before `retryAt` (the claim had
   * set a minute; a repeated failure waits longer).
   */
  async failed(installId: string, error: string, retryAt: string): Promise<void> {
    await this.db
      .updateTable('install_cron')
      .set((eb) => ({
        failures: eb('failures', '+', 1),
        last_error: error.slice(0, 2000),
        runs: eb('runs', '+', 1),
        next_run_at: retryAt,
      }))
      .where('install_id', '=', installId)
      .execute();
  }

  async find(installId: string): Promise<CronRecord | undefined> {
    const row = await this.db
      .selectFrom('install_cron')
      .selectAll()
      .where('install_id', '=', installId)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    return {
      installId: row.install_id,
      nextRunAt: row.next_run_at,
      lastRunAt: row.last_run_at,
      lastOkAt: row.last_ok_at,
      failures: row.failures,
      lastError: row.last_error,
      runs: row.runs,
      hooksRun: row.hooks_run,
      nextEventAt: row.next_event_at,
    };
  }
}
