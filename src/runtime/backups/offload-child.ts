import fs from 'node:fs';
import os from 'node:os';
import type { OffloadReply, OffloadRequest } from './offload.js';

/**
 * The child process of offload.ts: runs one request at a lower CPU priority, answers it over
 * IPC and exits. It exits at once if the server goes (a crash must not leave it writing into a
 * staging folder that a retry is about to reuse).
 */
const NICE = 10;

/**
 * On Linux a nice value belongs to a thread: every thread that exists now gets it, and the
 * threads started later (libuv's pool, where zlib compresses) inherit it from this one.
 */
function lowerPriority(): void {
  let threads: number[] = [0];
  try {
    threads = fs.readdirSync('/proc/self/task').map(Number);
  } catch {
    // Not Linux: the process's priority is all there is.
  }
  for (const tid of threads) {
    try {
      os.setPriority(tid, NICE);
    } catch {
      // A thread that has ended meanwhile.
    }
  }
}

/** Each request loads only what it needs: a child starts for every part of every backup. */
async function run(request: OffloadRequest): Promise<unknown> {
  switch (request.op) {
    case 'sqlite-copy':
      await (await import('./database.js')).copySqlite(request.live, request.dest);
      return null;
    case 'mysql-dump': {
      const { dumpMysqlHere } = await import('./database.js');
      return dumpMysqlHere(request.target, request.dest, request.prefix);
    }
    case 'archive':
      return (await import('./archive.js')).writeContentArchive(request.contentDir, request.dest);
  }
}

function answer(reply: OffloadReply): void {
  process.send?.(reply, () => {
    process.exit(0);
  });
}

lowerPriority();
process.once('disconnect', () => process.exit(1));
process.once('message', (request: OffloadRequest) => {
  run(request).then(
    (result) => {
      answer({ ok: true, result });
    },
    (err: unknown) => {
      answer({ ok: false, message: err instanceof Error ? err.message : String(err) });
    },
  );
});
