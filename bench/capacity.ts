/**
 * Capacity benchmark: more installs than PHP instances. `wpfleet serve` on its default settings
 * (WPFLEET_PHP_TOTAL=8, WPFLEET_PHP_IDLE_SECONDS=300, WPFLEET_PHP_QUEUE_SECONDS=30), real
 * WordPress (Debian's release) on a SQLite store, loaded over loopback HTTP from here:
 *
 *   1. BENCH_INSTALLS (default 30) installs created through the API at once, until all are active
 *   2. each visited once in turn, newest first: a cold GET / with a cache-busting query (the page
 *      cache does not answer it); p50 and p99 of the visits that had to evict another install's
 *      idle PHP instance (the server logs each eviction, naming the install it made room for)
 *      and of those that did not
 *   3. peak RSS of the server and its PHP host process, sampled every 200 ms throughout
 *
 *   npm run build && npm run bench:capacity
 */
import { since, sleep } from './lib/http.js';
import { formatMs, summarize } from './lib/load.js';
import { loadAverage, rssMb, threadCount } from './lib/process.js';
import { createInstall, startWordPress, waitActive, type Install } from './lib/wordpress.js';

const INSTALLS = Math.max(1, Number(process.env.BENCH_INSTALLS ?? '30'));
const TOTAL = 8;

const sec = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const mb = (v: number): string => `${v.toFixed(0)} MB`;

interface LogLine {
  msg?: string;
  evicted?: string;
  for?: string;
}

console.log(
  `wpfleet capacity benchmark: ${INSTALLS} installs on ${TOTAL} PHP instances (default settings); ` +
    `load average ${loadAverage()}`,
);
const wp = await startWordPress({ WPFLEET_LOG_LEVEL: 'info' });
/** The install each eviction made room for, in the order the server logged them. */
const evictedFor: string[] = [];
let busyAnswers = 0;
wp.onLine((line) => {
  if (!line.startsWith('{')) return;
  let entry: LogLine;
  try {
    entry = JSON.parse(line) as LogLine;
  } catch {
    return;
  }
  if (entry.evicted !== undefined && entry.for !== undefined) evictedFor.push(entry.for);
  if (entry.msg?.startsWith('no PHP instance was free') === true) busyAnswers += 1;
});
let peak = 0;
const sampler = setInterval(() => {
  peak = Math.max(peak, rssMb(wp.pid));
}, 200);

try {
  console.log(`server pid ${wp.pid} at ${wp.base}; RSS at start ${mb(rssMb(wp.pid))}`);

  console.log(`\n1. creating ${INSTALLS} installs at once…`);
  const t0 = performance.now();
  const installs: Install[] = [];
  for (let i = 0; i < INSTALLS; i++) {
    installs.push(await createInstall(wp, `cap${String(i + 1).padStart(2, '0')}`));
  }
  await waitActive(
    wp,
    installs.map((i) => i.id),
    30 * 60_000,
  );
  const provisioningEvictions = evictedFor.length;
  const provisioningBusy = busyAnswers;
  console.log(
    `  all ${INSTALLS} active after ${sec(since(t0))} (${provisioningEvictions} evictions, ` +
      `${provisioningBusy} requests answered 503 busy meanwhile); peak RSS so far ${mb(peak)}`,
  );

  console.log(`\n2. visiting each install once, newest first (cold GET /?capacity=…)…`);
  const visits: { install: Install; status: number; ms: number }[] = [];
  const order = [...installs].reverse();
  for (const [i, install] of order.entries()) {
    const r = await wp.site(install.name, `/?capacity=${i}-${Date.now()}`).catch(() => undefined);
    visits.push({ install, status: r?.status ?? 0, ms: r?.ms ?? Number.NaN });
  }
  // The last eviction's log line may reach us after its page did.
  await sleep(500);
  const visitEvictions = new Set(evictedFor.slice(provisioningEvictions));
  const ok = visits.filter((v) => v.status === 200);
  const evicting = ok.filter((v) => visitEvictions.has(v.install.id));
  const warm = ok.filter((v) => !visitEvictions.has(v.install.id));
  const failed = visits.filter((v) => v.status !== 200);

  console.log(
    `\n== visits answered 200: ${ok.length}/${visits.length}` +
      (failed.length === 0
        ? ''
        : ` (others: ${failed.map((v) => `${v.install.name} ${v.status}`).join(', ')})`),
  );
  console.log(
    `  that had to evict another install's PHP:  ${formatMs(summarize(evicting.map((v) => v.ms)))}`,
  );
  console.log(
    `  that found their PHP still loaded:        ${formatMs(summarize(warm.map((v) => v.ms)))}`,
  );
  console.log(
    `  evictions while visiting: ${evictedFor.length - provisioningEvictions}; ` +
      `503 busy while visiting: ${busyAnswers - provisioningBusy}`,
  );
  console.log(
    `\n== peak RSS, server + PHP host: ${mb(peak)}; at the end ${mb(rssMb(wp.pid))} ` +
      `(${threadCount(wp.pid)} threads)`,
  );
  console.log(`\nload average at the end: ${loadAverage()}`);
  if (ok.length !== visits.length) process.exitCode = 1;
} catch (err) {
  console.error(`\nthe benchmark failed; the server's last output:\n${wp.recentOutput()}`);
  throw err;
} finally {
  clearInterval(sampler);
  await wp.stop();
}
