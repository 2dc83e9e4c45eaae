import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { MARIADB_URL, startHosted, type Hosted, type HostedInstall } from '../helpers/hosted.js';
import { siteRequest, waitFor } from '../helpers/site.js';
import { databaseNameFor } from '../../src/runtime/databases/mysql-admin.js';

/**
 * Backups of real WordPress installs on SQLite and MariaDB, taken through the WP Engine API and
 * restored with the CLI (which queues the restore for the running server and waits).
 */
const DATABASES: [string, Record<string, string>][] = [
  ['SQLite', {}],
  ['MariaDB', { WPFLEET_WP_DATABASE_URL: MARIADB_URL }],
];

interface BackupBody {
  id: string;
  status: string;
  complete_time: string | null;
  wordpress_version: string | null;
}

describe.each(DATABASES)('backups of an install on %s', (database, env) => {
  let hosted: Hosted | undefined;
  let install: HostedInstall;
  let copy: HostedInstall;
  let dataDir: string;
  let backupId: string;

  const h = (): Hosted => {
    if (hosted === undefined) throw new Error('wpfleet serve did not start');
    return hosted;
  };
  const content = (id: string): string => path.join(dataDir, 'installs', id, 'wp-content');
  const prefixOf = (id: string): string => {
    const config = fs.readFileSync(path.join(dataDir, 'installs', id, 'wp-config.php'), 'utf8');
    return /\$table_prefix = '([^']+)'/.exec(config)?.[1] ?? '';
  };

  /** Runs SQL on the install's own database (its SQLite file or its MariaDB database). */
  async function sql<T>(id: string, query: string, params: unknown[] = []): Promise<T[]> {
    const q = query.replaceAll('{p}', prefixOf(id));
    if (database === 'SQLite') {
      const db = new SQLite(path.join(content(id), 'database', '.ht.sqlite'));
      try {
        const stmt = db.prepare(q);
        return stmt.reader ? (stmt.all(...params) as T[]) : (stmt.run(...params), []);
      } finally {
        db.close();
      }
    }
    const c = await createConnection({ uri: MARIADB_URL, database: databaseNameFor(id) });
    try {
      const [rows] = await c.query(q, params);
      return Array.isArray(rows) ? (rows as T[]) : [];
    } finally {
      await c.end();
    }
  }

  const cli = (args: string[]) => runCli(args, h().store.env);
  const home = (host: string) =>
    siteRequest(h().serve.url, host, `/?r=${Math.random()}`, {
      headers: { 'cache-control': 'no-cache' },
    });

  async function backUp(id: string): Promise<{ backup: BackupBody; ms: number }> {
    const started = Date.now();
    const created = await h().api<BackupBody>('POST', `/v1/installs/${id}/backups`, {
      description: 'before the changes',
      notification_emails: ['owner@example.com'],
    });
    expect(created.status).toBe(202);
    expect(created.body.status).toBe('requested');
    const backup = await waitFor(
      'the backup to complete',
      async () => {
        const r = await h().api<BackupBody>('GET', `/v1/installs/${id}/backups/${created.body.id}`);
        if (r.body.status === 'failed') throw new Error('the backup failed');
        return r.body.status === 'completed' ? r.body : undefined;
      },
      120_000,
      100,
    );
    return { backup, ms: Date.now() - started };
  }

  beforeAll(async () => {
    hosted = await startHosted(env);
    dataDir = hosted.store.config.dataDir;
    const made = await Promise.all(
      ['bkorig', 'bkcopy'].map((name) =>
        h().api<HostedInstall>('POST', '/v1/installs', { name, account_id: h().accountId }),
      ),
    );
    for (const m of made) expect(m.status).toBe(201);
    const active = await Promise.all(made.map((m) => h().waitActive(m.body.id)));
    install = active[0] as HostedInstall;
    copy = active[1] as HostedInstall;
  });

  afterAll(async () => {
    await hosted?.stop();
  });

  it('takes a backup through the API with a manifest and a checksum of every part', async () => {
    const { backup, ms } = await backUp(install.id);
    backupId = backup.id;
    console.log(`${database}: backup of a fresh install took ${ms} ms (API request to completed)`);
    expect(backup.complete_time).not.toBeNull();
    expect(backup.wordpress_version).toBe('6.1.9');
    const dir = path.join(dataDir, 'backups', install.id, backup.id);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
      database: { engine: string; part: string };
      table_prefix: string;
      files: { path: string; sha256: string }[];
      parts: { name: string }[];
    };
    expect(manifest.database.engine).toBe(database === 'SQLite' ? 'sqlite' : 'mysql');
    expect(manifest.table_prefix).toBe(prefixOf(install.id));
    expect(manifest.files.map((f) => f.path)).toContain('mu-plugins/wpfleet-agent.php');
    expect(manifest.files.some((f) => f.path.startsWith('database/'))).toBe(false);
    expect(manifest.parts.map((p) => p.name).sort()).toEqual(
      ['files.tar.gz', manifest.database.part].sort(),
    );

    const verified = await cli(['backups', 'verify', backup.id]);
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain('is intact');
    const list = await cli(['backups', 'list', 'bkorig', '--json']);
    expect((JSON.parse(list.stdout) as { id: string }[]).map((b) => b.id)).toEqual([backup.id]);
  });

  it('restores every changed file and row exactly and removes what was added', async () => {
    const post = await sql<{ post_content: string }>(
      install.id,
      'SELECT post_content FROM {p}posts WHERE ID = 1',
    );
    const title = await sql<{ option_value: string }>(
      install.id,
      "SELECT option_value FROM {p}options WHERE option_name = 'blogname'",
    );
    const plugin = path.join(content(install.id), 'plugins', 'index.php');
    const pluginBytes = fs.readFileSync(plugin);
    const upload = path.join(content(install.id), 'uploads', '2026', '01', 'added.txt');

    await sql(install.id, "UPDATE {p}posts SET post_content = 'changed' WHERE ID = 1");
    await sql(
      install.id,
      "UPDATE {p}options SET option_value = 'Changed title' WHERE option_name = 'blogname'",
    );
    fs.appendFileSync(plugin, '// changed\n');
    fs.mkdirSync(path.dirname(upload), { recursive: true });
    fs.writeFileSync(upload, 'added after the backup');
    expect((await home('bkorig.localhost')).body).toContain('Changed title');

    const restored = await cli(['backups', 'restore', 'bkorig', backupId, '--json']);
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    const result = JSON.parse(restored.stdout) as { safety_backup_id: string };

    expect(await sql(install.id, 'SELECT post_content FROM {p}posts WHERE ID = 1')).toEqual(post);
    expect(
      await sql(install.id, "SELECT option_value FROM {p}options WHERE option_name = 'blogname'"),
    ).toEqual(title);
    expect(fs.readFileSync(plugin).equals(pluginBytes)).toBe(true);
    expect(fs.existsSync(upload)).toBe(false);
    // WordPress serves the restored state, at the install's own address.
    const page = await home('bkorig.localhost');
    expect(page.status).toBe(200);
    expect(page.body).not.toContain('Changed title');
    expect(page.body).toContain(`href="http://bkorig.localhost:${h().port}/`);

    // The safety backup holds the changed state and is listed beside the restored one.
    const list = await cli(['backups', 'list', 'bkorig', '--json']);
    const ids = (JSON.parse(list.stdout) as { id: string; status: string }[]).map((b) => b.id);
    expect(ids).toEqual([result.safety_backup_id, backupId]);
    expect((await cli(['backups', 'verify', result.safety_backup_id])).code).toBe(0);
  });

  it('restores onto another install of the account with its own URLs', async () => {
    const restored = await cli(['backups', 'restore', 'bkcopy', backupId, '--json']);
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    const origin = `http://bkcopy.localhost:${h().port}`;
    const options = await sql<{ option_name: string; option_value: string }>(
      copy.id,
      "SELECT option_name, option_value FROM {p}options WHERE option_name IN ('home', 'siteurl', 'blogname') ORDER BY option_name",
    );
    expect(options).toEqual([
      { option_name: 'blogname', option_value: 'bkorig' },
      { option_name: 'home', option_value: origin },
      { option_name: 'siteurl', option_value: origin },
    ]);
    const guids = await sql<{ guid: string }>(copy.id, 'SELECT guid FROM {p}posts');
    expect(guids.length).toBeGreaterThan(0);
    expect(guids.filter((g) => g.guid.includes('//bkorig.localhost'))).toEqual([]);
    const page = await waitFor(
      'the copy to serve',
      async () => {
        const r = await home('bkcopy.localhost');
        return r.status === 200 ? r : undefined;
      },
      30_000,
    );
    expect(page.body).toContain(`href="${origin}/`);
    expect(page.body).not.toContain('bkorig.localhost:');
  });

  it('refuses a corrupted backup in verify and in restore, changing nothing', async () => {
    const archive = path.join(dataDir, 'backups', install.id, backupId, 'files.tar.gz');
    const bytes = fs.readFileSync(archive);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = (bytes[at] ?? 0) ^ 0x01;
    fs.writeFileSync(archive, bytes);
    const marker = path.join(content(install.id), 'uploads', 'kept.txt');
    fs.writeFileSync(marker, 'still here');
    const before = (await cli(['backups', 'list', 'bkorig', '--json'])).stdout;

    const verified = await cli(['backups', 'verify', backupId]);
    expect(verified.code).not.toBe(0);
    expect(verified.stderr).toContain(`backup ${backupId} is corrupted`);
    expect(verified.stderr).toContain('files.tar.gz: sha256');

    const restored = await cli(['backups', 'restore', 'bkorig', backupId]);
    expect(restored.code).not.toBe(0);
    expect(restored.stderr).toContain('is corrupted, nothing was restored');
    expect(fs.readFileSync(marker, 'utf8')).toBe('still here');
    expect((await cli(['backups', 'list', 'bkorig', '--json'])).stdout).toBe(before);
  });
});
