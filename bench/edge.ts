/**
 * The edge's cached path alone (issue 11, item 4): one install of real WordPress behind
 * `wpfleet serve`, its cached home page driven by wrk against Node's own http server answering
 * the same bytes, plain and brotli. The same figure is number 3 of bench/runtime.ts; this runs it
 * in a minute.
 *
 *   npm run build && npm run bench:edge        (needs wrk: apt-get install -y wrk)
 */
import { cachedPages, printCachedPages } from './lib/cached-pages.js';
import { requireWrk } from './lib/wrk.js';
import { loadAverage } from './lib/process.js';
import { createInstall, startWordPress, waitActive, whileServing } from './lib/wordpress.js';

requireWrk();
console.log(`wpfleet edge benchmark; load average ${loadAverage()}`);
const wp = await startWordPress({});
await whileServing(wp, async () => {
  const install = await createInstall(wp, 'edgebench');
  await waitActive(wp, [install.id], 300_000);
  console.log('\n== cached page req/s, edge / Node http from memory (target: 0.8 or better)');
  printCachedPages(await cachedPages(wp, install.name), 0.8);
  console.log(`\nload average at the end: ${loadAverage()}`);
});
