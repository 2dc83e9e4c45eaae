/**
 * Inventory benchmark (issue 12 §2: refreshing one install's inventory < 1 s on the wasm runtime).
 * `wpfleet serve` hosts one real WordPress (Debian's release, SQLite); this process opens the same
 * store and runs the refresh as the CLI does (`wpfleet plugins list`): the agent's GET /inventory
 * in the install's PHP, the package sources' updates added, the result stored.
 *
 *   1. the first refresh (this process's PHP boots for the install)
 *   2. BENCH_REFRESHES (default 20) refreshes in a row: p50, p95, max
 *   3. the baseline, in the same process: the agent's smallest call (`info`), as many times,
 *      which every agent call pays (WordPress loading, the signature check); the ratio says what
 *      the inventory itself costs on top
 *
 *   npm run build && npm run bench:inventory
 */
import pino from 'pino';
import { createApp, createHosting } from '../src/composition.js';
import { operatorActor } from '../src/core/actor.js';
import { releaseProvider } from '../src/runtime/release-provider.js';
import { since } from './lib/http.js';
import { formatMs, summarize } from './lib/load.js';
import { loadAverage } from './lib/process.js';
import { createInstall, startWordPress, waitActive } from './lib/wordpress.js';

const REFRESHES = Math.max(1, Number(process.env.BENCH_REFRESHES ?? '20'));

console.log(`wpfleet inventory benchmark; load average ${loadAverage()}`);
const wp = await startWordPress({});
try {
  const created = await createInstall(wp, 'inventory');
  await waitActive(wp, [created.id], 300_000);
  const app = await createApp(wp.store.config);
  const hosting = createHosting(app, releaseProvider(app.config), pino({ level: 'warn' }));
  try {
    const actor = operatorActor(wp.accountId);
    let t0 = performance.now();
    const first = await hosting.sites.refreshInventory(actor, created.id);
    console.log(
      `1. first refresh (PHP booting): ${since(t0).toFixed(0)} ms; ` +
        `${first.plugins.length} plugins, ${first.themes.length} themes, ${first.users.length} users`,
    );
    const refreshes: number[] = [];
    for (let i = 0; i < REFRESHES; i += 1) {
      t0 = performance.now();
      await hosting.sites.refreshInventory(actor, created.id);
      refreshes.push(since(t0));
    }
    const install = await app.services.installs.findForOperator(created.id);
    const agent = hosting.provisioner.agentFor(install);
    const infos: number[] = [];
    for (let i = 0; i < REFRESHES; i += 1) {
      t0 = performance.now();
      await agent.info();
      infos.push(since(t0));
    }
    const r = summarize(refreshes);
    const b = summarize(infos);
    console.log(`2. refresh, ${REFRESHES} in a row: ${formatMs(r)}`);
    console.log(`3. baseline, the agent's info call: ${formatMs(b)}`);
    console.log(
      `refresh p50 ${r.p50.toFixed(0)} ms (target < 1000 ms); ${(r.p50 / b.p50).toFixed(2)}× the ` +
        `agent's smallest call; load average ${loadAverage()}`,
    );
  } finally {
    await hosting.close();
    await app.close();
  }
} finally {
  await wp.stop();
}
