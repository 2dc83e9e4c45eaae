import http from 'node:http';
import { sleep } from './http.js';
import { summarize, type Summary } from './load.js';
import { timeBackup, type BackupTiming } from './backup-steps.js';
import type { Install, WordPressServer } from './wordpress.js';

/** Wall-clock milliseconds (the server stamps backups with the same clock). */
const now = (): number => performance.timeOrigin + performance.now();

/** A gap after each backup whose pages count neither as idle nor as during. */
const SETTLE_MS = 500;

export interface PagesDuringBackups {
  idle: Summary;
  during: Summary;
  errors: number;
  backups: BackupTiming[];
  /** Share of the rounds' time a backup was running. */
  busyShare: number;
  /** The slowest pages during backups: when they started, from their backup's start. */
  slowest: { ms: number; atMs: number; backupMs: number }[];
}

/**
 * One client requests the install's home page uncached (a cache-busting query and
 * `Cache-Control: no-cache`, so WordPress renders every one) back to back, without pause, on one
 * keep-alive connection, for `rounds` rounds of: `idleMs` with nothing else, then one backup
 * through the API. A page counts as "during" when its request overlaps a backup's run on the
 * server (create_time to complete_time), as "idle" when it overlaps none and does not start
 * within SETTLE_MS of one's end.
 */
export async function pagesDuringBackups(
  wp: WordPressServer,
  install: Install,
  rounds: number,
  idleMs: number,
): Promise<PagesDuringBackups> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const samples: { start: number; end: number; ms: number }[] = [];
  let errors = 0;
  const state = { stopped: false };
  let n = 0;
  const loop = (async () => {
    while (!state.stopped) {
      const start = now();
      const r = await wp
        .site(install.name, `/?bench=${n++}`, { 'cache-control': 'no-cache' }, agent)
        .catch(() => undefined);
      const end = now();
      if (r?.status !== 200 || r.headers['x-cache'] !== undefined) errors += 1;
      else samples.push({ start, end, ms: r.ms });
    }
  })();
  const backups: BackupTiming[] = [];
  const windows: { from: number; to: number }[] = [];
  const t0 = now();
  try {
    for (let i = 0; i < rounds; i++) {
      await sleep(idleMs);
      const b = await timeBackup(wp, install, 100);
      backups.push(b);
      windows.push({ from: b.createdAt, to: b.completedAt });
    }
  } finally {
    state.stopped = true;
    await loop;
    agent.destroy();
  }
  const total = now() - t0;
  const idle: number[] = [];
  const during: number[] = [];
  const slowest: PagesDuringBackups['slowest'] = [];
  for (const s of samples) {
    const w = windows.find((b) => s.start < b.to && s.end > b.from);
    if (w !== undefined) {
      during.push(s.ms);
      slowest.push({ ms: s.ms, atMs: s.start - w.from, backupMs: w.to - w.from });
    } else if (!windows.some((b) => s.start >= b.to && s.start < b.to + SETTLE_MS)) {
      idle.push(s.ms);
    }
  }
  slowest.sort((a, b) => b.ms - a.ms);
  const busy = windows.reduce((sum, w) => sum + (w.to - w.from), 0);
  return {
    idle: summarize(idle),
    during: summarize(during),
    errors,
    backups,
    busyShare: busy / total,
    slowest: slowest.slice(0, 5),
  };
}
