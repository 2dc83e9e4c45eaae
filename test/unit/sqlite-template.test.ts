import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { installFromTemplate, TEMPLATE } from '../../src/runtime/provision/sqlite-template.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A miniature of what WordPress's installer leaves in a SQLite database with the template prefix. */
function template(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-tpl-'));
  dirs.push(dir);
  const file = path.join(dir, '.ht.sqlite');
  const db = new SQLite(file);
  const p = TEMPLATE.prefix;
  db.exec(`
    CREATE TABLE _mysql_data_types_cache ("table" TEXT, column_or_index TEXT, mysql_type TEXT, UNIQUE ("table", column_or_index));
    CREATE TABLE "${p}options" (option_id INTEGER PRIMARY KEY AUTOINCREMENT, option_name TEXT, option_value TEXT);
    CREATE INDEX "${p}options__option_name" ON "${p}options" (option_name);
    CREATE TABLE "${p}users" (ID INTEGER PRIMARY KEY AUTOINCREMENT, user_login TEXT, user_pass TEXT, user_email TEXT, user_url TEXT, user_registered TEXT);
    CREATE TABLE "${p}usermeta" (umeta_id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER, meta_key TEXT, meta_value TEXT);
    CREATE TABLE "${p}posts" (ID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT);
    CREATE TABLE "${p}comments" (comment_ID INTEGER PRIMARY KEY AUTOINCREMENT, comment_author_url TEXT);
    INSERT INTO _mysql_data_types_cache VALUES ('${p}options', 'option_name', 'varchar(191)');
    INSERT INTO "${p}options" (option_name, option_value) VALUES
      ('siteurl', '${TEMPLATE.url}'), ('home', '${TEMPLATE.url}'), ('blogname', '${TEMPLATE.title}'),
      ('admin_email', '${TEMPLATE.email}'), ('${p}user_roles', 'a:0:{}'), ('_transient_doing_cron', '1');
    INSERT INTO "${p}users" (user_login, user_pass, user_email, user_url, user_registered)
      VALUES ('admin', '$P$Bknownhashknownhashknownhash000', '${TEMPLATE.email}', '${TEMPLATE.url}', '2020-01-01 00:00:00');
    INSERT INTO "${p}usermeta" (user_id, meta_key, meta_value) VALUES
      (1, '${p}capabilities', 'a:1:{s:13:"administrator";b:1;}'), (1, '${p}user_level', '10'), (1, 'session_tokens', 'x');
    INSERT INTO "${p}posts" (guid) VALUES ('${TEMPLATE.url}/?p=1');
    INSERT INTO "${p}comments" (comment_author_url) VALUES ('${TEMPLATE.url}/');
  `);
  db.close();
  return file;
}

describe('installFromTemplate', () => {
  it("makes a copy of the template the install's own, leaving the template untouched", () => {
    const tpl = template();
    const before = fs.readFileSync(tpl);
    const target = path.join(path.dirname(tpl), 'install.sqlite');
    installFromTemplate(tpl, target, {
      prefix: 'wp_ab12cd_',
      url: 'http://blog.localhost:8080',
      title: 'blog',
      adminEmail: 'owner@example.com',
    });
    expect(fs.readFileSync(tpl).equals(before)).toBe(true);
    expect(fs.existsSync(`${target}.tmp`)).toBe(false);

    const db = new SQLite(target, { readonly: true });
    const names = (
      db.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'wp\\_%' ESCAPE '\\'").all() as {
        name: string;
      }[]
    ).map((r) => r.name);
    expect(names.some((n) => n.startsWith(TEMPLATE.prefix))).toBe(false);
    expect(names).toContain('wp_ab12cd_options');
    expect(names).toContain('wp_ab12cd_options__option_name');
    expect(db.prepare('SELECT "table" FROM _mysql_data_types_cache').pluck().all()).toEqual([
      'wp_ab12cd_options',
    ]);
    const option = (name: string) =>
      db
        .prepare('SELECT option_value FROM wp_ab12cd_options WHERE option_name = ?')
        .pluck()
        .get(name);
    expect(option('siteurl')).toBe('http://blog.localhost:8080');
    expect(option('home')).toBe('http://blog.localhost:8080');
    expect(option('blogname')).toBe('blog');
    expect(option('admin_email')).toBe('owner@example.com');
    expect(option('wp_ab12cd_user_roles')).toBe('a:0:{}');
    expect(option('_transient_doing_cron')).toBeUndefined();
    expect(
      db.prepare('SELECT meta_key FROM wp_ab12cd_usermeta ORDER BY umeta_id').pluck().all(),
    ).toEqual(['wp_ab12cd_capabilities', 'wp_ab12cd_user_level']);
    const user = db.prepare('SELECT * FROM wp_ab12cd_users').get() as {
      user_pass: string;
      user_email: string;
    };
    expect(user.user_email).toBe('owner@example.com');
    // Not the template's hash, and not one WordPress could match a password to.
    expect(user.user_pass).not.toContain('knownhash');
    expect(user.user_pass.startsWith('$P$')).toBe(false);
    expect(db.prepare('SELECT guid FROM wp_ab12cd_posts').pluck().get()).toBe(
      'http://blog.localhost:8080/?p=1',
    );
    db.close();
  });

  it('leaves an existing database alone (a retried job)', () => {
    const tpl = template();
    const target = path.join(path.dirname(tpl), 'install.sqlite');
    fs.writeFileSync(target, 'already here');
    installFromTemplate(tpl, target, {
      prefix: 'wp_x_',
      url: 'http://x',
      title: 'x',
      adminEmail: 'x@example.com',
    });
    expect(fs.readFileSync(target, 'utf8')).toBe('already here');
  });
});
