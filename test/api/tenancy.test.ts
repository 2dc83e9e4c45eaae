import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/engines.js';
import { startHarness, type ApiResponse, type Harness, type Tenant } from '../helpers/harness.js';
import { inspectStore, type StoreInspector } from '../helpers/snapshot.js';

/*
 * A credential sees and changes only its own account. Tenant A's credential tries every endpoint
 * with tenant B's ids (and with mixes of A's and B's): the answer is always the same 404 that a
 * random, nonexistent UUID gets, and nothing in the store changes.
 */

type Kind = 'account' | 'site' | 'install' | 'domain' | 'backup' | 'sshKey' | 'user';
type Owner = 'A' | 'B';

interface World {
  account: string;
  site: string;
  install: string;
  installName: string;
  domain: string;
  domainName: string;
  backup: string;
  sshKey: string;
  /** A member of the account besides its owner. */
  user: string;
}

interface Endpoint {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  /** The kind of thing each `:param` names. */
  params: Record<string, Kind>;
  /** A body that would be valid for the ids in the path. */
  body?: (path: Record<string, string>) => unknown;
}

const ENDPOINTS: readonly Endpoint[] = [
  { method: 'GET', path: '/v1/accounts/:account_id', params: { account_id: 'account' } },
  {
    method: 'GET',
    path: '/v1/accounts/:account_id/account_users',
    params: { account_id: 'account' },
  },
  {
    method: 'POST',
    path: '/v1/accounts/:account_id/account_users',
    params: { account_id: 'account' },
    body: (p) => ({
      user: {
        account_id: p.account_id ?? '',
        first_name: 'Intruder',
        last_name: 'Guest',
        email: `intruder-${randomBytes(4).toString('hex')}@example.com`,
        roles: 'full',
      },
    }),
  },
  {
    method: 'GET',
    path: '/v1/accounts/:account_id/account_users/:user_id',
    params: { account_id: 'account', user_id: 'user' },
  },
  {
    method: 'PATCH',
    path: '/v1/accounts/:account_id/account_users/:user_id',
    params: { account_id: 'account', user_id: 'user' },
    body: () => ({ roles: 'owner' }),
  },
  {
    method: 'DELETE',
    path: '/v1/accounts/:account_id/account_users/:user_id',
    params: { account_id: 'account', user_id: 'user' },
  },
  { method: 'GET', path: '/v1/sites/:site_id', params: { site_id: 'site' } },
  {
    method: 'PATCH',
    path: '/v1/sites/:site_id',
    params: { site_id: 'site' },
    body: () => ({ name: 'Hijacked' }),
  },
  { method: 'DELETE', path: '/v1/sites/:site_id', params: { site_id: 'site' } },
  { method: 'GET', path: '/v1/installs/:install_id', params: { install_id: 'install' } },
  {
    method: 'PATCH',
    path: '/v1/installs/:install_id',
    params: { install_id: 'install' },
    body: () => ({ environment: 'staging' }),
  },
  { method: 'DELETE', path: '/v1/installs/:install_id', params: { install_id: 'install' } },
  { method: 'GET', path: '/v1/installs/:install_id/domains', params: { install_id: 'install' } },
  {
    method: 'POST',
    path: '/v1/installs/:install_id/domains',
    params: { install_id: 'install' },
    body: () => ({ name: 'hijack.example.org' }),
  },
  {
    method: 'POST',
    path: '/v1/installs/:install_id/domains/bulk',
    params: { install_id: 'install' },
    body: () => ({ domains: [{ name: 'hijack-bulk.example.org' }] }),
  },
  {
    method: 'GET',
    path: '/v1/installs/:install_id/domains/:domain_id',
    params: { install_id: 'install', domain_id: 'domain' },
  },
  {
    method: 'PATCH',
    path: '/v1/installs/:install_id/domains/:domain_id',
    params: { install_id: 'install', domain_id: 'domain' },
    body: () => ({ primary: true }),
  },
  {
    method: 'DELETE',
    path: '/v1/installs/:install_id/domains/:domain_id',
    params: { install_id: 'install', domain_id: 'domain' },
  },
  {
    method: 'POST',
    path: '/v1/installs/:install_id/domains/:domain_id/check_status',
    params: { install_id: 'install', domain_id: 'domain' },
  },
  {
    method: 'POST',
    path: '/v1/installs/:install_id/backups',
    params: { install_id: 'install' },
    body: () => ({ description: 'Exfiltrate', notification_emails: ['intruder@example.com'] }),
  },
  {
    method: 'GET',
    path: '/v1/installs/:install_id/backups/:backup_id',
    params: { install_id: 'install', backup_id: 'backup' },
  },
  {
    method: 'POST',
    path: '/v1/installs/:install_id/purge_cache',
    params: { install_id: 'install' },
    body: () => ({ type: 'object' }),
  },
  { method: 'DELETE', path: '/v1/ssh_keys/:ssh_key_id', params: { ssh_key_id: 'sshKey' } },
];

/** Every way to give an endpoint's ids owners, other than all of them A's own. */
function ownerships(params: string[]): Record<string, Owner>[] {
  let all: Record<string, Owner>[] = [{}];
  for (const p of params)
    all = all.flatMap((o) => [
      { ...o, [p]: 'A' },
      { ...o, [p]: 'B' },
    ]);
  return all.filter((o) => Object.values(o).includes('B'));
}

interface Case {
  label: string;
  endpoint: Endpoint;
  owners: Record<string, Owner>;
}

const CASES: Case[] = ENDPOINTS.flatMap((endpoint) =>
  ownerships(Object.keys(endpoint.params)).map((owners) => {
    const path = endpoint.path.replace(/:(\w+)/g, (_, p: string) => `{${owners[p] ?? '?'}}`);
    return { label: `${endpoint.method} ${path}`, endpoint, owners };
  }),
);

function fill(e: Endpoint, values: Record<string, string>): string {
  return e.path.replace(/:(\w+)/g, (_, p: string) => values[p] ?? '');
}

/** An OpenSSH ed25519 public key line with random key material. */
function ed25519Key(comment: string): string {
  const type = Buffer.from('ssh-ed25519');
  const len = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const blob = Buffer.concat([len(type.length), type, len(32), randomBytes(32)]);
  return `ssh-ed25519 ${blob.toString('base64')} ${comment}`;
}

function expectNotFound(res: ApiResponse, context: string): void {
  expect(res.status, `${context}: ${res.text}`).toBe(404);
  expect(res.headers.get('content-type'), context).toBe('application/json');
  expect(res.body, context).toEqual({ message: 'Not Found' });
}

describe.each(ENGINES)('tenancy on %s', (engine) => {
  let h: Harness;
  let store: StoreInspector;
  const tenants = {} as Record<Owner, Tenant>;
  const worlds = {} as Record<Owner, World>;

  async function ok<T>(t: Tenant, method: string, path: string, body?: unknown): Promise<T> {
    const res = await h.request<T>(method, path, { auth: t.auth, body });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
    return res.body;
  }

  async function build(t: Tenant, tag: string): Promise<World> {
    const site = await ok<{ id: string }>(t, 'POST', '/v1/sites', {
      name: `Site ${tag}`,
      account_id: t.accountId,
    });
    const installName = `tenant${tag.toLowerCase()}1`;
    const install = await ok<{ id: string }>(t, 'POST', '/v1/installs', {
      name: installName,
      account_id: t.accountId,
      site_id: site.id,
      environment: 'production',
    });
    const domainName = `${tag.toLowerCase()}.tenancy.example.com`;
    const domain = await ok<{ id: string }>(t, 'POST', `/v1/installs/${install.id}/domains`, {
      name: domainName,
    });
    const backup = await ok<{ id: string }>(t, 'POST', `/v1/installs/${install.id}/backups`, {
      description: `Backup ${tag}`,
      notification_emails: [`ops-${tag}@example.com`],
    });
    const key = await ok<{ uuid: string }>(t, 'POST', '/v1/ssh_keys', {
      public_key: ed25519Key(`key-${tag}`),
    });
    const user = await ok<{ account_user: { user_id: string } }>(
      t,
      'POST',
      `/v1/accounts/${t.accountId}/account_users`,
      {
        user: {
          account_id: t.accountId,
          first_name: 'Member',
          last_name: tag,
          email: `member-${tag}@example.com`,
          roles: 'partial',
          install_ids: [install.id],
        },
      },
    );
    return {
      account: t.accountId,
      site: site.id,
      install: install.id,
      installName,
      domain: domain.id,
      domainName,
      backup: backup.id,
      sshKey: key.uuid,
      user: user.account_user.user_id,
    };
  }

  /** Sends a request and checks that every table is as it was. */
  async function unchanged(send: () => Promise<ApiResponse>): Promise<ApiResponse> {
    const before = await store.snapshot();
    const res = await send();
    expect(await store.snapshot()).toEqual(before);
    return res;
  }

  /** What A's credential gets for a request, with the body given or none. */
  function asA(method: string, path: string, body?: unknown): Promise<ApiResponse> {
    return h.request(method, path, {
      auth: tenants.A.auth,
      ...(body === undefined ? {} : { body }),
    });
  }

  beforeAll(async () => {
    h = await startHarness(engine);
    store = inspectStore(h.store);
    tenants.A = await h.tenant('Tenant A');
    tenants.B = await h.tenant('Tenant B');
    worlds.A = await build(tenants.A, 'A');
    worlds.B = await build(tenants.B, 'B');
  });

  afterAll(async () => {
    await store.close();
    await h.close();
  });

  describe('every endpoint with the other account’s ids', () => {
    it.each(CASES.map((c) => [c.label, c] as const))('%s → 404', async (label, c) => {
      const e = c.endpoint;
      const real: Record<string, string> = {};
      const random: Record<string, string> = {};
      for (const [param, kind] of Object.entries(e.params)) {
        const owner = c.owners[param] ?? 'A';
        real[param] = worlds[owner][kind];
        random[param] = owner === 'A' ? worlds.A[kind] : randomUUID();
      }
      const other = await unchanged(() => asA(e.method, fill(e, real), e.body?.(real)));
      expectNotFound(other, `${label} with B's ids`);
      const none = await unchanged(() => asA(e.method, fill(e, random), e.body?.(random)));
      expectNotFound(none, `${label} with unknown ids`);
      expect(other.text).toBe(none.text);
    });
  });

  describe('bodies that name the other account’s things', () => {
    interface BodyCase {
      label: string;
      method: string;
      path: (a: World) => string;
      /** The body, given the foreign id or name to put in it. */
      body: (a: World, foreign: string) => unknown;
      /** B's id or name, and an unknown one of the same form. */
      foreign: (b: World) => string;
      unknown: string;
      field: string;
    }
    const UNKNOWN = '5b1e7c2a-3d4f-4a6b-8c9d-0e1f2a3b4c5d';
    const BODY_CASES: BodyCase[] = [
      {
        label: "POST /v1/sites with B's account_id",
        method: 'POST',
        path: () => '/v1/sites',
        body: (_a, id) => ({ name: 'Stolen', account_id: id }),
        foreign: (b) => b.account,
        unknown: UNKNOWN,
        field: 'account_id',
      },
      {
        label: "POST /v1/installs with B's account_id",
        method: 'POST',
        path: () => '/v1/installs',
        body: (_a, id) => ({ name: 'stolen1', account_id: id }),
        foreign: (b) => b.account,
        unknown: UNKNOWN,
        field: 'account_id',
      },
      {
        label: "POST /v1/installs with B's site_id",
        method: 'POST',
        path: () => '/v1/installs',
        body: (a, id) => ({
          name: 'stolen2',
          account_id: a.account,
          site_id: id,
          environment: 'staging',
        }),
        foreign: (b) => b.site,
        unknown: UNKNOWN,
        field: 'site_id',
      },
      {
        label: "PATCH /v1/installs/{A} to B's site_id",
        method: 'PATCH',
        path: (a) => `/v1/installs/${a.install}`,
        body: (_a, id) => ({ site_id: id }),
        foreign: (b) => b.site,
        unknown: UNKNOWN,
        field: 'site_id',
      },
      {
        label: "POST account_users on A whose user.account_id is B's",
        method: 'POST',
        path: (a) => `/v1/accounts/${a.account}/account_users`,
        body: (_a, id) => ({
          user: {
            account_id: id,
            first_name: 'Cross',
            last_name: 'Account',
            email: 'cross.account@example.com',
            roles: 'full',
          },
        }),
        foreign: (b) => b.account,
        unknown: UNKNOWN,
        field: 'account_id',
      },
      {
        label: "POST account_users on A with B's install in install_ids",
        method: 'POST',
        path: (a) => `/v1/accounts/${a.account}/account_users`,
        body: (a, id) => ({
          user: {
            account_id: a.account,
            first_name: 'Cross',
            last_name: 'Install',
            email: 'cross.install@example.com',
            roles: 'partial',
            install_ids: [a.install, id],
          },
        }),
        foreign: (b) => b.install,
        unknown: UNKNOWN,
        field: 'install_ids',
      },
      {
        label: "PATCH A's account user to B's install in install_ids",
        method: 'PATCH',
        path: (a) => `/v1/accounts/${a.account}/account_users/${a.user}`,
        body: (_a, id) => ({ roles: 'partial', install_ids: [id] }),
        foreign: (b) => b.install,
        unknown: UNKNOWN,
        field: 'install_ids',
      },
      {
        label: "POST a domain on A's install redirecting to B's domain",
        method: 'POST',
        path: (a) => `/v1/installs/${a.install}/domains`,
        body: (_a, id) => ({ name: 'www.cross.example.org', redirect_to: id }),
        foreign: (b) => b.domain,
        unknown: UNKNOWN,
        field: 'redirect_to',
      },
      {
        label: "PATCH A's domain to redirect to B's domain",
        method: 'PATCH',
        path: (a) => `/v1/installs/${a.install}/domains/${a.domain}`,
        body: (_a, id) => ({ redirect_to: id }),
        foreign: (b) => b.domain,
        unknown: UNKNOWN,
        field: 'redirect_to',
      },
      {
        label: "POST bulk domains on A's install redirecting to B's domain by name",
        method: 'POST',
        path: (a) => `/v1/installs/${a.install}/domains/bulk`,
        body: (_a, name) => ({ domains: [{ name: 'bulk.cross.example.org', redirect_to: name }] }),
        foreign: (b) => b.domainName,
        unknown: 'nowhere.example.org',
        field: 'domains.redirect_to',
      },
    ];

    it.each(BODY_CASES.map((c) => [c.label, c] as const))(
      '%s → 400, as for an unknown id',
      async (label, c) => {
        const a = worlds.A;
        const foreign = c.foreign(worlds.B);
        const other = await unchanged(() => asA(c.method, c.path(a), c.body(a, foreign)));
        expect(other.status, `${label}: ${other.text}`).toBe(400);
        expect(other.headers.get('content-type')).toBe('application/json');
        const errors = (other.body as { errors?: { field: string }[] }).errors ?? [];
        expect(errors.map((e) => e.field)).toContain(c.field);
        const none = await unchanged(() => asA(c.method, c.path(a), c.body(a, c.unknown)));
        expect(none.status).toBe(400);
        // Indistinguishable from an id that names nothing (bar the echoed value itself).
        expect(other.text.replaceAll(foreign, '<id>')).toBe(
          none.text.replaceAll(c.unknown, '<id>'),
        );
      },
    );
  });

  describe('lists', () => {
    function bIds(): string[] {
      const b = worlds.B;
      return [b.account, b.site, b.install, b.domain, b.backup, b.sshKey, b.user, tenants.B.userId];
    }

    it.each([
      '/v1/accounts',
      '/v1/sites',
      '/v1/installs',
      '/v1/ssh_keys',
      '/v1/user',
      '/v1/accounts/{A}/account_users',
      '/v1/installs/{A}/domains',
    ])("%s never shows B's rows", async (template) => {
      const path = template
        .replace('/accounts/{A}', `/accounts/${worlds.A.account}`)
        .replace('/installs/{A}', `/installs/${worlds.A.install}`);
      const res = await asA('GET', `${path}?limit=1000`);
      expect(res.status).toBe(200);
      expect(res.text.length).toBeGreaterThan(2);
      for (const id of bIds()) expect(res.text).not.toContain(id);
      expect(res.text).not.toContain(worlds.B.installName);
      expect(res.text).not.toContain(worlds.B.domainName);
    });

    it.each(['/v1/sites', '/v1/installs'])(
      "%s?account_id=<B> is an empty list, like an unknown account's",
      async (list) => {
        const other = await asA('GET', `${list}?account_id=${worlds.B.account}`);
        expect(other.status).toBe(200);
        expect(other.body).toEqual({ previous: null, next: null, count: 0, results: [] });
        const none = await asA('GET', `${list}?account_id=${randomUUID()}`);
        expect(none.body).toEqual(other.body);
      },
    );

    it("A's own lists still show A's rows", async () => {
      const sites = await asA('GET', `/v1/sites?account_id=${worlds.A.account}`);
      expect(sites.text).toContain(worlds.A.site);
      const installs = await asA('GET', '/v1/installs');
      expect(installs.text).toContain(worlds.A.install);
      const keys = await asA('GET', '/v1/ssh_keys');
      expect(keys.text).toContain(worlds.A.sshKey);
    });
  });

  // Last: B still finds all of its things where it left them.
  it("B's data is intact and B's credential still works", async () => {
    const b = worlds.B;
    const t = tenants.B;
    const get = (path: string) => h.request('GET', path, { auth: t.auth });
    const site = await get(`/v1/sites/${b.site}`);
    expect(site.status).toBe(200);
    expect((site.body as { name: string }).name).toBe('Site B');
    const install = await get(`/v1/installs/${b.install}`);
    expect(install.body).toMatchObject({ environment: 'production', site: { id: b.site } });
    const domain = await get(`/v1/installs/${b.install}/domains/${b.domain}`);
    expect(domain.body).toMatchObject({ name: b.domainName, primary: false });
    expect((await get(`/v1/installs/${b.install}/backups/${b.backup}`)).status).toBe(200);
    const user = await get(`/v1/accounts/${b.account}/account_users/${b.user}`);
    expect(user.body).toMatchObject({ roles: 'partial', installs: [{ id: b.install }] });
    const keys = await get('/v1/ssh_keys');
    expect(keys.text).toContain(b.sshKey);
  });
});
