import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mysqlCronSource, sqliteCronSource } from '../../src/runtime/cron/cron-sources.js';
import { MysqlAdmin } from '../../src/runtime/databases/mysql-admin.js';
import { MARIADB_URL } from '../helpers/hosted.js';

/**
 * Reading an install's stored `cron` option without its PHP: from a SQLite database as
 * WordPress's installer wrote it (the WordPress 6.5 database of @wp-playground/wordpress-builds),
 * read-only and never waiting long on a write in progress, and from a MySQL database as the
 * install's own user.
 */
const FIXTURE = fs.readFileSync(
  new URL('../unit/fixtures/cron/wpfleet-6.1.9-future-post.txt', import.meta.url),
  'utf8',
);
const PLAYGROUND_DB = path.resolve(
  'node_modules/@wp-playground/wordpress-builds/public/wp-6.5/wp-content/database/.ht.sqlite',
);

describe('the SQLite cron source', () => {
  let dir: string;
  let file: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-cron-'));
    file = path.join(dir, '.ht.sqlite');
    fs.copyFileSync(PLAYGROUND_DB, file);
  });

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads the option, and its fingerprint changes with the database and only then', async () => {
    const source = sqliteCronSource(file, 'wp_');
    expect(await source.read()).toMatch(/^a:3:\{i:1719391636;.*s:7:"version";i:2;\}$/);
    const before = await source.fingerprint();
    expect(await source.fingerprint()).toBe(before);
    // Reading leaves the file as it was.
    await source.read();
    expect(await source.fingerprint()).toBe(before);

    const writer = new Database(file);
    writer
      .prepare(`UPDATE wp_options SET option_value = ? WHERE option_name = 'cron'`)
      .run(FIXTURE);
    writer.close();
    expect(await source.fingerprint()).not.toBe(before);
    expect(await source.read()).toBe(FIXTURE);
  });

  it('answers null with no cron row, and refuses a table prefix that is not one', async () => {
    expect(await sqliteCronSource(file, 'wp_').read()).not.toBeNull();
    const writer = new Database(file);
    writer.prepare(`DELETE FROM wp_options WHERE option_name = 'cron'`).run();
    writer.close();
    expect(await sqliteCronSource(file, 'wp_').read()).toBeNull();
    expect(() => sqliteCronSource(file, 'wp_; DROP TABLE x; --')).toThrow(/unsafe table prefix/);
  });

  it('gives up at once while WordPress holds the write lock', async () => {
    const writer = new Database(file);
    writer.prepare('BEGIN EXCLUSIVE').run();
    try {
      await expect(sqliteCronSource(file, 'wp_').read()).rejects.toThrow(/locked|busy/i);
    } finally {
      writer.prepare('ROLLBACK').run();
      writer.close();
    }
    // Once the lock is gone, it reads.
    expect(await sqliteCronSource(file, 'wp_').read()).not.toBeUndefined();
  });
});

describe('the MySQL cron source', () => {
  const admin = new MysqlAdmin(MARIADB_URL);
  const db = {
    name: `wpf_crontest${randomBytes(4).toString('hex')}`,
    user: `wpf_crontest${randomBytes(2).toString('hex')}`,
    password: randomBytes(12).toString('hex'),
  };

  beforeAll(async () => {
    await admin.ensure(db);
    const c = await createConnection({ uri: MARIADB_URL, database: db.name });
    try {
      await c.query(
        'CREATE TABLE wpx_options (option_id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, option_name varchar(191) NOT NULL UNIQUE, option_value longtext NOT NULL, autoload varchar(20) NOT NULL)',
      );
      await c.query(
        "INSERT INTO wpx_options (option_name, option_value, autoload) VALUES ('cron', ?, 'yes')",
        [FIXTURE],
      );
    } finally {
      await c.end();
    }
  });

  afterAll(async () => {
    await admin.drop(db);
  });

  it("reads the option as the install's own user, with no fingerprint", async () => {
    const source = mysqlCronSource(admin.targetFor(db), 'wpx_');
    expect(await source.fingerprint()).toBeNull();
    expect(await source.read()).toBe(FIXTURE);
    expect(await mysqlCronSource(admin.targetFor(db), 'wpy_').read().catch(String)).toMatch(
      /doesn't exist/,
    );
  });
});
