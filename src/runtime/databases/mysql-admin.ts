import { createConnection, type Connection } from 'mysql2/promise';
import type { InstallRow } from '../../core/installs/installs.repository.js';
import type { MysqlTarget } from '../backups/database.js';

export interface InstallDatabase {
  name: string;
  user: string;
  password: string;
}

/**
 * The install's own MySQL database and the server that holds it, or null for an install on
 * SQLite (one provisioned without a MySQL URL). The one place that decides where an install's
 * database is, for provisioning, backups and the PHP network gate.
 */
export function installMysql(
  install: Pick<InstallRow, 'name' | 'db_name' | 'db_user' | 'db_password'>,
  admin: MysqlAdmin | null,
): { admin: MysqlAdmin; db: InstallDatabase } | null {
  if (install.db_name === null || install.db_user === null || install.db_password === null) {
    return null;
  }
  if (admin === null) {
    throw new Error(
      `install ${install.name} uses MySQL but the server has no WPFLEET_WP_DATABASE_URL`,
    );
  }
  return {
    admin,
    db: { name: install.db_name, user: install.db_user, password: install.db_password },
  };
}

/** `wpf_` and the first 16 hex digits of the install id: unique, and valid as both names. */
export function databaseNameFor(installId: string): string {
  return `wpf_${installId.replace(/-/g, '').slice(0, 16)}`;
}

/**
 * Creates and drops installs' databases and users on a MySQL/MariaDB server, with the admin
 * account of `WPFLEET_WP_DATABASE_URL`. Each install gets one database and one user that may
 * touch only that database. Every statement is idempotent, so a retried job converges.
 */
export class MysqlAdmin {
  /** `hostname:port`, as installs' wp-config.php names the server. */
  readonly host: string;
  /** The server's address without brackets, and its port: where installs' PHP may connect. */
  readonly address: { host: string; port: number };

  constructor(private readonly url: string) {
    const u = new URL(url);
    const port = u.port === '' ? 3306 : Number(u.port);
    this.host = `${u.hostname}:${String(port)}`;
    this.address = { host: u.hostname.replace(/^\[|\]$/g, ''), port };
  }

  /** How to connect to an install's database as the install itself. */
  targetFor(db: InstallDatabase): MysqlTarget {
    return { ...this.address, user: db.user, password: db.password, database: db.name };
  }

  private async withConnection<T>(work: (c: Connection) => Promise<T>): Promise<T> {
    const c = await createConnection({ uri: this.url, multipleStatements: false });
    try {
      return await work(c);
    } finally {
      await c.end();
    }
  }

  async ensure(db: InstallDatabase): Promise<void> {
    await this.withConnection(async (c) => {
      const name = c.escapeId(db.name);
      const user = `${c.escape(db.user)}@'%'`;
      await c.query(
        `CREATE DATABASE IF NOT EXISTS ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
      );
      await c.query(`CREATE USER IF NOT EXISTS ${user} IDENTIFIED BY ${c.escape(db.password)}`);
      await c.query(`ALTER USER ${user} IDENTIFIED BY ${c.escape(db.password)}`);
      await c.query(`GRANT ALL PRIVILEGES ON ${name}.* TO ${user}`);
    });
  }

  async drop(db: Pick<InstallDatabase, 'name' | 'user'>): Promise<void> {
    await this.withConnection(async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${c.escapeId(db.name)}`);
      await c.query(`DROP USER IF EXISTS ${c.escape(db.user)}@'%'`);
    });
  }

  /** Whether the database or the user still exist (for tests and checks after delete). */
  async exists(
    db: Pick<InstallDatabase, 'name' | 'user'>,
  ): Promise<{ database: boolean; user: boolean }> {
    return this.withConnection(async (c) => {
      const [dbs] = await c.query(
        'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
        [db.name],
      );
      const [users] = await c.query('SELECT User FROM mysql.user WHERE User = ?', [db.user]);
      return { database: (dbs as unknown[]).length > 0, user: (users as unknown[]).length > 0 };
    });
  }
}
