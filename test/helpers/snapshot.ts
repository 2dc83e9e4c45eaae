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
  install_inventory: true,
  install_settings: true,
  install_cron: true,
};

export const TABLES = Object.keys(ALL_TABLES) as (keyof DB)[];

/** Every row of every table, as sorted JSON lines per table, so two dumps compare with toEqual. */
export type StoreSnapshot = Record<string, string[]>;

export interface StoreInspector {
  /** A connection of its own to the store, apart from the server's. */
  db: Kysely<DB>;
  snapshot(): Promise<StoreSnapshot>;
  /**
   * The definition of every table, column, index and constraint (under `(schema)`) and the rows of
   * every table the database holds, Kysely's migration tables included: what a migration run may
   * change.
   */
  whole(): Promise<StoreSnapshot>;
  close(): Promise<void>;
}

const SCHEMA_KEY = '(schema)';

async function sqliteDefinitions(db: Kysely<DB>): Promise<{ tables: string[]; lines: string[] }> {
  const { rows } = await sql<{ type: string; name: string; sql: string | null }>`
    select type, name, sql from sqlite_master order by type, name`.execute(db);
  return {
    tables: rows.filter((r) => r.type === 'table').map((r) => r.name),
    lines: rows.map((r) => JSON.stringify(r)),
  };
}

async function postgresDefinitions(db: Kysely<DB>): Promise<{ tables: string[]; lines: string[] }> {
  const tables = await sql<{ name: string }>`
    select table_name as name from information_schema.tables
    where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(db);
  const columns = await sql<Record<string, unknown>>`
    select table_name, column_name, ordinal_position, data_type, is_nullable, column_default
    from information_schema.columns where table_schema = current_schema()`.execute(db);
  const indexes = await sql<Record<string, unknown>>`
    select indexname, indexdef from pg_indexes where schemaname = current_schema()`.execute(db);
  const constraints = await sql<Record<string, unknown>>`
    select conrelid::regclass::text as table_name, conname, pg_get_constraintdef(oid) as def
    from pg_constraint where connamespace = current_schema()::regnamespace`.execute(db);
  return {
    tables: tables.rows.map((r) => r.name),
    lines: [
      ...tables.rows.map((r) => `table ${JSON.stringify(r)}`),
      ...columns.rows.map((r) => `column ${JSON.stringify(r)}`),
      ...indexes.rows.map((r) => `index ${JSON.stringify(r)}`),
      ...constraints.rows.map((r) => `constraint ${JSON.stringify(r)}`),
    ],
  };
}

async function rowsOf(db: Kysely<DB>, table: string): Promise<string[]> {
  const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(
    db,
  );
  return rows.map((row) => JSON.stringify(row)).sort();
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
      for (const table of TABLES) out[table] = await rowsOf(db, table);
      return out;
    },
    async whole() {
      const { tables, lines } =
        cfg.kind === 'sqlite' ? await sqliteDefinitions(db) : await postgresDefinitions(db);
      const out: StoreSnapshot = { [SCHEMA_KEY]: lines.sort() };
      for (const table of tables) out[table] = await rowsOf(db, table);
      return out;
    },
    close: () => db.destroy(),
  };
}
