import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config.js';
import type { Engine } from './engine.js';
import { migrateToLatest } from './migrate.js';
import type { DB } from './schema.js';

export interface Database {
  db: Kysely<DB>;
  engine: Engine;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** PostgreSQL schema to use instead of `public` (tests isolate each run in its own). */
  pgSchema?: string;
}

const STATEMENT_CACHE = 500;

/**
 * Kysely prepares every query anew, which cost a tenth of the server's time on the hot read
 * paths; the same SQL text (our queries are parameterised) reuses its prepared statement.
 */
function cachingStatements(sqlite: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (stmt === undefined) {
        stmt = sqlite.prepare(sql);
        if (cache.size >= STATEMENT_CACHE) cache.clear();
        cache.set(sql, stmt);
      }
      return stmt;
    },
  };
}

function openSqlite(file: string): Kysely<DB> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  // FULL makes every commit durable before we answer, even across a power cut.
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  // The CLI may write while a server runs on the same file.
  sqlite.pragma('busy_timeout = 10000');
  return new Kysely<DB>({ dialect: new SqliteDialect({ database: cachingStatements(sqlite) }) });
}

function openPostgres(url: string, schema: string | undefined): Kysely<DB> {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  });
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}

/** Opens the control-plane database and brings its schema up to date. */
export async function openDatabase(
  config: DatabaseConfig,
  options: OpenOptions = {},
): Promise<Database> {
  const db =
    config.kind === 'sqlite' ? openSqlite(config.file) : openPostgres(config.url, options.pgSchema);
  try {
    await migrateToLatest(db, config.kind);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return { db, engine: config.kind, close: () => db.destroy() };
}
