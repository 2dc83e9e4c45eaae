import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Engine } from './engine.js';
import * as initial from './migrations/001-initial.js';
import * as runtime from './migrations/002-runtime.js';
import * as backups from './migrations/003-backups.js';
import * as interruptions from './migrations/004-interruptions.js';
import * as pagePurges from './migrations/005-page-purges.js';
import * as inventory from './migrations/006-inventory.js';
import * as installSettings from './migrations/007-install-settings.js';
import * as installCron from './migrations/009-install-cron.js';
import type { DB } from './schema.js';

/** Migrations are listed here in order; each receives the engine for the few types that differ. */
const MIGRATIONS = {
  '001-initial': initial,
  '002-runtime': runtime,
  '003-backups': backups,
  '004-interruptions': interruptions,
  '005-page-purges': pagePurges,
  '006-inventory': inventory,
  '007-install-settings': installSettings,
  '009-install-cron': installCron,
};

class InlineProvider implements MigrationProvider {
  constructor(private readonly engine: Engine) {}

  getMigrations(): Promise<Record<string, Migration>> {
    const out: Record<string, Migration> = {};
    for (const [name, m] of Object.entries(MIGRATIONS)) {
      out[name] = { up: (db) => m.up(db, this.engine) };
    }
    return Promise.resolve(out);
  }
}

/** The schema new tables go to (search_path's first), where the migration table must live too. */
async function currentSchema(db: Kysely<DB>): Promise<string> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  const schema = rows[0]?.schema;
  if (schema === undefined) throw new Error('PostgreSQL has no current schema: check search_path');
  return schema;
}

/**
 * The PostgreSQL advisory lock that serialises wpfleet's migrations on a database, and the
 * dropping of whole schemas (the tests' isolation). Kysely takes its own lock only after it has
 * looked through every schema's catalog, and that look fails when another schema is dropped or
 * migrated at the same moment: two servers starting together, or tests running side by side.
 */
export const MIGRATION_LOCK_KEY = 7_223_005_391;

export async function migrateToLatest(db: Kysely<DB>, engine: Engine): Promise<void> {
  if (engine !== 'postgres') {
    await runMigrations(db, engine);
    return;
  }
  // One connection for the whole run: a session-level lock belongs to the connection holding it.
  await db.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(${sql.lit(MIGRATION_LOCK_KEY)})`.execute(connection);
    try {
      await runMigrations(connection, engine);
    } finally {
      await sql`select pg_advisory_unlock(${sql.lit(MIGRATION_LOCK_KEY)})`.execute(connection);
    }
  });
}

async function runMigrations(db: Kysely<DB>, engine: Engine): Promise<void> {
  // Kysely looks for its migration table in every schema; pinning it to ours keeps databases that
  // hold several wpfleet schemas (the tests' isolation) from finding another schema's table.
  const migrator = new Migrator({
    db,
    provider: new InlineProvider(engine),
    ...(engine === 'postgres' ? { migrationTableSchema: await currentSchema(db) } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error !== undefined || failed !== undefined) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${reason}`);
  }
}
