import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { DB } from '../../src/db/schema.js';
import type { TestStore } from './engines.js';

// Every table of the schema: the compiler refuses this object if a table is added and not listed.
const ALL_TABLES: Record<keyof DB, true> = {
  accounts: true,
  users: true,
  account_users: true,
  account_user_installs: true,
  credentials: true,
  sites: true,
  installs: true,
  domains: true,
  backups: true,
  ssh_keys: true,
  jobs: true,
  activity: true,
};

export const TABLES = Object.keys(ALL_TABLES) as (keyof DB)[];

/** Every row of every table, as sorted JSON lines per table, so two dumps compare with toEqual. */
export type StoreSnapshot = Record<string, string[]>;

export interface StoreInspector {
  /** A connection of its own to the store, apart from the server's. */
  db: Kysely<DB>;
  snapshot(): Promise<StoreSnapshot>;
  close(): Promise<void>;
}

/**
 * Opens a second connection to a test store to dump it. A failed request must leave every table
 * as it was, so the tests compare a dump taken before with one taken after.
 */
export function inspectStore(store: TestStore): StoreInspector {
  const cfg = store.config.database;
  const db =
    cfg.kind === 'sqlite'
      ? new Kysely<DB>({ dialect: new SqliteDialect({ database: new SQLite(cfg.file) }) })
      : new Kysely<DB>({
          dialect: new PostgresDialect({
            pool: new pg.Pool({ connectionString: cfg.url, max: 2 }),
          }),
        });
  return {
    db,
    async snapshot() {
      const out: StoreSnapshot = {};
      for (const table of TABLES) {
        const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(
          table,
        )}`.execute(db);
        out[table] = rows.map((row) => JSON.stringify(row)).sort();
      }
      return out;
    },
    close: () => db.destroy(),
  };
}
