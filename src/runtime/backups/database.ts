import fs from 'node:fs';
import readline from 'node:readline';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import Database from 'better-sqlite3';
import { createConnection as createCoreConnection } from 'mysql2';
import type { Connection, ConnectionOptions } from 'mysql2/promise';
import { writeChunk } from './tar.js';

/** home and siteurl as the database holds them. */
export interface SiteUrls {
  home: string | null;
  siteurl: string | null;
}

function optionsTable(prefix: string): string {
  if (!/^[A-Za-z0-9_]+$/.test(prefix)) throw new Error(`unsafe table prefix "${prefix}"`);
  return `${prefix}options`;
}

/**
 * Copies a live SQLite database with SQLite's online backup API, which gives a consistent
 * snapshot while WordPress keeps using the file. Returns the copy's home and siteurl.
 */
export async function backupSqlite(live: string, dest: string, prefix: string): Promise<SiteUrls> {
  const db = new Database(live, { readonly: true, fileMustExist: true });
  try {
    await db.backup(dest);
  } finally {
    db.close();
  }
  const copy = new Database(dest, { readonly: true });
  try {
    const rows = copy
      .prepare(
        `SELECT option_name, option_value FROM ${optionsTable(prefix)} WHERE option_name IN ('home', 'siteurl')`,
      )
      .all() as { option_name: string; option_value: string }[];
    return urlsOf(rows);
  } finally {
    copy.close();
  }
}

function urlsOf(rows: { option_name: string; option_value: string }[]): SiteUrls {
  return {
    home: rows.find((r) => r.option_name === 'home')?.option_value ?? null,
    siteurl: rows.find((r) => r.option_name === 'siteurl')?.option_value ?? null,
  };
}

/** How to reach an install's own MySQL/MariaDB database, with its own user. */
export interface MysqlTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/** The install's database on the server of the admin URL `mysql://…@host:port`. */
export function mysqlTarget(
  adminUrl: string,
  db: { name: string; user: string; password: string },
): MysqlTarget {
  const u = new URL(adminUrl);
  return {
    host: u.hostname,
    port: u.port === '' ? 3306 : Number(u.port),
    user: db.user,
    password: db.password,
    database: db.name,
  };
}

function connectionOptions(target: MysqlTarget): ConnectionOptions {
  return {
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database,
    charset: 'utf8mb4_unicode_ci',
    // Values exactly as stored: dates as text (zero dates too), big numbers as text, JSON as text.
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    typeCast: (field, next) => (field.type === 'JSON' ? field.string('utf8') : next()),
    multipleStatements: false,
  };
}

/** A connection with both APIs: promises for statements, the core one for row streams. */
async function connectBoth(
  target: MysqlTarget,
): Promise<{ c: Connection; core: ReturnType<typeof createCoreConnection> }> {
  const core = createCoreConnection(connectionOptions(target));
  const c = core.promise();
  await c.query('SELECT 1');
  return { c, core };
}

async function connect(target: MysqlTarget): Promise<Connection> {
  return (await connectBoth(target)).c;
}

async function baseTables(c: Connection): Promise<string[]> {
  const [rows] = await c.query("SHOW FULL TABLES WHERE Table_type = 'BASE TABLE'");
  return (rows as Record<string, string>[]).map((r) => Object.values(r)[0] ?? '');
}

/** Bytes the install's tables take, for the disk check. */
export async function mysqlSize(target: MysqlTarget): Promise<number> {
  const c = await connect(target);
  try {
    const [rows] = await c.query(
      'SELECT COALESCE(SUM(data_length + index_length), 0) AS size FROM information_schema.TABLES WHERE table_schema = ?',
      [target.database],
    );
    return Number((rows as { size: string | number }[])[0]?.size ?? 0);
  } finally {
    await c.end();
  }
}

const BATCH_BYTES = 1 << 20;

/**
 * Dumps every table of the install's database as SQL, gzipped, from one consistent snapshot
 * (`START TRANSACTION WITH CONSISTENT SNAPSHOT`), so the site keeps writing meanwhile. Each
 * statement ends a line with `;`, and values never hold a raw newline.
 */
export async function dumpMysql(
  target: MysqlTarget,
  dest: string,
  prefix: string,
): Promise<SiteUrls> {
  const { c, core } = await connectBoth(target);
  const gzip = zlib.createGzip();
  const done = pipeline(gzip, fs.createWriteStream(dest));
  let urls: SiteUrls = { home: null, siteurl: null };
  try {
    await c.query("SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'");
    await c.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await c.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
    const write = (text: string): Promise<void> => writeChunk(gzip, Buffer.from(text, 'utf8'));
    await write(
      "-- wpfleet backup\nSET NAMES utf8mb4;\nSET FOREIGN_KEY_CHECKS = 0;\nSET UNIQUE_CHECKS = 0;\nSET sql_mode = 'NO_AUTO_VALUE_ON_ZERO';\n",
    );
    for (const table of await baseTables(c)) {
      const [created] = await c.query(`SHOW CREATE TABLE ${c.escapeId(table)}`);
      const ddl = Object.values((created as Record<string, string>[])[0] ?? {})[1] ?? '';
      await write(`\nDROP TABLE IF EXISTS ${c.escapeId(table)};\n${ddl};\n`);
      const rows = core
        .query({ sql: `SELECT * FROM ${c.escapeId(table)}`, rowsAsArray: true })
        .stream();
      let batch: string[] = [];
      let size = 0;
      const flush = async (): Promise<void> => {
        if (batch.length === 0) return;
        await write(`INSERT INTO ${c.escapeId(table)} VALUES ${batch.join(',')};\n`);
        batch = [];
        size = 0;
      };
      for await (const row of rows as AsyncIterable<unknown[]>) {
        const tuple = `(${row.map((v) => c.escape(v)).join(',')})`;
        batch.push(tuple);
        size += tuple.length;
        if (size >= BATCH_BYTES) await flush();
      }
      await flush();
    }
    await write('SET FOREIGN_KEY_CHECKS = 1;\nSET UNIQUE_CHECKS = 1;\n');
    const [options] = await c.query(
      `SELECT option_name, option_value FROM ${c.escapeId(optionsTable(prefix))} WHERE option_name IN ('home', 'siteurl')`,
    );
    urls = urlsOf(options as { option_name: string; option_value: string }[]);
    await c.query('COMMIT');
    gzip.end();
    await done;
  } catch (err) {
    gzip.destroy();
    await done.catch(() => undefined);
    throw err;
  } finally {
    await c.end();
  }
  return urls;
}

/** Drops every table of the install's database and loads a dump written by dumpMysql. */
export async function loadMysql(target: MysqlTarget, dump: string): Promise<number> {
  const c = await connect(target);
  let statements = 0;
  try {
    await c.query('SET FOREIGN_KEY_CHECKS = 0');
    for (const table of await baseTables(c)) await c.query(`DROP TABLE ${c.escapeId(table)}`);
    const lines = readline.createInterface({
      input: fs.createReadStream(dump).pipe(zlib.createGunzip()),
      crlfDelay: Infinity,
    });
    let statement = '';
    for await (const line of lines) {
      if (statement === '' && (line === '' || line.startsWith('-- '))) continue;
      statement += statement === '' ? line : `\n${line}`;
      if (line.endsWith(';')) {
        await c.query(statement.slice(0, -1));
        statements += 1;
        statement = '';
      }
    }
    if (statement.trim() !== '') throw new Error('the database dump ends inside a statement');
  } finally {
    await c.end();
  }
  return statements;
}
