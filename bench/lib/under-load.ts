import http from 'node:http';
import { since, sleep } from './http.js';
import { summarize, type Summary } from './load.js';
import { startLoop, type LoopResult } from './loop.js';
import { rssMb } from './process.js';
import { createInstall, type Install, type WordPressServer } from './wordpress.js';

export interface UnderLoad {
  /** GET /v1/installs/{id}, one client, 10 ms apart: before any load, with the page loops only,
   * and while the new installs provision. */
  apiQuiet: Summary;
  apiServing: Summary;
  apiLoaded: Summary;
  apiErrors: number;
  posts: Summary;
  /** When each new install became active, from the first POST. */
  activeAfterMs: number[];
  pages: Summary;
  pageErrors: number;
  pagesPerSecond: number;
  rssServingMb: number;
  rssPeakMb: number;
}

const NO_CACHE = { 'cache-control': 'no-cache' };

async function forMs(loop: ReturnType<typeof startLoop>, ms: number): Promise<LoopResult> {
  await sleep(ms);
  return loop.stop();
}

/**
 * Ten closed loops of uncached home pages, one per serving install; then `provisioning` new
 * installs created back to back while one client polls the API for them (10 ms apart) until
 * they are all active (bounded by `timeoutMs`).
 */
export async function apiUnderLoad(
  wp: WordPressServer,
  serving: Install[],
  provisioning: number,
  timeoutMs: number,
): Promise<UnderLoad> {
  const apiAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const apiLoop = (ids: string[], onReply?: (id: string, i: Install) => void) => {
    let n = 0;
    return startLoop(
      async () => {
        const id = ids[n++ % ids.length] ?? '';
        const r = await wp.api<Install>('GET', `/v1/installs/${id}`, undefined, apiAgent);
        onReply?.(id, r.body);
        return r.status === 200;
      },
      { pauseMs: 10, maxMs: timeoutMs, maxCalls: 100_000 },
    );
  };
  const servingIds = serving.map((i) => i.id);
  const apiQuiet = await forMs(apiLoop(servingIds), 3000);

  const t0 = performance.now();
  const agents = serving.map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  const loops = serving.map((install, i) => {
    const agent = agents[i];
    return startLoop(
      async () => (await wp.site(install.name, '/', NO_CACHE, agent)).status === 200,
      { pauseMs: 0, maxMs: timeoutMs, maxCalls: 100_000 },
    );
  });
  await sleep(3000);
  const rssServingMb = rssMb(wp.pid);
  const apiServing = await forMs(apiLoop(servingIds), 5000);

  const tp = performance.now();
  const posts: number[] = [];
  const fresh: string[] = [];
  for (let i = 0; i < provisioning; i++) {
    const t = performance.now();
    fresh.push((await createInstall(wp, `load${i + 1}`)).id);
    posts.push(since(t));
  }
  const active = new Map<string, number>();
  const polling = apiLoop(fresh, (id, install) => {
    if (install.status === 'active' && !active.has(id)) active.set(id, since(tp));
  });
  let rssPeakMb = rssServingMb;
  const deadline = tp + timeoutMs;
  while (active.size < provisioning && performance.now() < deadline) {
    await sleep(1000);
    rssPeakMb = Math.max(rssPeakMb, rssMb(wp.pid));
  }
  const apiLoaded = await polling.stop();
  const pages = await Promise.all(loops.map((l) => l.stop()));
  const pagesSeconds = since(t0) / 1000;
  for (const agent of [apiAgent, ...agents]) agent.destroy();
  if (active.size < provisioning) throw new Error('the new installs did not become active in time');
  const samples = pages.flatMap((r) => r.samples);
  return {
    apiQuiet: summarize(apiQuiet.samples),
    apiServing: summarize(apiServing.samples),
    apiLoaded: summarize(apiLoaded.samples),
    apiErrors: apiQuiet.errors + apiServing.errors + apiLoaded.errors,
    posts: summarize(posts),
    activeAfterMs: [...active.values()],
    pages: summarize(samples),
    pageErrors: pages.reduce((sum, r) => sum + r.errors, 0),
    pagesPerSecond: samples.length / pagesSeconds,
    rssServingMb,
    rssPeakMb,
  };
}
