import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import SQLite from 'better-sqlite3';

/** What the template database was installed with; each install replaces all of it. */
export const TEMPLATE = {
  prefix: 'wp_tpl_',
  url: 'http://template.invalid',
  title: 'wpfleet template',
  email: 'template@wpfleet.invalid',
} as const;

export interface Personalization {
  prefix: string;
  url: string;
  title: string;
  adminEmail: string;
}

/**
 * A value no password hashes to: the admin account has no usable password until its owner sets
 * one in wp-admin (the single-use login link is the way in). WordPress treats hashes longer
 * than 32 characters as phpass hashes, and this one has no valid phpass prefix.
 */
export function unusablePasswordHash(): string {
  return `!wpfleet!${randomBytes(32).toString('hex')}`;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * Turns a copy of the template database into one install's: its table prefix (tables, their
 * indexes, the SQLite plugin's type cache, prefixed option and user meta keys), its address,
 * title and admin email, and an admin password nobody knows. One transaction, on the file.
 */
export function personalizeDatabase(file: string, p: Personalization): void {
  const db = new SQLite(file);
  try {
    db.pragma('journal_mode = DELETE');
    db.transaction(() => {
      const from = TEMPLATE.prefix;
      const tables = db
        .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ? ESCAPE '\\'`)
        .all(`${from.replace(/_/g, '\\_')}%`) as { name: string }[];
      const indexes = db
        .prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL`)
        .all() as { name: string; sql: string }[];
      const rename = (name: string) =>
        name.startsWith(from) ? p.prefix + name.slice(from.length) : name;
      for (const idx of indexes) db.exec(`DROP INDEX ${quote(idx.name)}`);
      for (const t of tables)
        db.exec(`ALTER TABLE ${quote(t.name)} RENAME TO ${quote(rename(t.name))}`);
      for (const idx of indexes) {
        db.exec(idx.sql.split(`"${from}`).join(`"${p.prefix}`));
      }
      const types = db.prepare('UPDATE _mysql_data_types_cache SET "table" = ? WHERE "table" = ?');
      for (const t of tables) types.run(rename(t.name), t.name);

      const options = quote(`${p.prefix}options`);
      const set = db.prepare(`UPDATE ${options} SET option_value = ? WHERE option_name = ?`);
      set.run(p.url, 'siteurl');
      set.run(p.url, 'home');
      set.run(p.title, 'blogname');
      set.run(p.adminEmail, 'admin_email');
      db.prepare(`UPDATE ${options} SET option_name = ? WHERE option_name = ?`).run(
        `${p.prefix}user_roles`,
        `${from}user_roles`,
      );
      db.prepare(
        `DELETE FROM ${options} WHERE option_name LIKE '\\_transient%' ESCAPE '\\' OR option_name LIKE '\\_site\\_transient%' ESCAPE '\\'`,
      ).run();

      const usermeta = quote(`${p.prefix}usermeta`);
      const keys = db
        .prepare(`SELECT DISTINCT meta_key FROM ${usermeta} WHERE meta_key LIKE ? ESCAPE '\\'`)
        .all(`${from.replace(/_/g, '\\_')}%`) as { meta_key: string }[];
      for (const k of keys) {
        db.prepare(`UPDATE ${usermeta} SET meta_key = ? WHERE meta_key = ?`).run(
          rename(k.meta_key),
          k.meta_key,
        );
      }
      db.prepare(`DELETE FROM ${usermeta} WHERE meta_key = 'session_tokens'`).run();
      db.prepare(
        `UPDATE ${quote(`${p.prefix}users`)} SET user_pass = ?, user_email = ?, user_registered = ?, user_url = ?`,
      ).run(
        unusablePasswordHash(),
        p.adminEmail,
        new Date().toISOString().slice(0, 19).replace('T', ' '),
        p.url,
      );
      db.prepare(`UPDATE ${quote(`${p.prefix}posts`)} SET guid = replace(guid, ?, ?)`).run(
        TEMPLATE.url,
        p.url,
      );
      db.prepare(
        `UPDATE ${quote(`${p.prefix}comments`)} SET comment_author_url = replace(comment_author_url, ?, ?)`,
      ).run(TEMPLATE.url, p.url);
    })();
  } finally {
    db.close();
  }
}

/** Copies the template database into place for an install, personalized, atomically. */
export function installFromTemplate(
  templateFile: string,
  target: string,
  p: Personalization,
): void {
  if (fs.existsSync(target)) return;
  const tmp = `${target}.tmp`;
  fs.copyFileSync(templateFile, tmp);
  personalizeDatabase(tmp, p);
  fs.renameSync(tmp, target);
}
