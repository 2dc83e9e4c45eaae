/**
 * Runtime benchmark (issue 6): real WordPress (Debian's release) on the wasm runtime, served by
 * `wpfleet serve` in its own process through its edge, loaded over loopback HTTP from here.
 *
 *   1. POST /v1/installs → first 200 of the home page, median of BENCH_INSTALLS (default 10);
 *      and the first install on a fresh data directory after the server's warm-up, with an empty
 *      machine cache and with the cache that filled (bench/lib/first-install.ts)
 *   2. uncached home page p50/p99 vs a bare PHPRequestHandler on the same files, in this process
 *   3. cached page req/s vs the same bytes served from memory by Node's http server (wrk)
 *   4. API GET /v1/installs/{id} while five installs provision and ten serve uncached pages
 *   5. server RSS (with its PHP host process) with 0, 1 and 10 active installs and after idling out
 *   6. disk per new install beyond the shared core
 *
 *   npm run build && npm run bench:runtime        (needs wrk: apt-get install -y wrk)
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { diskUsage, siteLayout } from '../src/runtime/sites/site-files.js';
import { bootBarePhp } from './lib/bare-php.js';
import { since, sleep } from './lib/http.js';
import { formatMs, summarize, type Summary } from './lib/load.js';
import { loadAverage, processCount, pssMb, rssMb, rssPartsMb, threadCount } from './lib/process.js';
import { firstInstallFigures, printFirstInstall } from './lib/first-install.js';
import { firstRenderMs, timeCreate, type CreateTiming } from './lib/provisioning.js';
import { cachedPages, printCachedPages } from './lib/cached-pages.js';
import { apiUnderLoad } from './lib/under-load.js';
import {
  startWordPress,
  whileServing,
  type Install,
  type WordPressServer,
} from './lib/wordpress.js';

const INSTALLS = Math.max(1, Number(process.env.BENCH_INSTALLS ?? '10'));
const SERVING = Math.min(10, INSTALLS);
const PROVISIONING = 5;
const WARMUP = 10;
const SAMPLES = 50;
const IDLE_SECONDS = 10;
const NO_CACHE = { 'cache-control': 'no-cache' };

const mb = (v: number): string => `${v.toFixed(0)} MB`;
const sec = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const range = (x: Summary, f: (v: number) => string): string =>
  `median ${f(x.p50)} (min ${f(x.min)}, max ${f(x.max)}, n=${x.n})`;
function figure(title: string, target: string, met: boolean): void {
  console.log(`\n== ${title} (target: ${target}): ${met ? 'MET' : 'NOT MET'}`);
}

/**
 * RSS of the server and its PHP host process at each step, in MB, with its anonymous part and
 * the PSS (shared pages counted once) when read then.
 */
const rss = new Map<string, number>();
const detail = new Map<string, string>();
function record(pid: number, label: string): number {
  const value = rssMb(pid);
  rss.set(label, value);
  detail.set(
    label,
    ` (anonymous ${mb(rssPartsMb(pid).anon)}, PSS ${mb(pssMb(pid))}, ` +
      `${processCount(pid)} processes, ${threadCount(pid)} threads)`,
  );
  return value;
}

/**
 * Waits until the server's idle PHP threads have gone: the idle time, then until the thread
 * count has not fallen for 3 s (60 s at most). Returns the thread count.
 */
async function waitIdleOut(pid: number): Promise<number> {
  await sleep(IDLE_SECONDS * 1000 + 1500);
  let last = threadCount(pid);
  let stable = 0;
  for (let i = 0; i < 60 && stable < 3; i++) {
    await sleep(1000);
    const now = threadCount(pid);
    stable = now < last ? 0 : stable + 1;
    last = now;
  }
  return last;
}

async function provisioningTimes(wp: WordPressServer): Promise<CreateTiming[]> {
  const timings: CreateTiming[] = [];
  const dataDir = wp.store.config.dataDir;
  for (let i = 0; i < INSTALLS; i++) {
    const t = await timeCreate(wp, `bench${String(i + 1).padStart(2, '0')}`, 300_000);
    timings.push(t);
    const statuses = [...t.edgeStatuses].map(([k, v]) => `${v}×${k}`).join(' ');
    console.log(
      `  ${t.install.name}: POST ${t.postMs.toFixed(0)} ms, files ${sec(t.filesMs)}, database ready ${sec(t.installedMs)}, ` +
        `first 200 ${sec(t.first200Ms)}, active ${sec(t.activeMs)}, ` +
        `first render ${await firstRenderMs(dataDir, t.install.id)} ms; edge answered ${statuses}`,
    );
  }
  const first = summarize(timings.map((t) => t.first200Ms));
  figure('1. POST /v1/installs → first 200 through the edge', 'under 1 s', first.p50 < 1000);
  console.log(`  first 200:        ${range(first, sec)}`);
  const files = summarize(timings.map((t) => t.filesMs));
  console.log(`  files written:    ${range(files, sec)}  (job taken, wp-config.php in place)`);
  const installed = summarize(timings.map((t) => t.installedMs));
  console.log(`  database ready:   ${range(installed, sec)}  (the API shows a wp_version)`);
  console.log(`  active:           ${range(summarize(timings.map((t) => t.activeMs)), sec)}`);
  const render = summarize(
    await Promise.all(timings.map((t) => firstRenderMs(dataDir, t.install.id))),
  );
  console.log(
    `  first page render on the edge (its access log): ${range(render, (v) => `${v} ms`)}`,
  );
  return timings;
}

/**
 * Figure 2: the edge and the bare handler take turns, in blocks of ten sequential requests, so
 * that both see the same machine (never at the same time). Resolves with the server's RSS with
 * this one install active.
 */
async function uncached(wp: WordPressServer, install: Install): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const host = `${install.name}.localhost:${wp.port}`;
  const layout = siteLayout(wp.store.config.dataDir, install.id);
  const edgeOnce = async (): Promise<{ ms: number; bytes: number }> => {
    const r = await wp.site(install.name, '/', NO_CACHE, agent);
    if (r.status !== 200 || r.headers['x-cache'] !== undefined) {
      throw new Error(`uncached page: ${r.status}, X-Cache ${String(r.headers['x-cache'])}`);
    }
    return { ms: r.ms, bytes: r.body.length };
  };
  const cold = await edgeOnce();
  const bare = await bootBarePhp({
    phpVersion: install.php_version,
    releaseDir: wp.releaseRoot,
    contentDir: layout.contentDir,
    configFile: layout.configFile,
    absoluteUrl: `http://${host}`,
  });
  const bareOnce = () => bare.request('/', { host, ...NO_CACHE });
  const edge: number[] = [];
  const direct: number[] = [];
  let bareFirst = 0;
  let sizes = '';
  try {
    bareFirst = (await bareOnce()).ms;
    for (let i = 0; i < WARMUP; i++) {
      await edgeOnce();
      await bareOnce();
    }
    for (let block = 0; block < SAMPLES / 10; block++) {
      for (let i = 0; i < 10; i++) edge.push((await edgeOnce()).ms);
      for (let i = 0; i < 10; i++) direct.push((await bareOnce()).ms);
    }
    sizes = `${(await edgeOnce()).bytes} B through the edge, ${(await bareOnce()).bytes} B bare`;
  } finally {
    bare.close();
    agent.destroy();
  }
  const rssOne = record(wp.pid, '1 active install (after the uncached run)');
  const e = summarize(edge);
  const b = summarize(direct);
  const ratio = e.p50 / b.p50;
  figure('2. uncached home page, edge / bare PHPRequestHandler', '1.15 or better', ratio <= 1.15);
  console.log(`  edge, over HTTP, Cache-Control: no-cache:  ${formatMs(e)}`);
  console.log(`  bare PHPRequestHandler in the bench:       ${formatMs(b)}`);
  console.log(`  ratio: p50 ${ratio.toFixed(2)}, p99 ${(e.p99 / b.p99).toFixed(2)}  (${sizes})`);
  console.log(
    `  cold start through the edge (first request after idling out): ${cold.ms.toFixed(0)} ms; ` +
      `bare: boot ${bare.bootMs.toFixed(0)} ms, then first request ${bareFirst.toFixed(0)} ms`,
  );
  return rssOne;
}

/**
 * Figure 3: the edge's page cache against Node's own http server with the same bytes in memory,
 * both driven by wrk (a C load generator) in alternating turns; see lib/cached-pages.ts.
 */
async function cached(wp: WordPressServer, install: Install): Promise<void> {
  const f = await cachedPages(wp, install.name);
  figure('3. cached page req/s, edge / Node http from memory', '0.8 or better', f.ratio >= 0.8);
  printCachedPages(f, 0.8);
}

/** Figure 4; resolves with the server's RSS with the serving installs active (quiet). */
async function underLoad(wp: WordPressServer, serving: Install[]): Promise<number> {
  const t0 = performance.now();
  const cold = await Promise.all(
    serving.map(async (i) => (await wp.site(i.name, '/', NO_CACHE)).ms),
  );
  const rssAll = record(wp.pid, `${serving.length} active installs (each served a page; quiet)`);
  console.log(
    `\n  woke ${serving.length} idle installs at once in ${sec(since(t0))}: ${formatMs(summarize(cold))}; ` +
      `server threads ${threadCount(wp.pid)}`,
  );
  const r = await apiUnderLoad(wp, serving, PROVISIONING, 300_000);
  rss.set(`${serving.length} active installs (serving uncached pages)`, r.rssServingMb);
  rss.set(`peak while ${PROVISIONING} provision and ${serving.length} serve`, r.rssPeakMb);
  const title = `4. API GET /v1/installs/{id}, ${PROVISIONING} provisioning + ${serving.length} serving`;
  figure(title, 'p99 under 50 ms', r.apiLoaded.p99 < 50);
  console.log(`  API under that load:           ${formatMs(r.apiLoaded)}`);
  console.log(`  API with the page loops only:  ${formatMs(r.apiServing)}`);
  console.log(`  API quiet:                     ${formatMs(r.apiQuiet)}  (${r.apiErrors} errors)`);
  console.log(`  POST /v1/installs under load:  ${formatMs(r.posts)}`);
  console.log(`  new installs active after:     ${r.activeAfterMs.map(sec).join(', ')}`);
  console.log(
    `  uncached pages meanwhile:      ${formatMs(r.pages)}, ${r.pagesPerSecond.toFixed(1)} pages/s, ` +
      `${r.pageErrors} errors`,
  );
  return rssAll;
}

async function diskFigure(wp: WordPressServer, installs: Install[], first: Install): Promise<void> {
  const dataDir = wp.store.config.dataDir;
  const sizes = await Promise.all(installs.map((i) => diskUsage(siteLayout(dataDir, i.id).dir)));
  const d = summarize(sizes.map((b) => b / 1e6));
  figure('6. disk per new install beyond the shared core', 'under 5 MB', d.max < 5);
  console.log(`  <data>/installs/<id>: ${range(d, (v) => `${v.toFixed(2)} MB`)}`);
  const content = siteLayout(dataDir, first.id).contentDir;
  const parts = await Promise.all(
    fs.readdirSync(content).map(async (name) => {
      const p = path.join(content, name);
      const bytes = fs.statSync(p).isDirectory() ? await diskUsage(p) : fs.statSync(p).size;
      return `${name} ${(bytes / 1e6).toFixed(2)}`;
    }),
  );
  console.log(`  ${first.name}'s wp-content, MB: ${parts.join(', ')}`);
  console.log(
    `  the shared core (the release): ${((await diskUsage(wp.releaseRoot)) / 1e6).toFixed(1)} MB`,
  );
}

console.log(
  `wpfleet runtime benchmark: ${INSTALLS} installs, PHP unloaded after ${IDLE_SECONDS} s idle; ` +
    `load average ${loadAverage()}, MALLOC_ARENA_MAX ${process.env.MALLOC_ARENA_MAX ?? 'unset'}`,
);
// Before the main server starts, so that the two never run at once.
const fresh = await firstInstallFigures();
const wp = await startWordPress({
  WPFLEET_PHP_IDLE_SECONDS: String(IDLE_SECONDS),
  WPFLEET_PHP_TOTAL: String(SERVING + PROVISIONING + 1),
});
await whileServing(wp, async () => {
  console.log(`release added in ${sec(wp.releaseAddMs)}; server pid ${wp.pid} at ${wp.base}`);
  await sleep(2000);
  record(wp.pid, 'no install, at start');
  const atStart = rss.get('no install, at start') ?? Number.NaN;
  const threadsAtStart = threadCount(wp.pid);

  console.log('\n1. creating installs one after another…');
  const timings = await provisioningTimes(wp);
  printFirstInstall(fresh, summarize(timings.map((t) => t.first200Ms)).p50);
  const installs = timings.map((t) => t.install);
  const first = installs[0];
  if (first === undefined) throw new Error('no install was created');

  const threadsIdle = await waitIdleOut(wp.pid);
  const idle = record(wp.pid, `0 active installs (${INSTALLS} created, idled out): baseline`);
  const one = await uncached(wp, first);
  await cached(wp, first);
  const ten = await underLoad(wp, installs.slice(0, SERVING));
  const threadsAfter = await waitIdleOut(wp.pid);
  const after = record(wp.pid, `after they idled out (${IDLE_SECONDS} s)`);

  const perOne = one - idle;
  const perTen = (ten - idle) / SERVING;
  const back = after <= idle * 1.1;
  figure(
    '5. server RSS (with its PHP host process)',
    'under 100 MB per active install, back to the idle baseline after idling out',
    perOne < 100 && perTen < 100 && back,
  );
  console.log(
    `  per active install with ${SERVING} active: ${mb(perTen)} ${perTen < 100 ? 'met' : 'NOT met'}; ` +
      `with 1 active: ${mb(perOne)} ${perOne < 100 ? 'met' : 'NOT met'} (it carries the host ` +
      `process alone); after idling out: ${back ? 'met' : 'NOT met'}`,
  );
  for (const [label, value] of rss) {
    console.log(`  ${label.padEnd(60)} ${mb(value)}${detail.get(label) ?? ''}`);
  }
  console.log(
    `  per active install: ${mb(one - idle)} with 1 active, ${mb((ten - idle) / SERVING)} with ` +
      `${SERVING} (quiet); after idling out ${mb(after - idle)} above the idle baseline, ` +
      `${mb(after - atStart)} above the start`,
  );
  console.log(
    `  server threads: ${threadsAtStart} at start, ${threadsIdle} after the first idle-out, ` +
      `${threadsAfter} after the last`,
  );

  const all = await wp.api<{ results: Install[] }>('GET', '/v1/installs?limit=100');
  await diskFigure(wp, all.body.results, first);
  console.log(`\nload average at the end: ${loadAverage()}`);
});
