import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/composition.js';
import { ENGINES, testStore, type TestStore } from '../helpers/engines.js';
import { basicAuth } from '../helpers/harness.js';
import { cliJson, ensureBuilt, startServe, type ServeProcess } from '../helpers/cli.js';

/** Requests in flight at once during the burst. */
const CONCURRENCY = 16;
/** The burst never sends more than this many requests. */
const MAX_REQUESTS = 400;
/** The server is killed once this many writes have been acknowledged. */
const KILL_AFTER = 60;

interface Acknowledged {
  kind: 'site' | 'install';
  id: string;
}

beforeAll(async () => {
  await ensureBuilt();
}, 120_000);

describe.each(ENGINES)('durability on %s', (engine) => {
  let store: TestStore;
  let server: ServeProcess | undefined;

  beforeAll(async () => {
    store = await testStore(engine);
  });
  afterAll(async () => {
    await server?.stop();
    await store.dispose();
  });

  it('keeps every acknowledged write across a SIGKILL during a burst', async () => {
    const { id: accountId } = await cliJson<{ id: string }>(
      ['accounts', 'create', '--name', 'Durable', '--json'],
      store.env,
    );
    const cred = await cliJson<{ username: string; password: string }>(
      ['credentials', 'create', '--account', accountId, '--json'],
      store.env,
    );
    const auth = basicAuth(cred.username, cred.password);

    const first = await startServe(store.env);
    server = first;
    const acknowledged: Acknowledged[] = [];
    const statuses: number[] = [];
    let failures = 0;
    let sent = 0;
    let inFlight = 0;
    let inFlightAtKill = -1;
    let killed = false;

    const kill = (): void => {
      if (killed) return;
      killed = true;
      inFlightAtKill = inFlight - 1; // the request that triggered the kill has its answer
      first.child.kill('SIGKILL');
    };

    const one = async (i: number): Promise<void> => {
      // Every fourth write is an install (which also makes a site), the rest are sites.
      const kind: Acknowledged['kind'] = i % 4 === 3 ? 'install' : 'site';
      const body =
        kind === 'site'
          ? { name: `Burst site ${i}`, account_id: accountId }
          : { name: `burst${i}`, account_id: accountId };
      inFlight += 1;
      try {
        const res = await fetch(`${first.url}/v1/${kind}s`, {
          method: 'POST',
          headers: { authorization: auth, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        const text = await res.text();
        statuses.push(res.status);
        if (res.status === 201) {
          const { id } = JSON.parse(text) as { id: string };
          acknowledged.push({ kind, id });
          if (acknowledged.length >= KILL_AFTER) kill();
        }
      } catch {
        // The connection died with the server: this write was never acknowledged.
        failures += 1;
      } finally {
        inFlight -= 1;
      }
    };

    const worker = async (): Promise<void> => {
      while (!killed && sent < MAX_REQUESTS) await one(sent++);
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, () => worker()));

    expect(killed).toBe(true);
    const exit = await first.exited;
    expect(exit.signal).toBe('SIGKILL');
    // The kill came mid-burst: other writes were still waiting for their answers.
    expect(inFlightAtKill).toBeGreaterThan(0);
    // Whatever was answered before the kill was a success.
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
    expect(acknowledged.length).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(acknowledged.length + failures).toBe(sent);

    // Restart on the same store: every acknowledged write is there.
    const second = await startServe(store.env);
    server = second;
    expect(second.stdout).not.toMatch(/password/i);
    for (const { kind, id } of acknowledged) {
      const res = await fetch(`${second.url}/v1/${kind}s/${id}`, {
        headers: { authorization: auth },
      });
      expect(res.status, `${kind} ${id}`).toBe(200);
      expect(((await res.json()) as { id: string }).id).toBe(id);
    }
    const sites = acknowledged.filter((a) => a.kind === 'site').length;
    const installs = acknowledged.length - sites;
    const list = async (kind: string): Promise<number> => {
      const res = await fetch(`${second.url}/v1/${kind}?limit=1`, {
        headers: { authorization: auth },
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { count: number }).count;
    };
    // Each install made a site of its own too.
    expect(await list('sites')).toBeGreaterThanOrEqual(sites + installs);
    expect(await list('installs')).toBeGreaterThanOrEqual(installs);

    // ...and each has its activity row, committed with it.
    const app = await createApp(store.config);
    try {
      const rows = await app.store.read.activity.listForAccount(accountId, 100_000);
      const recorded = new Set(rows.map((r) => `${r.action} ${r.target_id}`));
      const missing = acknowledged.filter(({ kind, id }) => !recorded.has(`${kind}.create ${id}`));
      expect(missing).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
