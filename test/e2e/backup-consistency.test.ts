import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { createConnection, type Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { MARIADB_URL, startHosted, type Hosted, type HostedInstall } from '../helpers/hosted.js';
import { siteRequest, waitFor } from '../helpers/site.js';
import { insertPostsScript, writeWpScript, type WpScript } from '../helpers/wp-script.js';
import { dumpMysqlHere, loadMysql } from '../../src/runtime/backups/database.js';
import { databaseNameFor, MysqlAdmin } from '../../src/runtime/databases/mysql-admin.js';

/**
 * Backups taken while the site serves pages and WordPress writes: posts inserted with
 * wp_insert_post, each post and its postmeta in one transaction, and an upload per post. Every
 * backup must hold a consistent state (each post with all its meta or not at all, an intact
 * database), pass verify, and restore to exactly that state.
 */
const DATABASES: [string, Record<string, string>][] = [
  ['SQLite', {}],
  ['MariaDB', { WPFLEET_WP_DATABASE_URL: MARIADB_URL }],
];
const MARKER = 'Consistency';
const META = 3;
const BACKUPS = 3;

interface BackupBody {
  id: string;
  status: string;
}

interface PostCheck {
  posts: number;
  /** Marker posts without exactly META meta rows. */
  torn: number;
  ids: number[];
  /** SQLite's `PRAGMA integrity_check` (SQLite only). */
  integrity?: string;
}

/** Marker posts and how many lack some of their meta, in one database handle's terms. */
const POSTS_SQL = (p: string): string =>
  `SELECT ID AS id FROM ${p}posts WHERE post_title LIKE '${MARKER} %' ORDER BY ID`;
const TORN_SQL = (p: string): string =>
  `SELECT COUNT(*) AS n FROM ${p}posts p WHERE p.post_title LIKE '${MARKER} %' AND ` +
  `(SELECT COUNT(*) FROM ${p}postmeta m WHERE m.post_id = p.ID AND m.meta_key LIKE '!_wpfleet!_meta!_%' ESCAPE '!') <> ${META}`;

function checkSqlite(file: string, prefix: string): PostCheck {
  const db = new SQLite(file, { readonly: true, fileMustExist: true });
  try {
    const integrity = (db.prepare('PRAGMA integrity_check').pluck().all() as string[]).join('; ');
    const ids = (db.prepare(POSTS_SQL(prefix)).all() as { id: number }[]).map((r) => r.id);
    const torn = (db.prepare(TORN_SQL(prefix)).get() as { n: number }).n;
    return { integrity, posts: ids.length, torn, ids };
  } finally {
    db.close();
  }
}

async function checkMariadb(installId: string, prefix: string): Promise<PostCheck> {
  const c = await createConnection({ uri: MARIADB_URL, database: databaseNameFor(installId) });
  try {
    const [rows] = await c.query(POSTS_SQL(prefix));
    const ids = (rows as { id: number | string }[]).map((r) => Number(r.id));
    const [torn] = await c.query(TORN_SQL(prefix));
    return { posts: ids.length, torn: Number((torn as { n: number }[])[0]?.n), ids };
  } finally {
    await c.end();
  }
}

describe.each(DATABASES)('a backup taken while an install on %s serves and writes', (db, env) => {
  let hosted: Hosted | undefined;
  let install: HostedInstall;
  let dataDir: string;
  let script: WpScript;

  const h = (): Hosted => {
    if (hosted === undefined) throw new Error('wpfleet serve did not start');
    return hosted;
  };
  const content = (): string => path.join(dataDir, 'installs', install.id, 'wp-content');
  const prefix = (): string => {
    const config = fs.readFileSync(
      path.join(dataDir, 'installs', install.id, 'wp-config.php'),
      'utf8',
    );
    return /\$table_prefix = '([^']+)'/.exec(config)?.[1] ?? '';
  };
  const cli = (args: string[]) => runCli(args, h().store.env);

  beforeAll(async () => {
    hosted = await startHosted(env);
    dataDir = hosted.store.config.dataDir;
    const made = await h().api<HostedInstall>('POST', '/v1/installs', {
      name: 'consistent',
      account_id: h().accountId,
    });
    expect(made.status).toBe(201);
    install = await h().waitActive(made.body.id);
    script = writeWpScript(content(), insertPostsScript(MARKER, META, 20_000));
  });

  afterAll(async () => {
    await hosted?.stop();
  });

  it('is consistent, verifies, and restores exactly that state', async () => {
    const host = 'consistent.localhost';
    const base = h().serve.url;
    const run = { stop: false };
    const pages = { ok: 0, failed: [] as string[] };
    const writes = { posts: 0, failed: [] as string[] };
    const reader = (async () => {
      for (let i = 0; !run.stop; i++) {
        const r = await siteRequest(base, host, `/?consistency=${i}`, {
          headers: { 'cache-control': 'no-cache' },
        });
        if (r.status === 200) pages.ok += 1;
        else pages.failed.push(`${r.status} ${r.body.slice(0, 200)}`);
      }
    })();
    const writer = (async () => {
      while (!run.stop) {
        const r = await siteRequest(base, host, `${script.url}&n=3`, { method: 'POST' });
        if (r.status === 200) writes.posts += (JSON.parse(r.body) as { ids: number[] }).ids.length;
        else writes.failed.push(`${r.status} ${r.body.slice(0, 200)}`);
      }
    })();

    const backups: string[] = [];
    try {
      await waitFor(
        'the writer to start',
        () => Promise.resolve(writes.posts > 0 || undefined),
        60_000,
      );
      for (let i = 0; i < BACKUPS; i++) {
        const created = await h().api<BackupBody>('POST', `/v1/installs/${install.id}/backups`, {
          description: `under load ${i + 1}`,
          notification_emails: ['owner@example.com'],
        });
        expect(created.status).toBe(202);
        await waitFor(
          'the backup to complete',
          async () => {
            const r = await h().api<BackupBody>(
              'GET',
              `/v1/installs/${install.id}/backups/${created.body.id}`,
            );
            if (r.body.status === 'failed') throw new Error('the backup failed');
            return r.body.status === 'completed' ? true : undefined;
          },
          120_000,
          100,
        );
        backups.push(created.body.id);
      }
    } finally {
      run.stop = true;
      await Promise.all([reader, writer]);
    }
    // The site kept serving and writing throughout.
    expect(pages.failed).toEqual([]);
    expect(writes.failed).toEqual([]);
    expect(pages.ok).toBeGreaterThan(0);
    const live =
      db === 'SQLite'
        ? checkSqlite(path.join(content(), 'database', '.ht.sqlite'), prefix())
        : await checkMariadb(install.id, prefix());
    expect(live.posts).toBe(writes.posts);
    expect(live.torn).toBe(0);

    const counts: number[] = [];
    for (const id of backups) {
      const verified = await cli(['backups', 'verify', id]);
      expect(verified.stderr).toBe('');
      expect(verified.code).toBe(0);
      const dir = path.join(dataDir, 'backups', install.id, id);
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
        files: { path: string }[];
        database: { part: string };
      };
      const uploads = new Set(
        manifest.files.map((f) => Number(/\/wpfleet-(\d+)\.bin$/.exec(f.path)?.[1] ?? 0)),
      );
      expect(uploads.size).toBeGreaterThan(1);
      if (db === 'SQLite') {
        const copy = checkSqlite(path.join(dir, manifest.database.part), prefix());
        expect(copy.integrity).toBe('ok');
        expect(copy.torn).toBe(0);
        counts.push(copy.posts);
        // Files are archived after the database is copied: every post's upload is there.
        expect(copy.ids.filter((p) => !uploads.has(p))).toEqual([]);
      }
    }
    if (db === 'SQLite') {
      // Each backup caught the writes part-way: some posts, not yet the last ones.
      for (const n of counts) expect(n).toBeGreaterThan(0);
      expect(counts.some((n) => n < writes.posts)).toBe(true);
    }

    // Restoring the last backup (MariaDB: loading its dump) gives back exactly its posts.
    const last = backups[backups.length - 1] ?? '';
    const restored = await cli(['backups', 'restore', 'consistent', last, '--json']);
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    const after =
      db === 'SQLite'
        ? checkSqlite(path.join(content(), 'database', '.ht.sqlite'), prefix())
        : await checkMariadb(install.id, prefix());
    expect(after.torn).toBe(0);
    expect(after.posts).toBeGreaterThan(0);
    expect(after.posts).toBeLessThan(writes.posts);
    if (db === 'SQLite') {
      expect(after.integrity).toBe('ok');
      expect(after.posts).toBe(counts[counts.length - 1]);
    }
    // Every restored post has its upload.
    const uploads = fs
      .readdirSync(path.join(content(), 'uploads'), { recursive: true, encoding: 'utf8' })
      .map((f) => /wpfleet-(\d+)\.bin$/.exec(f)?.[1])
      .filter((m): m is string => m !== undefined)
      .map(Number);
    expect(after.ids.filter((p) => !uploads.includes(p))).toEqual([]);
    const page = await siteRequest(base, host, '/?after-restore', {
      headers: { 'cache-control': 'no-cache' },
    });
    expect(page.status).toBe(200);
  });
});

/**
 * What a MySQL/MariaDB dump must carry beyond rows, on the install's own database and user, and
 * that it loads into another install's database (a copy), as a restore does.
 */
describe('a MariaDB dump', () => {
  const admin = new MysqlAdmin(MARIADB_URL);
  const suffix = randomBytes(4).toString('hex');
  const origin = { name: `wpf_dump_${suffix}`, user: `wpf_dump_${suffix}`, password: 'dump-pw-1' };
  const copy = { name: `wpf_copy_${suffix}`, user: `wpf_copy_${suffix}`, password: 'dump-pw-2' };
  const targetOf = (db: typeof origin) => new MysqlAdmin(MARIADB_URL).targetFor(db);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-dump-'));

  async function withDb<T>(db: typeof origin, run: (c: Connection) => Promise<T>): Promise<T> {
    const t = targetOf(db);
    const c = await createConnection({ ...t, multipleStatements: false });
    try {
      return await run(c);
    } finally {
      await c.end();
    }
  }
  const rows = async (db: typeof origin, query: string): Promise<unknown[]> =>
    withDb(db, async (c) => (await c.query(query))[0] as unknown[]);

  /** Everything a restore must bring back, as the install's own user sees it. */
  const state = async (db: typeof origin) => ({
    t: await rows(db, 'SELECT a, b, c, d, e FROM t ORDER BY a'),
    log: await rows(db, 'SELECT id, msg FROM log ORDER BY id'),
    views: await rows(db, 'SELECT * FROM a_view ORDER BY a'),
    triggers: (
      (await rows(
        db,
        'SELECT TRIGGER_NAME AS name, ACTION_ORDER AS n FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY name',
      )) as { name: string; n: number }[]
    ).map((r) => `${r.name}:${r.n}`),
    doubled: await rows(db, 'SELECT twice(21) AS v'),
  });

  beforeAll(async () => {
    await admin.ensure(origin);
    await admin.ensure(copy);
    await withDb(origin, async (c) => {
      for (const statement of [
        'CREATE TABLE wp_options (option_name VARCHAR(64) PRIMARY KEY, option_value TEXT)',
        "INSERT INTO wp_options VALUES ('home', 'http://x.test'), ('siteurl', 'http://x.test')",
        'CREATE TABLE t (a INT PRIMARY KEY, b INT, c INT AS (a + b) VIRTUAL, d INT AS (a * 2) PERSISTENT, e INT INVISIBLE DEFAULT 7)',
        'CREATE TABLE log (id INT AUTO_INCREMENT PRIMARY KEY, msg VARCHAR(100))',
        'INSERT INTO t (a, b, e) VALUES (1, 10, 100), (2, 20, 200)',
        "INSERT INTO log (msg) VALUES ('before the triggers')",
        // Two triggers on one event: their order must survive.
        "CREATE TRIGGER t_first BEFORE INSERT ON t FOR EACH ROW BEGIN\n  SET NEW.b = COALESCE(NEW.b, 0) + 1;\n  INSERT INTO log (msg) VALUES (CONCAT('first;', NEW.a));\nEND",
        "CREATE TRIGGER t_second BEFORE INSERT ON t FOR EACH ROW FOLLOWS t_first INSERT INTO log (msg) VALUES (CONCAT('second ', NEW.b))",
        'CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC BEGIN\n  DECLARE y INT;\n  SET y = x * 2;\n  RETURN y;\nEND',
        'CREATE PROCEDURE note(IN m VARCHAR(50)) BEGIN\n  INSERT INTO log (msg) VALUES (m);\nEND',
        // a_view selects from z_view: created in name order, it would come first and fail.
        'CREATE VIEW z_view AS SELECT a, c, twice(d) AS dd FROM t WHERE b > 0',
        'CREATE VIEW a_view AS SELECT a, dd FROM z_view',
      ]) {
        await c.query(statement);
      }
    });
  });

  afterAll(async () => {
    await admin.drop(origin);
    await admin.drop(copy);
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('carries generated and invisible columns, triggers, routines and views, and loads cleanly', async () => {
    const before = await state(origin);
    expect(before.triggers).toEqual(['t_first:1', 't_second:2']);
    const dump = path.join(work, 'database.sql.gz');
    const urls = await dumpMysqlHere(targetOf(origin), dump, 'wp_');
    expect(urls).toEqual({ home: 'http://x.test', siteurl: 'http://x.test' });

    // Changed after the dump: all of it comes back as it was.
    await withDb(origin, async (c) => {
      await c.query('DROP VIEW a_view');
      await c.query('DROP TRIGGER t_second');
      await c.query('DROP FUNCTION twice');
      await c.query('UPDATE t SET b = 99');
      await c.query('CREATE VIEW extra AS SELECT 1 AS one');
    });
    await loadMysql(targetOf(origin), dump);
    const after = await state(origin);
    // The triggers did not fire while the rows loaded: the log holds what it held.
    expect(after).toEqual(before);
    expect(await rows(origin, 'SHOW FULL TABLES WHERE Table_type = "VIEW"')).toHaveLength(2);

    // A copy into another install's database, owned by its own user, works the same.
    await loadMysql(targetOf(copy), dump);
    expect(await state(copy)).toEqual(before);
    await withDb(copy, async (c) => {
      await c.query('INSERT INTO t (a) VALUES (3)');
      await c.query("CALL note('called')");
    });
    expect(await rows(copy, 'SELECT a, b, c FROM t WHERE a = 3')).toEqual([{ a: 3, b: 1, c: 4 }]);
    expect(
      ((await rows(copy, 'SELECT msg FROM log ORDER BY id')) as { msg: string }[]).map(
        (r) => r.msg,
      ),
    ).toEqual(['before the triggers', 'first;3', 'second 1', 'called']);
  });
});
