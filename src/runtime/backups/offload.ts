import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ManifestFile } from './manifest.js';
import type { MysqlTarget, SiteUrls } from './database.js';

/**
 * The work of taking a backup (copying the SQLite database, dumping MySQL, archiving wp-content)
 * runs in a child process at a lower CPU priority, for two reasons:
 *
 * - Compressing and hashing an install's files takes CPU for seconds. In a process of its own at
 *   a lower priority, the pages PHP renders meanwhile come first, and the server's event loop
 *   stays free.
 * - SQLite's locks are POSIX byte-range locks, which never conflict within one process: a copy
 *   made in the process where PHP writes the database (php-wasm in the server's own threads, as
 *   the runtime once ran it) would not wait for a write in progress and could read it half done.
 *   In a process of its own the copy is safe whatever process runs PHP.
 */
export type OffloadRequest =
  | { op: 'sqlite-copy'; live: string; dest: string }
  | { op: 'mysql-dump'; target: MysqlTarget; dest: string; prefix: string }
  | { op: 'archive'; contentDir: string; dest: string };

export interface OffloadResults {
  'sqlite-copy': null;
  'mysql-dump': SiteUrls;
  archive: ManifestFile[];
}

export type OffloadReply = { ok: true; result: unknown } | { ok: false; message: string };

// src/runtime/backups and dist/runtime/backups sit at the same depth: the child always runs
// from the compiled tree, also when this module is loaded from source by the tests.
const CHILD = fileURLToPath(
  new URL('../../../dist/runtime/backups/offload-child.js', import.meta.url),
);

/** Runs one request in a new child process and resolves with its result. */
export function offload<K extends OffloadRequest['op']>(
  request: Extract<OffloadRequest, { op: K }>,
): Promise<OffloadResults[K]> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [], {
      // The server's own flags (a profiler…) are not the child's.
      execArgv: [],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    let stderr = '';
    let reply: OffloadReply | undefined;
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-4000);
    });
    child.on('message', (m) => {
      reply = m as OffloadReply;
    });
    child.once('error', reject);
    // `close` comes after the process has exited and its IPC channel has delivered everything.
    child.once('close', (code, signal) => {
      if (reply?.ok === true) resolve(reply.result as OffloadResults[K]);
      else if (reply?.ok === false) reject(new Error(reply.message));
      else {
        const why = stderr.trim().split('\n').slice(-3).join(' ');
        reject(new Error(`the backup process exited (${String(code ?? signal)}): ${why}`));
      }
    });
    child.send(request);
  });
}
