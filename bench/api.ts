/**
 * API benchmark (issue 3): seeds 10,000 installs in 100 accounts, then measures
 * `GET /v1/installs?limit=100&offset=…` and `GET /v1/installs/{id}` over keep-alive connections
 * against `wpfleet serve` in its own process, on SQLite and on PostgreSQL, with the server's idle
 * RSS. A bare Node http server answering a fixed body of the same size, loaded the same way in
 * the same run, is the baseline for the ratios.
 *
 *   npm run bench:api   (BENCH_SECONDS=5, BENCH_CONNECTIONS=8, BENCH_ENGINES=sqlite,postgres by default)
 */
import { createApp } from '../src/composition.js';
import { SCOPES } from '../src/core/actor.js';
import { NOT_PROVISIONED } from '../src/core/installs/installs.types.js';
import { newId, nowIso } from '../src/core/shared/ids.js';
import { ENGINES, testStore, type TestEngine } from '../test/helpers/engines.js';
import { formatLoad, runLoad, type LoadResult } from './lib/load.js';
import { freePort, rssMb, startServer, stopServer } from './lib/process.js';
import { staticServer } from './lib/static.js';

const ACCOUNTS = 100;
const INSTALLS_PER_ACCOUNT = 100;
const SECONDS = Number(process.env.BENCH_SECONDS ?? '5');
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? '8');

interface Seeded {
  auth: string;
  installIds: string[];
}

async function seed(config: Parameters<typeof createApp>[0]): Promise<Seeded> {
  const app = await createApp(config);
  try {
    let auth = '';
    let installIds: string[] = [];
    for (let a = 0; a < ACCOUNTS; a++) {
      const { account } = await app.services.accounts.create({ name: `Bench ${a}` });
      const ids: string[] = [];
      await app.store.transaction(async (r) => {
        for (let i = 0; i < INSTALLS_PER_ACCOUNT; i++) {
          const now = nowIso();
          const siteId = newId();
          const installId = newId();
          const name = `b${a}x${i}`;
          await r.sites.insert({ id: siteId, account_id: account.id, name, created_at: now });
          await r.installs.insert({
            id: installId,
            account_id: account.id,
            site_id: siteId,
            name,
            environment: 'production',
            status: 'pending',
            php_version: '8.3',
            wp_version: null,
            is_multisite: 0,
            created_at: now,
            deleted_at: null,
            ...NOT_PROVISIONED,
          });
          await r.domains.insert({
            id: newId(),
            account_id: account.id,
            install_id: installId,
            name: `${name}.localhost`,
            is_primary: 1,
            redirect_to_id: null,
            created_at: now,
          });
          ids.push(installId);
        }
      });
      if (a === ACCOUNTS / 2) {
        const c = await app.services.credentials.create(account.id, [...SCOPES]);
        auth = `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
        installIds = ids;
      }
    }
    return { auth, installIds };
  } finally {
    await app.close();
  }
}

/** A bare Node http server in its own process answering a fixed JSON body of `bytes` bytes. */
async function baseline(bytes: number): Promise<LoadResult> {
  const body = JSON.stringify({ pad: 'x'.repeat(Math.max(0, bytes - 10)) });
  const server = await staticServer(body, 'application/json');
  try {
    await runLoad(server.base, () => '/', {}, CONNECTIONS, 1000);
    return await runLoad(server.base, () => '/', {}, CONNECTIONS, SECONDS * 1000);
  } finally {
    server.stop();
  }
}

async function benchEngine(engine: TestEngine): Promise<void> {
  const store = await testStore(engine);
  try {
    const t0 = Date.now();
    const seeded = await seed(store.config);
    console.log(
      `\n[${engine}] seeded ${ACCOUNTS * INSTALLS_PER_ACCOUNT} installs in ${ACCOUNTS} accounts in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    const port = await freePort();
    const server = await startServer(store.env, port);
    try {
      const pid = server.pid ?? 0;
      await new Promise((r) => setTimeout(r, 2000));
      const idle = rssMb(pid);
      const base = `http://127.0.0.1:${port}`;
      const headers = { authorization: seeded.auth };
      const ids = seeded.installIds;
      let n = 0;
      const byId = () => `/v1/installs/${ids[n++ % ids.length] ?? ''}`;
      const listing = () => `/v1/installs?limit=100&offset=${n++ % INSTALLS_PER_ACCOUNT}`;

      const sample = await fetch(`${base}${byId()}`, { headers });
      const bytes = (await sample.text()).length;
      if (sample.status !== 200) throw new Error(`GET by id answered ${sample.status}`);

      await runLoad(base, byId, headers, CONNECTIONS, 1000);
      // Latency with one client at a time, then throughput (and latency) under concurrent load.
      const runs: [string, () => string][] = [
        ['GET /v1/installs/{id}', byId],
        ['GET /v1/installs?limit=100&offset=…', listing],
      ];
      const results: [string, LoadResult, LoadResult][] = [];
      for (const [label, next] of runs) {
        const single = await runLoad(base, next, headers, 1, SECONDS * 1000);
        const loadedRun = await runLoad(base, next, headers, CONNECTIONS, SECONDS * 1000);
        results.push([label, single, loadedRun]);
      }
      const loaded = rssMb(pid);
      const bare = await baseline(bytes);

      for (const [label, single, loadedRun] of results) {
        console.log(formatLoad(`[${engine}] ${label}, 1 conn`, single));
        console.log(formatLoad(`[${engine}] ${label}, ${CONNECTIONS} conns`, loadedRun));
      }
      console.log(
        formatLoad(`[${engine}] baseline: bare node http, ${bytes} B, ${CONNECTIONS} conns`, bare),
      );
      const getById = results[0]?.[2];
      console.log(
        `[${engine}] GET by id req/s vs baseline: ${((getById?.rps ?? 0) / bare.rps).toFixed(2)}; ` +
          `server RSS idle ${idle.toFixed(1)} MB, after load ${loaded.toFixed(1)} MB`,
      );
    } finally {
      await stopServer(server);
    }
  } finally {
    await store.dispose();
  }
}

console.log(`wpfleet API benchmark: ${CONNECTIONS} keep-alive connections, ${SECONDS} s per run`);
const only = process.env.BENCH_ENGINES?.split(',');
for (const engine of ENGINES.filter((e) => only === undefined || only.includes(e))) {
  await benchEngine(engine);
}
