import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/composition.js';
import type { JobRow } from '../../src/core/jobs/jobs.repository.js';
import { databaseNameFor, MysqlAdmin } from '../../src/runtime/databases/mysql-admin.js';
import { runCli } from '../helpers/cli.js';
import { MARIADB_URL, startHosted, type Hosted, type HostedInstall } from '../helpers/hosted.js';
import { siteRequest, waitFor } from '../helpers/site.js';

/**
 * Long jobs killed with SIGKILL at named steps (the WPFLEET_CRASH_AT test hook), then `serve`
 * restarted on the same store: each job finishes, or fails cleanly, with nothing left over.
 */

interface BackupBody {
  id: string;
  status: string;
}

/** Folders an interrupted job could leave: staging, swap and build leftovers. */
function leftovers(dataDir: string): string[] {
  const found: string[] = [];
  const list = (dir: string): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir) : []);
  const check = (dir: string): void => {
    for (const name of list(dir)) {
      if (/\.(tmp|restore|old)$/.test(name)) found.push(path.join(dir, name));
    }
  };
  const installs = path.join(dataDir, 'installs');
  check(installs);
  for (const id of list(installs)) {
    check(path.join(installs, id));
    check(path.join(installs, id, 'wp-content', 'database'));
  }
  const backups = path.join(dataDir, 'backups');
  for (const id of list(backups)) check(path.join(backups, id));
  check(path.join(dataDir, 'templates', 'build', 'installs'));
  return found;
}

/** The jobs of a target, from the store (while serve runs, as the CLI would read them). */
async function jobsOf(hosted: Hosted, targetId: string): Promise<JobRow[]> {
  const app = await createApp(hosted.store.config);
  try {
    return await app.store.read.jobs.listForTarget(targetId);
  } finally {
    await app.close();
  }
}

/** Waits for `serve` to have killed itself at the step it was started to crash at. */
async function killed(hosted: Hosted): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error('serve did not kill itself at the step'));
    }, 240_000);
  });
  try {
    const exit = await Promise.race([hosted.serve.exited, timeout]);
    expect(exit.signal).toBe('SIGKILL');
  } finally {
    clearTimeout(timer);
  }
}

/** Starts serve to crash at `step`, runs `start` (which queues the job), and waits for the kill. */
async function crashAt(hosted: Hosted, step: string, start: () => Promise<void>): Promise<void> {
  await hosted.restart({ WPFLEET_CRASH_AT: step });
  await start();
  await killed(hosted);
}

async function createInstall(hosted: Hosted, name: string): Promise<string> {
  const created = await hosted.api<HostedInstall>('POST', '/v1/installs', {
    name,
    account_id: hosted.accountId,
  });
  expect(created.status).toBe(201);
  return created.body.id;
}

function home(hosted: Hosted, name: string) {
  return siteRequest(hosted.serve.url, `${name}.localhost`, `/?r=${Math.random()}`, {
    headers: { 'cache-control': 'no-cache' },
  });
}

describe('crash safety on SQLite', () => {
  let hosted: Hosted | undefined;
  let site: string;
  let other: string;
  let backupId: string;
  const h = (): Hosted => {
    if (hosted === undefined) throw new Error('wpfleet serve did not start');
    return hosted;
  };
  const dataDir = (): string => h().store.config.dataDir;
  const content = (): string => path.join(dataDir(), 'installs', site, 'wp-content');

  function blogname(value?: string): string {
    const config = fs.readFileSync(path.join(dataDir(), 'installs', site, 'wp-config.php'), 'utf8');
    const prefix = /\$table_prefix = '([^']+)'/.exec(config)?.[1] ?? '';
    const db = new SQLite(path.join(content(), 'database', '.ht.sqlite'));
    try {
      if (value !== undefined) {
        db.prepare(
          `UPDATE ${prefix}options SET option_value = ? WHERE option_name = 'blogname'`,
        ).run(value);
      }
      const row = db
        .prepare(`SELECT option_value FROM ${prefix}options WHERE option_name = 'blogname'`)
        .get() as { option_value: string };
      return row.option_value;
    } finally {
      db.close();
    }
  }

  beforeAll(async () => {
    hosted = await startHosted();
  });

  afterAll(async () => {
    await hosted?.stop();
  });

  it('finishes provisioning killed after the files were written, and after installing', async () => {
    const ids: Record<string, string> = {};
    for (const [name, step] of [
      ['crsite', 'provision.files-written'],
      ['crother', 'provision.installed'],
    ] as const) {
      await crashAt(h(), step, async () => {
        ids[name] = await createInstall(h(), name);
      });
      const id = ids[name] ?? '';
      const dir = path.join(dataDir(), 'installs', id);
      expect(fs.existsSync(path.join(dir, 'wp-config.php'))).toBe(true);
      await h().restart();
      const active = await h().waitActive(id);
      expect(active.wp_version).toBe('6.1.9');
      const page = await home(h(), name);
      expect(page.status).toBe(200);
      expect(page.body).toContain('content="WordPress 6.1.9"');
      const [job] = await jobsOf(h(), id);
      expect(job?.state).toBe('succeeded');
      // The kill interrupted the first attempt; the run after the restart was still the first.
      expect([job?.attempts, job?.interruptions, job?.interrupted_at]).toEqual([1, 1, step]);
    }
    site = ids.crsite ?? '';
    other = ids.crother ?? '';
    expect(leftovers(dataDir())).toEqual([]);
  });

  it('redoes a backup killed with its parts staged, and one killed once committed', async () => {
    const storage = path.join(dataDir(), 'backups', site);
    const completed: string[] = [];
    for (const step of ['backup.staged', 'backup.committed']) {
      let id = '';
      await crashAt(h(), step, async () => {
        const created = await h().api<BackupBody>('POST', `/v1/installs/${site}/backups`, {
          description: `killed at ${step}`,
          notification_emails: ['owner@example.com'],
        });
        expect(created.status).toBe(202);
        id = created.body.id;
      });
      if (step === 'backup.staged') {
        // Half-written: parts without a manifest, in the staging folder only.
        expect(fs.readdirSync(`${path.join(storage, id)}.tmp`)).not.toContain('manifest.json');
        expect(fs.existsSync(path.join(storage, id))).toBe(false);
      } else {
        expect(fs.existsSync(path.join(storage, id, 'manifest.json'))).toBe(true);
      }
      await h().restart();
      const done = await waitFor(
        'the backup to finish',
        async () => {
          const r = await h().api<BackupBody>('GET', `/v1/installs/${site}/backups/${id}`);
          return r.body.status === 'completed' || r.body.status === 'failed' ? r.body : undefined;
        },
        120_000,
        200,
      );
      expect(done.status).toBe('completed');
      completed.push(id);
      expect(fs.readdirSync(storage).sort()).toEqual([...completed].sort());
      const verified = await runCli(['backups', 'verify', id], h().store.env);
      expect(verified.code).toBe(0);
    }
    backupId = completed[0] ?? '';
    expect(leftovers(dataDir())).toEqual([]);
  });

  it('completes a restore killed at each step, with maintenance on meanwhile and off after', async () => {
    const before = blogname();
    const plugin = path.join(content(), 'plugins', 'index.php');
    const pluginBytes = fs.readFileSync(plugin);
    const flag = path.join(content(), '.wpfleet-maintenance');
    const safetyBackups = async (): Promise<string[]> => {
      const app = await createApp(h().store.config);
      try {
        const rows = await app.store.read.backups.listForInstall(site);
        return rows.filter((b) => b.description.startsWith('Safety backup')).map((b) => b.status);
      } finally {
        await app.close();
      }
    };

    for (const step of ['restore.safety-taken', 'restore.swapped', 'restore.urls-set']) {
      const upload = path.join(content(), 'uploads', `added-${step}.txt`);
      blogname(`Changed at ${step}`);
      fs.appendFileSync(plugin, `// changed before ${step}\n`);
      fs.writeFileSync(upload, 'added after the backup');

      let restore: ReturnType<typeof runCli> | undefined;
      await crashAt(h(), step, () => {
        // The CLI queues the restore and waits for it, across the server's crash and restart.
        restore = runCli(['backups', 'restore', 'crsite', backupId, '--json'], h().store.env);
        return Promise.resolve();
      });
      if (step !== 'restore.safety-taken') {
        // Killed mid-swap: the install stays in maintenance until the restore resumes.
        expect(fs.existsSync(flag)).toBe(true);
        if (step === 'restore.swapped') {
          await h().restart({ WPFLEET_JOBS: 'false' });
          expect((await home(h(), 'crsite')).status).toBe(503);
        }
      }
      await h().restart();
      const out = await restore;
      expect(out?.stderr).toBe('');
      expect(out?.code).toBe(0);
      const result = JSON.parse(out?.stdout ?? '{}') as { resumed: boolean };
      expect(result.resumed).toBe(step !== 'restore.safety-taken');

      expect(blogname()).toBe(before);
      expect(fs.readFileSync(plugin).equals(pluginBytes)).toBe(true);
      expect(fs.existsSync(upload)).toBe(false);
      expect(fs.existsSync(flag)).toBe(false);
      const page = await home(h(), 'crsite');
      expect(page.status).toBe(200);
      expect(page.body).not.toContain(`Changed at ${step}`);
    }
    // One safety backup per restore, each finished: none was started twice or left half-made.
    expect(await safetyBackups()).toEqual(['completed', 'completed', 'completed']);
    expect(leftovers(dataDir())).toEqual([]);
  });

  it('rolls back to the safety backup when a killed restore cannot resume, even if killed again while rolling back', async () => {
    blogname('Before the failed restore');
    const kept = path.join(content(), 'uploads', 'kept.txt');
    fs.writeFileSync(kept, 'made before the failed restore');
    let restore: ReturnType<typeof runCli> | undefined;
    await crashAt(h(), 'restore.swapped', () => {
      restore = runCli(['backups', 'restore', 'crsite', backupId, '--json'], h().store.env);
      return Promise.resolve();
    });
    // The backup goes bad while the server is down: the restore cannot roll forward.
    const archive = path.join(dataDir(), 'backups', site, backupId, 'files.tar.gz');
    const bytes = fs.readFileSync(archive);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = (bytes[at] ?? 0) ^ 0x01;
    fs.writeFileSync(archive, bytes);
    await h().restart({ WPFLEET_CRASH_AT: 'rollback.swapped' });
    await killed(h());
    await h().restart();
    const out = await restore;
    expect(out?.code).not.toBe(0);
    expect(out?.stderr).toContain('was rolled back to safety backup');
    expect(out?.stderr).toContain(`backup ${backupId} is corrupted`);

    expect(blogname()).toBe('Before the failed restore');
    expect(fs.readFileSync(kept, 'utf8')).toBe('made before the failed restore');
    expect(fs.existsSync(path.join(content(), '.wpfleet-maintenance'))).toBe(false);
    const page = await home(h(), 'crsite');
    expect(page.status).toBe(200);
    expect(page.body).toContain('Before the failed restore');
    expect(leftovers(dataDir())).toEqual([]);
  });

  it('finishes deleting an install killed after its files were removed', async () => {
    const dir = path.join(dataDir(), 'installs', other);
    await crashAt(h(), 'delete.files-removed', async () => {
      expect((await h().api('DELETE', `/v1/installs/${other}`)).status).toBe(204);
    });
    expect(fs.existsSync(dir)).toBe(false);
    await h().restart();
    const job = await waitFor(
      'the delete job to finish',
      async () => {
        const jobs = await jobsOf(h(), other);
        const del = jobs.find((j) => j.type === 'install.delete');
        return del?.state === 'succeeded' || del?.state === 'failed' ? del : undefined;
      },
      60_000,
      200,
    );
    expect(job.state).toBe('succeeded');
    expect([job.attempts, job.interruptions, job.interrupted_at]).toEqual([
      1,
      1,
      'delete.files-removed',
    ]);
    expect(leftovers(dataDir())).toEqual([]);
  });
});

describe('crash safety on MariaDB', () => {
  let hosted: Hosted | undefined;
  const admin = new MysqlAdmin(MARIADB_URL);
  const h = (): Hosted => {
    if (hosted === undefined) throw new Error('wpfleet serve did not start');
    return hosted;
  };
  const dataDir = (): string => h().store.config.dataDir;
  const names = (id: string) => ({ name: databaseNameFor(id), user: databaseNameFor(id) });

  beforeAll(async () => {
    hosted = await startHosted({ WPFLEET_WP_DATABASE_URL: MARIADB_URL });
  });

  const ids: string[] = [];

  afterAll(async () => {
    await hosted?.stop();
    // Whatever a failed assertion left on the shared MariaDB server.
    for (const id of ids) await admin.drop(names(id));
  });

  it('reinstalls over what an interrupted installer left in the database', async () => {
    let id = '';
    await crashAt(h(), 'provision.files-written', async () => {
      id = await createInstall(h(), 'crmaria');
    });
    ids.push(id);
    // What a killed installer leaves: some tables, and an options row that makes WordPress
    // believe it is installed.
    const config = fs.readFileSync(path.join(dataDir(), 'installs', id, 'wp-config.php'), 'utf8');
    const prefix = /\$table_prefix = '([^']+)'/.exec(config)?.[1] ?? '';
    const c = await createConnection({ uri: MARIADB_URL, database: databaseNameFor(id) });
    try {
      await c.query(
        `CREATE TABLE ${prefix}options (option_id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, option_name varchar(191) NOT NULL UNIQUE, option_value longtext NOT NULL, autoload varchar(20) NOT NULL DEFAULT 'yes')`,
      );
      await c.query(
        `INSERT INTO ${prefix}options (option_name, option_value) VALUES ('siteurl', 'http://half.invalid')`,
      );
      await c.query('CREATE TABLE leftover (id int)');
    } finally {
      await c.end();
    }
    await h().restart();
    await h().waitActive(id);
    const page = await home(h(), 'crmaria');
    expect(page.status).toBe(200);
    expect(page.body).toContain('content="WordPress 6.1.9"');
    const c2 = await createConnection({ uri: MARIADB_URL, database: databaseNameFor(id) });
    try {
      const [tables] = await c2.query("SHOW TABLES LIKE 'leftover'");
      expect(tables).toEqual([]);
      const [users] = await c2.query(`SELECT COUNT(*) AS n FROM ${prefix}users`);
      expect((users as { n: number }[])[0]?.n).toBe(1);
    } finally {
      await c2.end();
    }
  });

  it('finishes provisioning killed once the database was created', async () => {
    let id = '';
    await crashAt(h(), 'provision.database-created', async () => {
      id = await createInstall(h(), 'crmaria2');
    });
    ids.push(id);
    expect(await admin.exists(names(id))).toEqual({ database: true, user: true });
    expect(fs.existsSync(path.join(dataDir(), 'installs', id))).toBe(false);
    await h().restart();
    await h().waitActive(id);
    expect((await home(h(), 'crmaria2')).status).toBe(200);
  });

  it('leaves no files, database or user of an install whose deletion was killed', async () => {
    const steps = ['delete.files-removed', 'delete.database-dropped'];
    for (const [i, step] of steps.entries()) {
      const id = ids[i] ?? '';
      await crashAt(h(), step, async () => {
        expect((await h().api('DELETE', `/v1/installs/${id}`)).status).toBe(204);
      });
      if (step === 'delete.files-removed') {
        expect(await admin.exists(names(id))).toEqual({ database: true, user: true });
      }
      await h().restart();
      await waitFor(
        'the delete job to finish',
        async () => {
          const del = (await jobsOf(h(), id)).find((j) => j.type === 'install.delete');
          return del?.state === 'succeeded' ? true : undefined;
        },
        60_000,
        200,
      );
      expect(fs.existsSync(path.join(dataDir(), 'installs', id))).toBe(false);
      expect(await admin.exists(names(id))).toEqual({ database: false, user: false });
    }
    expect(leftovers(dataDir())).toEqual([]);
  });
});
