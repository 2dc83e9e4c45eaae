/**
 * Backup benchmark (issue 7): real WordPress (Debian's release) on the wasm runtime, served by
 * `wpfleet serve` in its own process on a SQLite store; backups requested through the WP Engine
 * API, restores through `wpfleet backups restore` (queued for the running server).
 *
 *   1. a fresh install: backup time (POST → completed) and archive size, restore time
 *   2. the same for an install filled with 1,000 posts (wp_insert_post) and 50 MB of uploads
 *   3. that install's uncached home page p99 while backups run vs idle, in the same run
 *   4. an install whose uploads hold one 1 GiB file: the RSS rise of the server, its backup child
 *      and the CLI while it is backed up, verified and restored (target: under 100 MB each)
 *
 *   npm run build && npm run bench:backups
 *
 * BENCH_RUNS (default 3) backups and restores of each install; BENCH_ROUNDS (default 30) rounds
 * of BENCH_IDLE_MS (default 3000) idle then one backup for figure 3; BENCH_CASES (default
 * 1,2,3,4) the cases to run (3 needs 2); BENCH_LARGE_MB (default 1024) the large file's size.
 */
import os from 'node:os';
import { fillInstall, timeBackup, timeRestore } from './lib/backup-steps.js';
import { largeUpload, printLargeUpload } from './lib/large-upload.js';
import { formatMs, summarize } from './lib/load.js';
import { pagesDuringBackups } from './lib/pages-during-backups.js';
import { since } from './lib/http.js';
import { loadAverage } from './lib/process.js';
import {
  createInstall,
  startWordPress,
  waitActive,
  whileServing,
  type Install,
  type WordPressServer,
} from './lib/wordpress.js';

const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? '3'));
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? '30'));
const IDLE_MS = Math.max(1000, Number(process.env.BENCH_IDLE_MS ?? '3000'));
const CASES = new Set((process.env.BENCH_CASES ?? '1,2,3,4').split(',').map(Number));
const LARGE_BYTES = Math.max(1, Number(process.env.BENCH_LARGE_MB ?? '1024')) * 1024 * 1024;
const POSTS = 1000;
const UPLOAD_BYTES = 50 * 1024 * 1024;
const UPLOAD_FILE_BYTES = 512 * 1024;

const sec = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(2)} MB`;
const median = (values: number[]): number => summarize(values).p50;

interface Row {
  install: string;
  backupMs: number[];
  serverMs: number[];
  filesBytes: number;
  databaseBytes: number;
  files: number;
  restoreCliMs: number[];
  restoreJobMs: number[];
}

async function ready(wp: WordPressServer, name: string): Promise<Install> {
  const install = await createInstall(wp, name);
  await waitActive(wp, [install.id], 300_000);
  const page = await wp.site(name, '/', { 'cache-control': 'no-cache' });
  if (page.status !== 200) throw new Error(`${name} answered ${page.status}`);
  return install;
}

/** RUNS backups one after another, then RUNS restores of the first onto the same install. */
async function backupAndRestore(wp: WordPressServer, install: Install): Promise<Row> {
  const backups = [];
  for (let i = 0; i < RUNS; i++) {
    const b = await timeBackup(wp, install);
    backups.push(b);
    console.log(
      `  backup ${i + 1}: ${sec(b.ms)} (server ${sec(b.serverMs)}), files.tar.gz ${mb(b.filesBytes)}, ` +
        `database ${mb(b.databaseBytes)}, ${b.files} files`,
    );
  }
  const first = backups[0];
  if (first === undefined) throw new Error('no backup');
  const restores = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await timeRestore(wp, install, first.id);
    restores.push(r);
    console.log(`  restore ${i + 1}: CLI ${sec(r.cliMs)}, job ${sec(r.jobMs)}`);
  }
  const page = await wp.site(install.name, '/', { 'cache-control': 'no-cache' });
  if (page.status !== 200)
    throw new Error(`after the restores ${install.name} answered ${page.status}`);
  return {
    install: install.name,
    backupMs: backups.map((b) => b.ms),
    serverMs: backups.map((b) => b.serverMs),
    filesBytes: first.filesBytes,
    databaseBytes: first.databaseBytes,
    files: first.files,
    restoreCliMs: restores.map((r) => r.cliMs),
    restoreJobMs: restores.map((r) => r.jobMs),
  };
}

function table(rows: Row[]): void {
  console.log(
    '\n| install | backup (POST → completed) | backup (server) | files.tar.gz | database | files | restore (CLI) | restore (job) |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  const range = (v: number[]): string =>
    `${sec(median(v))} (${sec(Math.min(...v))}–${sec(Math.max(...v))})`;
  for (const r of rows) {
    console.log(
      `| ${r.install} | ${range(r.backupMs)} | ${range(r.serverMs)} | ${mb(r.filesBytes)} | ` +
        `${mb(r.databaseBytes)} | ${r.files} | ${range(r.restoreCliMs)} | ${range(r.restoreJobMs)} |`,
    );
  }
}

console.log(
  `wpfleet backup benchmark: ${RUNS} backups and restores per install, ${ROUNDS} rounds for p99; ` +
    `load average ${loadAverage()}, ${os.cpus().length} cores`,
);
const wp = await startWordPress({ WPFLEET_PHP_IDLE_SECONDS: '900' });
await whileServing(wp, async () => {
  console.log(`release added in ${sec(wp.releaseAddMs)}; server pid ${wp.pid} at ${wp.base}`);
  const rows: Row[] = [];

  if (CASES.has(1)) {
    console.log('\n1. a fresh install');
    const fresh = await ready(wp, 'fresh');
    rows.push(await backupAndRestore(wp, fresh));
  }

  let ratio: number | undefined;
  if (CASES.has(2) || CASES.has(3)) {
    console.log(`\n2. an install with ${POSTS} posts and ${mb(UPLOAD_BYTES)} of uploads`);
    const full = await ready(wp, 'full');
    const t0 = performance.now();
    const filled = await fillInstall(wp, full, POSTS, UPLOAD_BYTES, UPLOAD_FILE_BYTES);
    console.log(
      `  filled in ${sec(since(t0))}: ${POSTS} posts by wp_insert_post in ${sec(filled.postsMs)}, ` +
        `${filled.uploadFiles} upload files`,
    );
    if (CASES.has(2)) rows.push(await backupAndRestore(wp, full));

    if (CASES.has(3)) {
      console.log(`\n3. ${full.name}'s uncached home page, idle vs while a backup runs`);
      const p = await pagesDuringBackups(wp, full, ROUNDS, IDLE_MS);
      ratio = p.during.p99 / p.idle.p99;
      console.log(`  idle:            ${formatMs(p.idle)}`);
      console.log(`  during a backup: ${formatMs(p.during)}`);
      console.log(
        `  p99 ratio during/idle: ${ratio.toFixed(2)} (target 1.5 or less: ${ratio <= 1.5 ? 'met' : 'not met'}); ` +
          `p50 ratio ${(p.during.p50 / p.idle.p50).toFixed(2)}; ${p.errors} errors; ` +
          `backups ${p.backups.map((b) => sec(b.serverMs)).join(', ')} (${(p.busyShare * 100).toFixed(0)}% of the time)`,
      );

      console.log(
        `  slowest pages during a backup: ${p.slowest
          .map((x) => `${x.ms.toFixed(0)} ms at +${sec(x.atMs)} of ${sec(x.backupMs)}`)
          .join(', ')}`,
      );
    }
  }

  if (CASES.has(4)) {
    console.log(`\n4. an install whose uploads hold one file of ${mb(LARGE_BYTES)}`);
    const large = await ready(wp, 'large');
    printLargeUpload(await largeUpload(wp, large, LARGE_BYTES));
  }

  if (rows.length > 0) table(rows);
  if (rows[0]?.install === 'fresh') {
    const freshMedian = median(rows[0].backupMs);
    console.log(
      `\nfresh install backup: median ${sec(freshMedian)} (target under 2 s: ${freshMedian < 2000 ? 'met' : 'not met'})` +
        (ratio === undefined ? '' : `; p99 during/idle ${ratio.toFixed(2)}`),
    );
  }
  console.log(`load average at the end: ${loadAverage()}`);
});
