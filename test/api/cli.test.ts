import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, testStore, type TestStore } from '../helpers/engines.js';
import { basicAuth, startHarness, type Harness } from '../helpers/harness.js';
import { cliJson, ensureBuilt, runCli, startServe, type ServeProcess } from '../helpers/cli.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface IssuedJson {
  account_id: string;
  username: string;
  password: string;
  mainwp_token: string;
  wispanel_token: string;
}

interface AccountList {
  count: number;
  results: { id: string; name: string }[];
}

beforeAll(async () => {
  await ensureBuilt();
}, 120_000);

describe.each(ENGINES)('wpfleet CLI on %s', (engine) => {
  describe('accounts and credentials on a store a server then uses', () => {
    let store: TestStore;
    let h: Harness | undefined;
    let accountId: string;
    let issued: IssuedJson;
    const running = (): Harness => {
      if (h === undefined) throw new Error('the server did not start');
      return h;
    };

    beforeAll(async () => {
      store = await testStore(engine);
    });
    afterAll(async () => {
      await h?.close();
      await store.dispose();
    });

    it('accounts create --json prints the new id', async () => {
      const r = await runCli(['accounts', 'create', '--name', 'CLI Co', '--json'], store.env);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(Object.keys(out)).toEqual(['id']);
      expect(out.id).toMatch(UUID);
      accountId = out.id as string;
    });

    it('credentials create --json prints the secrets once, in their formats', async () => {
      const r = await runCli(
        ['credentials', 'create', '--account', accountId, '--scopes', 'read', '--json'],
        store.env,
      );
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      issued = JSON.parse(r.stdout) as IssuedJson;
      expect(Object.keys(issued).sort()).toEqual(
        ['account_id', 'mainwp_token', 'password', 'username', 'wispanel_token'].sort(),
      );
      expect(issued.account_id).toBe(accountId);
      expect(issued.username).toMatch(UUID);
      expect(issued.password.length).toBeGreaterThanOrEqual(20);
      expect(issued.mainwp_token).toMatch(/^[0-9a-f]{40}==[0-9a-f]{40}$/);
      expect(issued.wispanel_token).toMatch(/^wsp_[0-9a-f]{48}$/);
    });

    it('refuses unknown scopes and an unknown account with one line and a non-zero exit', async () => {
      const bad = await runCli(['credentials', 'create', '--scopes', 'read,admin'], store.env);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
      expect(bad.stderr).toContain('--scopes');
      const missing = await runCli(
        ['credentials', 'create', '--account', '00000000-0000-4000-8000-000000000000'],
        store.env,
      );
      expect(missing.code).not.toBe(0);
      expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    });

    it('a server on the same store accepts the printed credential within its scope', async () => {
      const api = await startHarness(engine, {}, store);
      h = api;
      const auth = basicAuth(issued.username, issued.password);
      const list = await api.request<AccountList>('GET', '/v1/accounts', { auth });
      expect(list.status).toBe(200);
      expect(list.body.results.map((a) => a.id)).toContain(accountId);
      expect(list.body.results.find((a) => a.id === accountId)?.name).toBe('CLI Co');

      const write = await api.request<{ message: string }>('POST', '/v1/sites', {
        auth,
        body: { name: 'Not allowed', account_id: accountId },
      });
      expect(write.status).toBe(403);
      expect(write.body).toEqual({ message: "You don't have permission to perform that action" });

      const wrong = await api.request('GET', '/v1/accounts', {
        auth: basicAuth(issued.username, `${issued.password}x`),
      });
      expect(wrong.status).toBe(401);
    });

    it('the MainWP and WisPanel tokens it printed authenticate as the same credential', async () => {
      const api = running();
      const mainwp = await api.app.services.credentials.authenticateMainwp(issued.mainwp_token);
      expect(mainwp?.accountId).toBe(accountId);
      expect(mainwp?.label).toBe(`credential:${issued.username}`);
      expect(mainwp !== null && [...mainwp.scopes]).toEqual(['read']);
      const wispanel = await api.app.services.credentials.authenticateWispanel(
        issued.wispanel_token,
      );
      expect(wispanel?.accountId).toBe(accountId);
      expect(wispanel?.label).toBe(`credential:${issued.username}`);

      // Tampered tokens are refused.
      const [secret, key] = issued.mainwp_token.split('==');
      expect(await api.app.services.credentials.authenticateMainwp(`${key}==${secret}`)).toBeNull();
      const token = issued.wispanel_token;
      const flipped = `${token.slice(0, -1)}${token.endsWith('0') ? '1' : '0'}`;
      expect(await api.app.services.credentials.authenticateWispanel(flipped)).toBeNull();
    });

    it('runs while the server is running, and the server sees what it wrote', async () => {
      const api = running();
      const created = await cliJson<{ id: string }>(
        ['accounts', 'create', '--name', 'While Serving', '--json'],
        store.env,
      );
      expect(created.id).toMatch(UUID);
      const c = await cliJson<IssuedJson>(
        ['credentials', 'create', '--account', created.id, '--json'],
        store.env,
      );
      const auth = basicAuth(c.username, c.password);
      const list = await api.request<AccountList>('GET', '/v1/accounts', { auth });
      expect(list.status).toBe(200);
      expect(list.body.results.map((a) => a.id)).toEqual([created.id]);

      // Writes from both sides at the same time on the one store: none may fail.
      const [again, ...sites] = await Promise.all([
        cliJson<IssuedJson>(
          ['credentials', 'create', '--account', created.id, '--scopes', 'read', '--json'],
          store.env,
        ),
        ...Array.from({ length: 20 }, (_, i) =>
          api.request<{ id: string }>('POST', '/v1/sites', {
            auth,
            body: { name: `From the API ${i}`, account_id: created.id },
          }),
        ),
      ]);
      expect(sites.map((s) => s.status)).toEqual(sites.map(() => 201));
      const list2 = await api.request<{ count: number }>('GET', '/v1/sites', {
        auth: basicAuth(again.username, again.password),
      });
      expect(list2.status).toBe(200);
      expect(list2.body.count).toBe(20);
    });
  });

  it('finds the store from --data and --database-url as well as from the environment', async () => {
    const store = await testStore(engine);
    try {
      const { WPFLEET_DATA: data, DATABASE_URL: url, ...rest } = store.env;
      const flags = ['--data', data ?? '', ...(url === undefined ? [] : ['--database-url', url])];
      const created = await cliJson<{ id: string }>(
        ['accounts', 'create', '--name', 'By Flags', '--json', ...flags],
        rest,
      );
      const c = await cliJson<IssuedJson>(
        ['credentials', 'create', '--scopes', 'read', '--json', ...flags],
        rest,
      );
      // Without --account the credential is for the (only) account.
      expect(c.account_id).toBe(created.id);
      const api = await startHarness(engine, {}, store);
      try {
        const res = await api.request<AccountList>('GET', '/v1/accounts', {
          auth: basicAuth(c.username, c.password),
        });
        expect(res.status).toBe(200);
        expect(res.body.results.map((a) => a.name)).toEqual(['By Flags']);
      } finally {
        await api.close();
      }
    } finally {
      await store.dispose();
    }
  });

  it('installs retry provisions a failed install again, and refuses one that is not failed', async () => {
    const store = await testStore(engine);
    const api = await startHarness(engine, {}, store);
    try {
      const t = await api.tenant();
      const created = await api.request<{ id: string }>('POST', '/v1/installs', {
        auth: t.auth,
        body: { name: 'clifailed', account_id: t.accountId },
      });
      expect(created.status).toBe(201);
      const id = created.body.id;
      const [first] = await api.app.store.read.jobs.listForTarget(id);
      await api.app.store.transaction(async (r) => {
        await r.jobs.fail(first?.id ?? '', 'gave up', null, new Date().toISOString());
        await api.app.services.installs.markFailedWithin(r, id, 'provisioning failed: gave up');
      });

      const out = await runCli(['installs', 'retry', 'clifailed', '--json'], store.env);
      expect(out.stderr).toBe('');
      expect(out.code).toBe(0);
      const body = JSON.parse(out.stdout) as Record<string, unknown>;
      const jobs = await api.app.store.read.jobs.listForTarget(id);
      expect(jobs.map((j) => [j.type, j.state])).toEqual([
        ['install.provision', 'failed'],
        ['install.provision', 'queued'],
      ]);
      expect(body).toEqual({ id, name: 'clifailed', status: 'pending', job_id: jobs[1]?.id });
      const got = await api.request<{ status: string }>('GET', `/v1/installs/${id}`, {
        auth: t.auth,
      });
      expect(got.body.status).toBe('pending');
      const activity = await api.app.store.read.activity.listForAccount(t.accountId, 10);
      expect(activity.find((a) => a.action === 'install.retry')?.actor).toBe('cli');

      const again = await runCli(['installs', 'retry', id], store.env);
      expect(again.code).toBe(1);
      expect(again.stdout).toBe('');
      expect(again.stderr.trim()).toBe(
        'wpfleet: status: Install is pending; only a failed install can be retried',
      );
      const unknown = await runCli(['installs', 'retry', 'nosuchinstall'], store.env);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr.trim()).toBe('wpfleet: Install not found');
      expect(await api.app.store.read.jobs.listForTarget(id)).toHaveLength(2);

      await api.app.store.transaction(async (r) => {
        await r.jobs.fail(jobs[1]?.id ?? '', 'gave up again', null, new Date().toISOString());
        await api.app.services.installs.markFailedWithin(r, id, 'provisioning failed: again');
      });
      const text = await runCli(['installs', 'retry', id], store.env);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(
        /^install clifailed is pending again: provisioning queued as job [0-9a-f-]{36}\n$/,
      );
    } finally {
      await api.close();
      await store.dispose();
    }
  });

  describe('serve', () => {
    let store: TestStore;
    let server: ServeProcess | undefined;

    beforeAll(async () => {
      store = await testStore(engine);
    });
    afterEach(async () => {
      await server?.stop();
      server = undefined;
    });
    afterAll(async () => {
      await store.dispose();
    });

    it('prints its URL and, on an empty store, an owner credential once', async () => {
      server = await startServe(store.env);
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(server.url).not.toMatch(/:0$/);
      const username = /username: (\S+)/.exec(server.stdout)?.[1];
      const password = /password: (\S+)/.exec(server.stdout)?.[1];
      expect(username).toMatch(UUID);
      expect(password).toBeDefined();
      expect(server.stdout).toMatch(/MainWP Bearer token: +[0-9a-f]{40}==[0-9a-f]{40}$/m);
      expect(server.stdout).toMatch(/WisPanel Bearer token: +wsp_[0-9a-f]{48}$/m);

      const res = await fetch(`${server.url}/v1/accounts`, {
        headers: { authorization: basicAuth(username ?? '', password ?? '') },
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as AccountList;
      expect(body.count).toBe(1);
      expect(body.results[0]?.name).toBe('Owner');

      await server.stop();
      const { signal, code } = await server.exited;
      expect(signal === null ? code : 0).toBe(0);
    });

    it('prints no password on the next start', async () => {
      server = await startServe(store.env);
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(server.stdout).not.toMatch(/password/i);
      expect(server.stdout).not.toMatch(/username:/);
      expect(server.stdout).not.toMatch(/wsp_[0-9a-f]{48}/);
      const status = await fetch(`${server.url}/v1/status`);
      expect(status.status).toBe(200);
    });
  });
});
