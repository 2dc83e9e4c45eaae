import fs from 'node:fs';
import readline from 'node:readline';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import Database from 'better-sqlite3';
import { createConnection as createCoreConnection } from 'mysql2';
import type { Connection, ConnectionOptions } from 'mysql2/promise';
import { offload } from './offload.js';
import { writeChunk } from './tar.js';

/** home and siteurl as the database holds them. */
export interface SiteUrls {
  home: string | null;
  siteurl: string | null;
}

export function optionsTable(prefix: string): string {
  if (!/^[A-Za-z0-9_]+$/.test(prefix)) throw new Error(`unsafe table prefix "${prefix}"`);
  return `${prefix}options`;
}

/**
 * Copies a live SQLite database with SQLite's online backup API, which gives a consistent
 * snapshot while WordPress keeps using the file. It runs in a child process of its own (see
 * offload.ts: SQLite's locks hold only between processes). Returns the copy's home and siteurl.
 */
export async function backupSqlite(live: string, dest: string, prefix: string): Promise<SiteUrls> {
  await offload({ op: 'sqlite-copy', live, dest });
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

/**
 * The online backup itself, in this process (offload-child.ts). After the first step the rest
 * is copied in one: the copy holds one read lock throughout, so WordPress's writes wait for it
 * (busy timeout) instead of making it start over, again and again on a busy site.
 */
export async function copySqlite(live: string, dest: string): Promise<void> {
  const db = new Database(live, { readonly: true, fileMustExist: true, timeout: 30_000 });
  try {
    await db.backup(dest, { progress: () => 0x7fffffff });
  } finally {
    db.close();
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

export function connectionOptions(target: MysqlTarget): ConnectionOptions {
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

async function tablesOfType(c: Connection, type: 'BASE TABLE' | 'VIEW'): Promise<string[]> {
  const [rows] = await c.query('SHOW FULL TABLES WHERE Table_type = ?', [type]);
  return (rows as Record<string, string>[]).map((r) => Object.values(r)[0] ?? '');
}

const baseTables = (c: Connection): Promise<string[]> => tablesOfType(c, 'BASE TABLE');

/**
 * The columns whose values a dump carries, in order: all but generated ones, which the server
 * computes (and refuses values for). Invisible columns too, which `SELECT *` would leave out.
 */
async function storedColumns(c: Connection, database: string, table: string): Promise<string[]> {
  const [rows] = await c.query(
    `SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
        AND EXTRA NOT LIKE '%VIRTUAL GENERATED%' AND EXTRA NOT LIKE '%STORED GENERATED%'
        AND EXTRA NOT LIKE '%PERSISTENT GENERATED%'
      ORDER BY ORDINAL_POSITION`,
    [database, table],
  );
  return (rows as { name: string }[]).map((r) => r.name);
}

/**
 * `CREATE DEFINER=`u`@`h` …` without its definer: loaded into another install's database (a
 * copy), the object belongs to that install's user, who may not name another.
 */
function withoutDefiner(ddl: string): string {
  return ddl.replace(/\bDEFINER\s*=\s*(`[^`]*`|'[^']*'|\S+?)@(`[^`]*`|'[^']*'|\S+)\s+/i, '');
}

/** A statement whose body holds `;` (a trigger, a routine), between DELIMITER lines. */
function delimited(sqlMode: string, ddl: string): string {
  return (
    `DELIMITER ;;\nSET SESSION sql_mode = '${sqlMode.replace(/[^A-Z0-9_,]/gi, '')}';;\n` +
    `${ddl};;\nDELIMITER ;\nSET sql_mode = 'NO_AUTO_VALUE_ON_ZERO';\n`
  );
}

/** Column `column` of the first row a SHOW CREATE … answered. */
function shown(rows: unknown, column: string): string {
  const value = (rows as Record<string, unknown>[])[0]?.[column];
  if (typeof value !== 'string') {
    throw new Error(`the database user may not read the definition (${column} is empty)`);
  }
  return value;
}

/**
 * Triggers, stored procedures and functions, and views: after the tables' rows (the triggers
 * must not fire while they load), routines before the triggers and views that call them, and
 * views in an order where each comes after the views it selects from.
 */
async function schemaObjects(c: Connection, database: string): Promise<string> {
  let out = '';
  for (const kind of ['PROCEDURE', 'FUNCTION'] as const) {
    const [routines] = await c.query(
      `SELECT ROUTINE_NAME AS name, SQL_MODE AS mode FROM information_schema.ROUTINES
        WHERE ROUTINE_SCHEMA = ? AND ROUTINE_TYPE = ? ORDER BY ROUTINE_NAME`,
      [database, kind],
    );
    for (const r of routines as { name: string; mode: string }[]) {
      const [created] = await c.query(`SHOW CREATE ${kind} ${c.escapeId(r.name)}`);
      const ddl = withoutDefiner(shown(created, `Create ${kind[0]}${kind.slice(1).toLowerCase()}`));
      out += `\nDROP ${kind} IF EXISTS ${c.escapeId(r.name)};\n${delimited(r.mode, ddl)}`;
    }
  }
  // Several triggers of one table and event run in ACTION_ORDER: created in that order, they keep it.
  const [triggers] = await c.query(
    `SELECT TRIGGER_NAME AS name, SQL_MODE AS mode FROM information_schema.TRIGGERS
      WHERE TRIGGER_SCHEMA = ? ORDER BY EVENT_OBJECT_TABLE, ACTION_ORDER`,
    [database],
  );
  for (const t of triggers as { name: string; mode: string }[]) {
    const [created] = await c.query(`SHOW CREATE TRIGGER ${c.escapeId(t.name)}`);
    const ddl = withoutDefiner(shown(created, 'SQL Original Statement'));
    out += `\nDROP TRIGGER IF EXISTS ${c.escapeId(t.name)};\n${delimited(t.mode, ddl)}`;
  }
  const views = new Map<string, string>();
  for (const view of await tablesOfType(c, 'VIEW')) {
    const [created] = await c.query(`SHOW CREATE VIEW ${c.escapeId(view)}`);
    // One line, as the server prints it: the definition's own newlines are escaped in it.
    views.set(view, withoutDefiner(shown(created, 'Create View')));
  }
  const emitted = new Set<string>();
  const emit = (view: string, path: string[]): void => {
    if (emitted.has(view) || path.includes(view)) return;
    const ddl = views.get(view) ?? '';
    for (const other of views.keys()) {
      if (other !== view && ddl.includes(c.escapeId(other))) emit(other, [...path, view]);
    }
    emitted.add(view);
    out += `\nDROP VIEW IF EXISTS ${c.escapeId(view)};\n${ddl};\n`;
  };
  for (const view of views.keys()) emit(view, []);
  return out;
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
 * statement ends a line with `;`, and values never hold a raw newline. Escaping every value and
 * compressing take CPU: it runs in a child process at a lower priority (offload.ts).
 */
export function dumpMysql(target: MysqlTarget, dest: string, prefix: string): Promise<SiteUrls> {
  return offload({ op: 'mysql-dump', target, dest, prefix });
}

/** dumpMysql's work, in this process (offload-child.ts). */
export async function dumpMysqlHere(
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
      const ddl = shown(created, 'Create Table');
      await write(`\nDROP TABLE IF EXISTS ${c.escapeId(table)};\n${ddl};\n`);
      const columns = (await storedColumns(c, target.database, table))
        .map((name) => c.escapeId(name))
        .join(',');
      const rows = core
        .query({ sql: `SELECT ${columns} FROM ${c.escapeId(table)}`, rowsAsArray: true })
        .stream();
      let batch: string[] = [];
      let size = 0;
      const flush = async (): Promise<void> => {
        if (batch.length === 0) return;
        await write(`INSERT INTO ${c.escapeId(table)} (${columns}) VALUES ${batch.join(',')};\n`);
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
    await write(await schemaObjects(c, target.database));
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

/**
 * Drops every table and view of the install's database (their triggers go with the tables; its
 * routines are dropped too) and loads a dump written by dumpMysql. Statements end a line with
 * `;`, or with the delimiter a `DELIMITER` line sets.
 */
export async function loadMysql(target: MysqlTarget, dump: string): Promise<number> {
  const c = await connect(target);
  let statements = 0;
  try {
    await c.query('SET FOREIGN_KEY_CHECKS = 0');
    for (const view of await tablesOfType(c, 'VIEW')) {
      await c.query(`DROP VIEW IF EXISTS ${c.escapeId(view)}`);
    }
    for (const table of await baseTables(c)) await c.query(`DROP TABLE ${c.escapeId(table)}`);
    const [routines] = await c.query(
      'SELECT ROUTINE_NAME AS name, ROUTINE_TYPE AS kind FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?',
      [target.database],
    );
    for (const r of routines as { name: string; kind: string }[]) {
      await c.query(
        `DROP ${r.kind === 'FUNCTION' ? 'FUNCTION' : 'PROCEDURE'} ${c.escapeId(r.name)}`,
      );
    }
    const lines = readline.createInterface({
      input: fs.createReadStream(dump).pipe(zlib.createGunzip()),
      crlfDelay: Infinity,
    });
    let statement = '';
    let delimiter = ';';
    for await (const line of lines) {
      if (statement === '' && (line === '' || line.startsWith('-- '))) continue;
      const set = statement === '' ? /^DELIMITER\s+(\S+)$/i.exec(line) : null;
      if (set !== null) {
        delimiter = set[1] ?? ';';
        continue;
      }
      statement += statement === '' ? line : `\n${line}`;
      if (line.endsWith(delimiter)) {
        await c.query(statement.slice(0, -delimiter.length));
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
