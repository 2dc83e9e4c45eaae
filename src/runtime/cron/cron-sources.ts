import fs from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createConnection } from 'mysql2/promise';
import type { InstallRow } from '../../core/installs/installs.repository.js';
import { connectionOptions, optionsTable, type MysqlTarget } from '../backups/database.js';
import { installMysql, type MysqlAdmin } from '../databases/mysql-admin.js';
import { siteLayout, SQLITE_DATABASE } from '../sites/site-files.js';

/**
 * Where the scheduler reads an install's stored `cron` option from, without its PHP: the
 * install's own database, SQLite file or MySQL.
 */
export interface CronSource {
  /**
   * Something that changes whenever the stored option may have changed, so that an unchanged
   * install is not read again; null when that cannot be told cheaply (MySQL).
   */
  fingerprint(): Promise<string | null>;
  /** The option's stored value; null when there is no `cron` row. */
  read(): Promise<string | null>;
}

/**
 * How long a read waits for a write in progress in the install's SQLite database. Short: the
 * read blocks the server's event loop meanwhile (better-sqlite3 is synchronous), and a busy
 * database is simply read again at the next look.
 */
const SQLITE_BUSY_MS = 25;

/**
 * The install's SQLite database, opened read-only for one query and closed: the scheduler holds
 * no lock between looks, and takes a shared lock only for the query, which WordPress's writes
 * wait for at most that long. Its fingerprint is the file's (and its journal's) size and mtime.
 */
export function sqliteCronSource(file: string, prefix: string): CronSource {
  const table = optionsTable(prefix);
  return {
    async fingerprint() {
      const parts = await Promise.all(
        [file, `${file}-journal`, `${file}-wal`].map(async (f) => {
          try {
            const s = await fs.stat(f);
            return `${s.size}@${s.mtimeMs}`;
          } catch {
            return '-';
          }
        }),
      );
      return parts.join(' ');
    },
    // A failure to open or read (a busy or missing file) rejects, as for MySQL.
    read: () =>
      new Promise<string | null>((resolve) => {
        const db = new Database(file, {
          readonly: true,
          fileMustExist: true,
          timeout: SQLITE_BUSY_MS,
        });
        try {
          const row = db
            .prepare(`SELECT option_value FROM ${table} WHERE option_name = 'cron'`)
            .get() as { option_value: string | Buffer | null } | undefined;
          const value = row?.option_value ?? null;
          resolve(Buffer.isBuffer(value) ? value.toString('utf8') : value);
        } finally {
          db.close();
        }
      }),
  };
}

/** The install's own MySQL database, as the install's own user, one short connection a read. */
export function mysqlCronSource(target: MysqlTarget, prefix: string): CronSource {
  const table = optionsTable(prefix);
  return {
    fingerprint: () => Promise.resolve(null),
    async read() {
      const c = await createConnection({ ...connectionOptions(target), connectTimeout: 5000 });
      try {
        const [rows] = await c.query(
          `SELECT option_value FROM ${c.escapeId(table)} WHERE option_name = 'cron'`,
        );
        const value = (rows as { option_value: string | Buffer | null }[])[0]?.option_value;
        return Buffer.isBuffer(value) ? value.toString('utf8') : (value ?? null);
      } finally {
        await c.end();
      }
    },
  };
}

/** The cron source of a hosted install: its MySQL database if it has one, else its SQLite file. */
export function hostedCronSource(
  install: InstallRow & { table_prefix: string },
  dataDir: string,
  mysql: MysqlAdmin | null,
): CronSource {
  const own = installMysql(install, mysql);
  if (own !== null) return mysqlCronSource(own.admin.targetFor(own.db), install.table_prefix);
  const { contentDir } = siteLayout(dataDir, install.id);
  return sqliteCronSource(path.join(contentDir, SQLITE_DATABASE), install.table_prefix);
}
