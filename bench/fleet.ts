/**
 * Fleet benchmark (issue 13 §3: update one plugin on 100 installs in under 60 s on the wasm
 * runtime). `wpfleet serve` hosts BENCH_INSTALLS (default 100) real WordPress installs (Debian's
 * release, SQLite); the fleet commands run as a user runs them, `wpfleet plugins … --all` in
 * their own process on the same store, with their own PHP:
 *
 *   1. the installs are created (through the installs service, as the API does) and provisioned
 *      by the server, or reused from BENCH_FLEET_DATA (a data directory kept between runs); then
 *      the server's first WordPress cron run of each is waited for (new installs' events are
 *      overdue, a one-off burst that would otherwise compete with the timed command)
 *   2. setup: wpfleet-hello 1.0.0 (from the mirror of the tests' fixture zips) installed and
 *      activated on all of them with `wpfleet plugins install … --all --force` (timed too)
 *   3. timed: `wpfleet plugins update wpfleet-hello --all --json` (to 1.1.0): wall time, the
 *      per-install p50/p95 from the report's `ms`, and the peak RSS of the command's process and
 *      of its PHP host process, sampled every 50 ms
 *
 * BENCH_CONCURRENCY=2,4 runs step 2 and 3 once per value (default: the command's own default).
 *
 *   npm run build && npm run bench:fleet
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createApp } from '../src/composition.js';
import { loadConfig } from '../src/config.js';
import { operatorActor } from '../src/core/actor.js';
import { SHARED_CACHE } from '../test/helpers/hosted.js';
import { testStore, type TestStore } from '../test/helpers/engines.js';
import { writeTestPackages } from '../test/helpers/package-fixtures.js';
import { sleep } from './lib/http.js';
import { percentile } from './lib/load.js';
import {
  freePort,
  launchServer,
  loadAverage,
  processTree,
  rssMb,
  stopServer,
} from './lib/process.js';
import { rssDuring } from './lib/rss-during.js';

const run = promisify(execFile);
const INSTALLS = Math.max(1, Number(process.env.BENCH_INSTALLS ?? '100'));
const KEEP = process.env.BENCH_FLEET_DATA;
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? '')
  .split(',')
  .map((c) => c.trim())
  .filter((c) => c !== '');
const SLUG = 'wpfleet-hello';
/** Linux's USER_HZ: /proc's CPU times are in these ticks. */
const CLOCK_TICKS = 100;

const sec = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const mb = (v: number): string => `${v.toFixed(0)} MB`;
const nameOf = (i: number): string => `fleet${String(i + 1).padStart(3, '0')}`;

interface Report {
  ok: boolean;
  total: number;
  succeeded: number;
  failed: number;
  results: {
    install: { name: string };
    ok: boolean;
    ms?: number;
    result?: { version_after: string | null };
    error?: { code: string; message: string };
  }[];
}

const settings = {
  WPFLEET_JOBS: 'true',
  WPFLEET_RELEASE_SOURCES: 'debian',
  WPFLEET_CACHE_DIR: SHARED_CACHE,
  WPFLEET_LOG_LEVEL: 'warn',
  WPFLEET_WPORG: 'off',
  WPFLEET_RATE_LIMIT_ACCOUNT_HOUR: '0',
  WPFLEET_RATE_LIMIT_IP_MINUTE: '0',
};

/** A fresh store, or the kept data directory of BENCH_FLEET_DATA (never deleted). */
async function store(): Promise<TestStore> {
  if (KEEP === undefined) return testStore('sqlite', settings);
  fs.mkdirSync(KEEP, { recursive: true });
  const dir = path.resolve(KEEP);
  return {
    config: loadConfig({ data: dir }, { ...settings }),
    pgSchema: undefined,
    env: { ...settings, WPFLEET_DATA: dir },
    dispose: () => Promise.resolve(),
  };
}

/** `wpfleet <args>` to completion, with the store's settings. */
async function cli(env: Record<string, string>, args: string[]): Promise<string> {
  const r = await run(process.execPath, ['bin/wpfleet.js', ...args], {
    env: { ...process.env, ...env },
    timeout: 30 * 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return r.stdout;
}

/**
 * A fleet command with --json, its RSS sampled: the command's process, and the largest process
 * it started (its PHP host).
 */
async function fleetCommand(
  env: Record<string, string>,
  args: string[],
): Promise<{
  report: Report;
  ms: number;
  cliPeak: number;
  hostPeak: number;
  treePeak: number;
  cpuSeconds: number;
  /** Of which the command's own process (the control plane's share, one event loop). */
  cpuMainSeconds: number;
}> {
  let pid: number | undefined;
  // CPU time of the command and its PHP host, per process, as last read (the last 200 ms of a
  // process that exits are not counted).
  const cpu = new Map<number, number>();
  const readCpu = (): void => {
    if (pid === undefined) return;
    for (const p of processTree(pid)) {
      try {
        const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        cpu.set(p, (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS);
      } catch {
        // exited meanwhile
      }
    }
  };
  const cpuTimer = setInterval(readCpu, 200);
  const measured = await rssDuring(
    () => pid,
    () =>
      new Promise<Report>((resolve, reject) => {
        const child = spawn(process.execPath, ['bin/wpfleet.js', ...args, '--json'], {
          env: { ...process.env, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        pid = child.pid;
        let out = '';
        let err = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.stderr.on('data', (c: Buffer) => (err += c.toString()));
        child.on('error', reject);
        child.on('close', () => {
          try {
            resolve(JSON.parse(out) as Report);
          } catch {
            reject(new Error(`wpfleet ${args.join(' ')} printed no report: ${err.slice(-4000)}`));
          }
        });
      }),
  );
  clearInterval(cpuTimer);
  return {
    cpuSeconds: [...cpu.values()].reduce((a, b) => a + b, 0),
    cpuMainSeconds: pid === undefined ? 0 : (cpu.get(pid) ?? 0),
    report: measured.result,
    ms: measured.ms,
    cliPeak: measured.main.peak,
    hostPeak: measured.started.peak,
    treePeak: measured.tree.peak,
  };
}

console.log(
  `wpfleet fleet benchmark: ${INSTALLS} installs, ${os.cpus().length} cores, ` +
    `${mb(os.totalmem() / 1024 / 1024)} RAM; load average ${loadAverage()}`,
);
const s = await store();
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-bench-fleet-'));
let server: Awaited<ReturnType<typeof launchServer>> | undefined;
try {
  const releases = JSON.parse(await cli(s.env, ['releases', 'list', '--json'])) as unknown[];
  if (releases.length === 0) await cli(s.env, ['releases', 'add', '--source', 'debian', '--json']);
  const zips = (await writeTestPackages(scratch)).filter(
    (z) => z.slug === SLUG && z.version !== '2.0.0',
  );
  await cli(s.env, ['mirror', 'add', '--force', ...zips.map((z) => z.file)]);
  const port = await freePort();
  server = await launchServer(s.env, port);
  const env = { ...s.env, WPFLEET_PORT: String(port) };
  const serverPid = server.child.pid ?? 0;

  // 1. the installs
  const app = await createApp(s.config);
  try {
    const account = await app.services.accounts.first();
    const actor = operatorActor(account.id);
    const listed = await app.services.installs.list(actor, undefined, {
      limit: 100_000,
      offset: 0,
    });
    const have = new Set(listed.items.map((v) => v.install.name));
    const missing = Array.from({ length: INSTALLS }, (_, i) => nameOf(i)).filter(
      (n) => !have.has(n),
    );
    const t0 = performance.now();
    for (const name of missing) {
      await app.services.installs.create(actor, { name, account_id: account.id });
    }
    for (;;) {
      const page = await app.services.installs.list(actor, undefined, {
        limit: 100_000,
        offset: 0,
      });
      const ours = page.items.filter((v) => /^fleet\d{3}$/.test(v.install.name));
      const failed = ours.filter((v) => v.install.status === 'failed');
      if (failed.length > 0) {
        throw new Error(`install ${failed[0]?.install.name ?? ''} failed to provision`);
      }
      if (ours.every((v) => v.install.status === 'active')) break;
      if (performance.now() - t0 > 60 * 60_000) throw new Error('installs not active in 1 h');
      await sleep(500);
    }
    console.log(
      `\n1. installs: ${missing.length} created and provisioned by the server in ` +
        `${sec(performance.now() - t0)} (${INSTALLS - missing.length} reused); server RSS ` +
        `${mb(rssMb(serverPid))} with its PHP host`,
    );
    // New installs' WordPress cron is overdue (their database comes from the release's
    // template): the server runs it once for each, two at a time. That burst is not the fleet
    // command's work, so the timing starts once it has passed, as on a server in steady state.
    const t1 = performance.now();
    const ids = (
      await app.services.installs.list(actor, undefined, { limit: 100_000, offset: 0 })
    ).items
      .filter((v) => /^fleet\d{3}$/.test(v.install.name))
      .map((v) => v.install.id);
    for (;;) {
      const runs = await Promise.all(ids.map((id) => app.store.read.cron.find(id)));
      if (runs.every((r) => r !== undefined && r.runs > 0)) break;
      if (performance.now() - t1 > 20 * 60_000) throw new Error('cron not run in 20 min');
      await sleep(2000);
    }
    console.log(
      `   their first WordPress cron runs (overdue events of new installs, run by the server): ` +
        `${sec(performance.now() - t1)} more; server RSS ${mb(rssMb(serverPid))}`,
    );
  } finally {
    await app.close();
  }

  const rounds = CONCURRENCIES.length === 0 ? [undefined] : CONCURRENCIES;
  for (const concurrency of rounds) {
    const extra = concurrency === undefined ? [] : ['--concurrency', concurrency];
    const label =
      concurrency === undefined ? 'the default concurrency' : `--concurrency ${concurrency}`;

    // 2. every install at v1, active (not the figure asked for; timed as a second fleet figure)
    const setup = await fleetCommand(env, [
      'plugins',
      'install',
      SLUG,
      '--version',
      '1.0.0',
      '--activate',
      '--force',
      '--all',
      ...extra,
    ]);
    if (setup.report.failed > 0) {
      const bad = setup.report.results.find((r) => !r.ok);
      throw new Error(`setup failed on ${bad?.install.name ?? ''}: ${bad?.error?.message ?? ''}`);
    }
    console.log(
      `\n2. ${label}: ${SLUG} 1.0.0 installed and activated on ${setup.report.succeeded} ` +
        `installs in ${sec(setup.ms)} (CPU ${setup.cpuSeconds.toFixed(1)} s)`,
    );

    // 3. the figure: update on all of them
    const serverBefore = rssMb(serverPid);
    const update = await fleetCommand(env, ['plugins', 'update', SLUG, '--all', ...extra]);
    const times = update.report.results
      .map((r) => r.ms ?? Number.NaN)
      .filter((v) => !Number.isNaN(v))
      .sort((a, b) => a - b);
    const updated = update.report.results.filter(
      (r) => r.ok && r.result?.version_after === '1.1.0',
    ).length;
    console.log(
      `3. ${label}: \`wpfleet plugins update ${SLUG} --all\` on ${update.report.total} installs: ` +
        `**${sec(update.ms)}** wall (target < 60 s), ${updated} updated to 1.1.0, ` +
        `${update.report.failed} failed\n` +
        `   CPU time of the command and its PHP host: ${update.cpuSeconds.toFixed(1)} s ` +
        `(the command's own process ${update.cpuMainSeconds.toFixed(1)} s) ` +
        `(${((update.cpuSeconds * 1000) / Math.max(1, update.report.total)).toFixed(0)} ms per install; ` +
        `on ${os.cpus().length} otherwise idle cores at best ` +
        `${sec((update.cpuSeconds * 1000) / os.cpus().length)})\n` +
        `   per install: p50 ${percentile(times, 50).toFixed(0)} ms, p95 ` +
        `${percentile(times, 95).toFixed(0)} ms, max ${(times.at(-1) ?? 0).toFixed(0)} ms; ` +
        `${(update.ms / Math.max(1, update.report.total)).toFixed(0)} ms of wall time per install\n` +
        `   peak RSS: the command ${mb(update.cliPeak)}, its PHP host ${mb(update.hostPeak)}, ` +
        `both ${mb(update.treePeak)}; the server (idle PHP kept) ${mb(serverBefore)} → ` +
        mb(rssMb(serverPid)),
    );
    const bad = update.report.results.find((r) => !r.ok);
    if (bad !== undefined)
      console.log(`   first failure: ${bad.install.name}: ${bad.error?.message ?? ''}`);
  }
  console.log(`\nload average ${loadAverage()}`);
} catch (err) {
  if (server !== undefined) console.error(`server output:\n${server.recent()}`);
  throw err;
} finally {
  if (server !== undefined) await stopServer(server.child);
  await s.dispose();
  fs.rmSync(scratch, { recursive: true, force: true });
}
