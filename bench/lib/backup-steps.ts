import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { siteLayout } from '../../src/runtime/sites/site-files.js';
import { insertPostsScript, writeWpScript } from '../../test/helpers/wp-script.js';
import { request, since, sleep } from './http.js';
import type { Install, WordPressServer } from './wordpress.js';

const run = promisify(execFile);

export interface BackupTiming {
  id: string;
  /** From POST /v1/installs/{id}/backups to the first GET that shows it completed. */
  ms: number;
  /** complete_time − create_time as the API reports them: the server's side, queueing included. */
  serverMs: number;
  /** create_time and complete_time, in milliseconds since the epoch. */
  createdAt: number;
  completedAt: number;
  filesBytes: number;
  databaseBytes: number;
  files: number;
}

interface BackupBody {
  id: string;
  status: string;
  create_time: string;
  complete_time: string | null;
}

/**
 * Requests a backup through the API and polls it (every `pollMs`) until it is completed; reads
 * the stored parts' sizes from its manifest.
 */
export async function timeBackup(
  wp: WordPressServer,
  install: Install,
  pollMs = 20,
): Promise<BackupTiming> {
  const t0 = performance.now();
  const created = await wp.api<BackupBody>('POST', `/v1/installs/${install.id}/backups`, {
    description: 'bench',
    notification_emails: ['bench@example.com'],
  });
  if (created.status !== 202) throw new Error(`POST backups answered ${created.status}`);
  let done: BackupBody;
  for (;;) {
    const r = await wp.api<BackupBody>(
      'GET',
      `/v1/installs/${install.id}/backups/${created.body.id}`,
    );
    if (r.body.status === 'completed') {
      done = r.body;
      break;
    }
    if (r.body.status === 'failed') throw new Error(`backup ${created.body.id} failed`);
    await sleep(pollMs);
  }
  const ms = since(t0);
  const dir = path.join(wp.store.config.dataDir, 'backups', install.id, created.body.id);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
    files: unknown[];
    parts: { name: string; size: number }[];
    database: { part: string };
  };
  const size = (name: string): number => manifest.parts.find((p) => p.name === name)?.size ?? 0;
  return {
    id: created.body.id,
    ms,
    serverMs: Date.parse(done.complete_time ?? '') - Date.parse(done.create_time),
    createdAt: Date.parse(done.create_time),
    completedAt: Date.parse(done.complete_time ?? ''),
    filesBytes: size('files.tar.gz'),
    databaseBytes: size(manifest.database.part),
    files: manifest.files.length,
  };
}

export interface RestoreTiming {
  /** `wpfleet backups restore NAME BACKUP`, from spawning the CLI to its exit. */
  cliMs: number;
  /** The restore job's own `ms` (verify, safety backup, swap, URLs). */
  jobMs: number;
}

/** Restores with the CLI, which queues the restore for the running server and waits. */
export async function timeRestore(
  wp: WordPressServer,
  install: Install,
  backupId: string,
): Promise<RestoreTiming> {
  const t0 = performance.now();
  const out = await run(
    process.execPath,
    ['bin/wpfleet.js', 'backups', 'restore', install.name, backupId, '--json'],
    { env: { ...process.env, ...wp.store.env }, timeout: 600_000 },
  );
  const cliMs = since(t0);
  const result = JSON.parse(out.stdout) as { ms?: number };
  return { cliMs, jobMs: result.ms ?? Number.NaN };
}

/**
 * Fills an install through WordPress: `posts` posts inserted by wp_insert_post (a script in its
 * wp-content requested through the edge, 100 posts a request), then `uploadBytes` of random,
 * incompressible files spread over uploads/<year>/<month>/ as a media library holds them.
 */
export async function fillInstall(
  wp: WordPressServer,
  install: Install,
  posts: number,
  uploadBytes: number,
  fileBytes: number,
): Promise<{ postsMs: number; uploadFiles: number }> {
  const contentDir = siteLayout(wp.store.config.dataDir, install.id).contentDir;
  const script = writeWpScript(contentDir, insertPostsScript('Bench post', 3));
  const t0 = performance.now();
  try {
    for (let done = 0; done < posts;) {
      const n = Math.min(100, posts - done);
      const r = await request(wp.base, `${script.url}&n=${n}`, {
        method: 'POST',
        headers: { host: `${install.name}.localhost:${wp.port}` },
        timeoutMs: 120_000,
      });
      const body = r.body.toString('utf8');
      if (r.status !== 200) throw new Error(`inserting posts: ${r.status} ${body.slice(0, 300)}`);
      done += (JSON.parse(body) as { ids: number[] }).ids.length;
    }
  } finally {
    script.remove();
  }
  const postsMs = since(t0);
  const count = Math.ceil(uploadBytes / fileBytes);
  for (let i = 0; i < count; i++) {
    const month = String((i % 12) + 1).padStart(2, '0');
    const dir = path.join(contentDir, 'uploads', '2025', month);
    fs.mkdirSync(dir, { recursive: true });
    const size = Math.min(fileBytes, uploadBytes - i * fileBytes);
    fs.writeFileSync(path.join(dir, `photo-${i}.jpg`), randomBytes(size));
  }
  return { postsMs, uploadFiles: count };
}
