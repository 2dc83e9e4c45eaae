import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/engines.js';
import { basicAuth, startHarness, type Harness, type Tenant } from '../helpers/harness.js';

interface Envelope<T> {
  previous: string | null;
  next: string | null;
  count: number;
  results: T[];
}

interface SiteInstall {
  id: string;
  name: string;
  environment: string | null;
  cname: string;
  php_version: string | null;
  is_multisite: boolean | null;
}

interface Site {
  id: string;
  name: string;
  account: { id: string };
  group_name: string | null;
  tags: string[];
  created_at: string;
  installs: SiteInstall[];
}

interface Install {
  id: string;
  name: string;
  account: { id: string };
  php_version: string | null;
  status: string;
  site: { id: string } | null;
  cname: string;
  stable_ips: string[] | null;
  environment: string | null;
  primary_domain: string | null;
  is_multisite: boolean | null;
  created_at: string;
  wp_version?: string | null;
}

interface ErrorBody {
  message: string;
  documentation_url?: string;
  errors?: { resource: string; field: string; type: string; code: string; message: string }[];
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe.each(ENGINES)('WP Engine sites and installs on %s', (engine) => {
  let h: Harness;
  let counter = 0;

  beforeAll(async () => {
    h = await startHarness(engine);
  });
  afterAll(async () => {
    await h.close();
  });

  /** A fresh valid install name (3–14 lowercase letters and digits). */
  const uniqueName = (prefix = 'in') => `${prefix}${engine.slice(0, 2)}${++counter}`;

  async function createSite(t: Tenant, name = 'My site'): Promise<Site> {
    const res = await h.request<Site>('POST', '/v1/sites', {
      auth: t.auth,
      body: { name, account_id: t.accountId },
    });
    expect(res.status).toBe(201);
    return res.body;
  }

  function postInstall(t: Tenant, body: Record<string, unknown>) {
    return h.request<Install & ErrorBody>('POST', '/v1/installs', {
      auth: t.auth,
      body: { account_id: t.accountId, ...body },
    });
  }

  async function createInstall(t: Tenant, body: Record<string, unknown> = {}): Promise<Install> {
    const res = await postInstall(t, { name: uniqueName(), ...body });
    expect(res.status).toBe(201);
    return res.body;
  }

  describe('sites', () => {
    it('creates (201), gets (200), renames (200) and deletes (204) a site', async () => {
      const t = await h.tenant();
      const created = await h.request<Site>('POST', '/v1/sites', {
        auth: t.auth,
        body: { name: '  Marketing  ', account_id: t.accountId },
      });
      expect(created.status).toBe(201);
      expect(created.headers.get('content-type')).toBe('application/json');
      expect(created.body).toMatchObject({
        name: 'Marketing',
        account: { id: t.accountId },
        installs: [],
      });
      expect(created.body.id).toMatch(UUID);
      expect(created.body.created_at).toMatch(ISO);
      const id = created.body.id;

      const got = await h.request<Site>('GET', `/v1/sites/${id}`, { auth: t.auth });
      expect(got.status).toBe(200);
      expect(got.body).toEqual(created.body);

      const renamed = await h.request<Site>('PATCH', `/v1/sites/${id}`, {
        auth: t.auth,
        body: { name: 'Sales' },
      });
      expect(renamed.status).toBe(200);
      expect(renamed.body.name).toBe('Sales');
      expect(renamed.body.id).toBe(id);

      const unchanged = await h.request<Site>('PATCH', `/v1/sites/${id}`, {
        auth: t.auth,
        body: {},
      });
      expect(unchanged.status).toBe(200);
      expect(unchanged.body.name).toBe('Sales');

      const del = await h.request('DELETE', `/v1/sites/${id}`, { auth: t.auth });
      expect(del.status).toBe(204);
      expect(del.text).toBe('');
      expect((await h.request('GET', `/v1/sites/${id}`, { auth: t.auth })).status).toBe(404);
      expect((await h.request('DELETE', `/v1/sites/${id}`, { auth: t.auth })).status).toBe(404);
      const list = await h.request<Envelope<Site>>('GET', '/v1/sites', { auth: t.auth });
      expect(list.body.count).toBe(0);
    });

    it('takes a DELETE that carries a JSON content type but no body', async () => {
      const t = await h.tenant();
      const site = await createSite(t);
      for (const type of ['application/json', 'application/json; charset=utf-8']) {
        const empty = await h.request<ErrorBody>('POST', '/v1/sites', {
          auth: t.auth,
          headers: { 'content-type': type },
        });
        expect(empty.status).toBe(400);
      }
      const del = await h.request('DELETE', `/v1/sites/${site.id}`, {
        auth: t.auth,
        headers: { 'content-type': 'application/json' },
      });
      expect(del.status).toBe(204);
      expect((await h.request('GET', `/v1/sites/${site.id}`, { auth: t.auth })).status).toBe(404);
    });

    it('deleting a site deletes its installs and frees their names', async () => {
      const t = await h.tenant();
      const site = await createSite(t);
      const prod = await createInstall(t, { site_id: site.id, environment: 'production' });
      const stg = await createInstall(t, { site_id: site.id, environment: 'staging' });
      const other = await createInstall(t);

      const withInstalls = await h.request<Site>('GET', `/v1/sites/${site.id}`, { auth: t.auth });
      expect(withInstalls.body.installs.map((i) => i.id)).toEqual([prod.id, stg.id]);
      expect(withInstalls.body.installs[0]).toEqual({
        id: prod.id,
        name: prod.name,
        environment: 'production',
        cname: `${prod.name}.localhost`,
        php_version: prod.php_version,
        is_multisite: false,
      });

      expect((await h.request('DELETE', `/v1/sites/${site.id}`, { auth: t.auth })).status).toBe(
        204,
      );
      for (const i of [prod, stg]) {
        expect((await h.request('GET', `/v1/installs/${i.id}`, { auth: t.auth })).status).toBe(404);
      }
      const list = await h.request<Envelope<Install>>('GET', '/v1/installs', { auth: t.auth });
      expect(list.body.results.map((i) => i.id)).toEqual([other.id]);
      expect(list.body.count).toBe(1);
      const reused = await postInstall(t, { name: prod.name });
      expect(reused.status).toBe(201);
      for (const i of [prod, stg]) {
        const jobs = await h.app.store.read.jobs.listForTarget(i.id);
        expect(jobs.map((j) => j.type)).toContain('install.delete');
      }
    });

    it.each([
      ['', 'blank'],
      ['   ', 'blank'],
      ['x'.repeat(41), 'too_long'],
    ])('refuses the name %j with 400 %s', async (name, code) => {
      const t = await h.tenant();
      const res = await h.request<ErrorBody>('POST', '/v1/sites', {
        auth: t.auth,
        body: { name, account_id: t.accountId },
      });
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/^Invalid Site: /);
      expect(res.body.errors?.[0]).toMatchObject({
        resource: 'Site',
        field: 'name',
        type: 'invalid_value',
        code,
      });
      const site = await createSite(t, 'Original');
      const patch = await h.request<ErrorBody>('PATCH', `/v1/sites/${site.id}`, {
        auth: t.auth,
        body: { name },
      });
      expect(patch.status).toBe(400);
      expect(patch.body.errors?.[0]?.code).toBe(code);
      const got = await h.request<Site>('GET', `/v1/sites/${site.id}`, { auth: t.auth });
      expect(got.body.name).toBe('Original');
      const list = await h.request<Envelope<Site>>('GET', '/v1/sites', { auth: t.auth });
      expect(list.body.count).toBe(1);
    });

    it('accepts a 40-character name', async () => {
      const t = await h.tenant();
      const site = await createSite(t, 'y'.repeat(40));
      expect(site.name).toHaveLength(40);
    });

    it('refuses a missing name, unknown fields and wrong types with 400', async () => {
      const t = await h.tenant();
      const bodies: unknown[] = [
        { account_id: t.accountId },
        { name: 'A', account_id: t.accountId, extra: 1 },
        { name: 5, account_id: t.accountId },
      ];
      for (const body of bodies) {
        const res = await h.request<ErrorBody>('POST', '/v1/sites', { auth: t.auth, body });
        expect(res.status).toBe(400);
        expect(res.body.errors?.length).toBeGreaterThan(0);
      }
      const missing = await h.request<ErrorBody>('POST', '/v1/sites', {
        auth: t.auth,
        body: { account_id: t.accountId },
      });
      expect(missing.body.errors?.[0]).toMatchObject({ field: 'name', code: 'blank' });
      const malformed = await h.request<ErrorBody>('POST', '/v1/sites', {
        auth: t.auth,
        rawBody: '{"name":',
      });
      expect(malformed.status).toBe(400);
    });

    it("refuses another account's id in the body and hides other tenants' sites", async () => {
      const a = await h.tenant();
      const b = await h.tenant();
      const res = await h.request<ErrorBody>('POST', '/v1/sites', {
        auth: a.auth,
        body: { name: 'Sneaky', account_id: b.accountId },
      });
      expect(res.status).toBe(400);
      expect(res.body.errors?.[0]?.field).toBe('account_id');
      const bList = await h.request<Envelope<Site>>('GET', '/v1/sites', { auth: b.auth });
      expect(bList.body.count).toBe(0);

      const bSite = await createSite(b);
      for (const [method, body] of [
        ['GET', undefined],
        ['PATCH', { name: 'Mine now' }],
        ['DELETE', undefined],
      ] as const) {
        const r = await h.request(method, `/v1/sites/${bSite.id}`, {
          auth: a.auth,
          ...(body === undefined ? {} : { body }),
        });
        expect(r.status).toBe(404);
      }
      expect((await h.request('GET', '/v1/sites/not-a-uuid', { auth: a.auth })).status).toBe(404);
      const still = await h.request<Site>('GET', `/v1/sites/${bSite.id}`, { auth: b.auth });
      expect(still.body.name).toBe('My site');
    });

    it('enforces the site limit (400 at_or_over_site_limit)', async () => {
      const { account } = await h.app.services.accounts.create({ name: 'Limited', siteLimit: 1 });
      const c = await h.app.services.credentials.create(account.id, ['read', 'write', 'delete']);
      const t: Tenant = {
        accountId: account.id,
        userId: c.user_id,
        username: c.username,
        password: c.password,
        auth: basicAuth(c.username, c.password),
      };
      const first = await createSite(t, 'Only one');
      const second = await h.request<ErrorBody>('POST', '/v1/sites', {
        auth: t.auth,
        body: { name: 'Too many', account_id: t.accountId },
      });
      expect(second.status).toBe(400);
      expect(second.body.errors?.[0]?.code).toBe('at_or_over_site_limit');

      // An install without a site would need a new site: refused the same way.
      const name = uniqueName();
      const install = await postInstall(t, { name });
      expect(install.status).toBe(400);
      expect(install.body.errors?.[0]?.code).toBe('at_or_over_site_limit');
      const installs = await h.request<Envelope<Install>>('GET', '/v1/installs', { auth: t.auth });
      expect(installs.body.count).toBe(0);

      // An install in the existing site is fine, and the refused name was not kept.
      const inSite = await postInstall(t, { name, site_id: first.id });
      expect(inSite.status).toBe(201);

      // Deleting the site makes room again.
      expect((await h.request('DELETE', `/v1/sites/${first.id}`, { auth: t.auth })).status).toBe(
        204,
      );
      await createSite(t, 'Replacement');
    });

    it('holds the site limit against concurrent creations', async () => {
      const { account } = await h.app.services.accounts.create({ name: 'Racy', siteLimit: 1 });
      const c = await h.app.services.credentials.create(account.id, ['read', 'write', 'delete']);
      const auth = basicAuth(c.username, c.password);
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, n) =>
          h.request<ErrorBody>('POST', '/v1/sites', {
            auth,
            body: { name: `Racer ${n}`, account_id: account.id },
          }),
        ),
      );
      expect(results.filter((r) => r.status === 201)).toHaveLength(1);
      for (const r of results.filter((x) => x.status !== 201)) {
        expect(r.status).toBe(400);
        expect(r.body.errors?.[0]?.code).toBe('at_or_over_site_limit');
      }
      const list = await h.request<Envelope<Site>>('GET', '/v1/sites', { auth });
      expect(list.body.count).toBe(1);
    });

    it('paginates sites and filters by account', async () => {
      const t = await h.tenant();
      const other = await h.tenant();
      for (let i = 0; i < 3; i++) await createSite(t, `Site ${i}`);
      const page = await h.request<Envelope<Site>>('GET', '/v1/sites?limit=2', { auth: t.auth });
      expect(page.body.count).toBe(3);
      expect(page.body.results.map((s) => s.name)).toEqual(['Site 0', 'Site 1']);
      expect(page.body.next).toBe(`${h.baseUrl}/v1/sites?limit=2&offset=2`);
      expect(page.body.previous).toBeNull();
      const own = await h.request<Envelope<Site>>('GET', `/v1/sites?account_id=${t.accountId}`, {
        auth: t.auth,
      });
      expect(own.body.count).toBe(3);
      for (const id of [other.accountId, randomUUID()]) {
        const none = await h.request<Envelope<Site>>('GET', `/v1/sites?account_id=${id}`, {
          auth: t.auth,
        });
        expect(none.status).toBe(200);
        expect(none.body).toEqual({ previous: null, next: null, count: 0, results: [] });
      }
    });

    it('clamps limit=1000 to 100', async () => {
      const t = await h.tenant();
      for (let i = 0; i < 101; i++) {
        const res = await h.request('POST', '/v1/sites', {
          auth: t.auth,
          body: { name: `Bulk ${i}`, account_id: t.accountId },
        });
        expect(res.status).toBe(201);
      }
      const res = await h.request<Envelope<Site>>('GET', '/v1/sites?limit=1000', { auth: t.auth });
      expect(res.status).toBe(200);
      expect(res.body.count).toBe(101);
      expect(res.body.results).toHaveLength(100);
      expect(res.body.next).toBe(`${h.baseUrl}/v1/sites?limit=100&offset=100`);
      const rest = await h.request<Envelope<Site>>('GET', '/v1/sites?limit=1000&offset=100', {
        auth: t.auth,
      });
      expect(rest.body.results).toHaveLength(1);
      expect(rest.body.next).toBeNull();
      expect(rest.body.previous).toBe(`${h.baseUrl}/v1/sites?limit=100&offset=0`);
    });
  });

  describe('installs', () => {
    it('creates an install (201) with the contract fields', async () => {
      const t = await h.tenant();
      const name = uniqueName('fields');
      const res = await postInstall(t, { name });
      expect(res.status).toBe(201);
      const i = res.body;
      expect(i.id).toMatch(UUID);
      expect(i).toMatchObject({
        name,
        account: { id: t.accountId },
        status: 'pending',
        cname: `${name}.localhost`,
        primary_domain: `${name}.localhost`,
        stable_ips: null,
        environment: 'production',
        is_multisite: false,
      });
      expect(i.php_version).toMatch(/^\d+\.\d+$/);
      expect(i.created_at).toMatch(ISO);
      expect(i.site?.id).toMatch(UUID);

      // A site of its own was made for it.
      const site = await h.request<Site>('GET', `/v1/sites/${i.site?.id ?? ''}`, { auth: t.auth });
      expect(site.status).toBe(200);
      expect(site.body.installs.map((x) => x.id)).toEqual([i.id]);

      // Nothing makes it active: it stays pending.
      const got = await h.request<Install>('GET', `/v1/installs/${i.id}`, { auth: t.auth });
      expect(got.status).toBe(200);
      expect(got.body.status).toBe('pending');
      expect(got.body).toHaveProperty('wp_version');
      expect(got.body.created_at).toBe(i.created_at);

      const list = await h.request<Envelope<Install>>('GET', '/v1/installs', { auth: t.auth });
      expect(list.body.results).toHaveLength(1);
      expect(list.body.results[0]).not.toHaveProperty('wp_version');
      expect(list.body.results[0]?.id).toBe(i.id);
      expect(list.body.results[0]?.cname).toBe(`${name}.localhost`);
    });

    it('records activity and queues the provisioning job', async () => {
      const t = await h.tenant();
      const i = await createInstall(t);
      const jobs = await h.app.store.read.jobs.listForTarget(i.id);
      expect(jobs).toHaveLength(1);
      expect(jobs[0]).toMatchObject({
        type: 'install.provision',
        state: 'queued',
        account_id: t.accountId,
        install_id: i.id,
      });
      const activity = await h.app.store.read.activity.listForAccount(t.accountId, 50);
      const create = activity.find((a) => a.action === 'install.create' && a.target_id === i.id);
      expect(create).toBeDefined();
      expect(create?.actor).toBe(`credential:${t.username}`);
      expect(create?.target_type).toBe('install');
      expect(activity.some((a) => a.action === 'site.create' && a.target_id === i.site?.id)).toBe(
        true,
      );

      expect((await h.request('DELETE', `/v1/installs/${i.id}`, { auth: t.auth })).status).toBe(
        204,
      );
      const after = await h.app.store.read.activity.listForAccount(t.accountId, 50);
      expect(after.some((a) => a.action === 'install.delete' && a.target_id === i.id)).toBe(true);
      const jobsAfter = await h.app.store.read.jobs.listForTarget(i.id);
      expect(jobsAfter.map((j) => j.type)).toEqual(['install.provision', 'install.delete']);
    });

    it('writes no activity or job for a refused install', async () => {
      const t = await h.tenant();
      const before = await h.app.store.read.activity.listForAccount(t.accountId, 50);
      const res = await postInstall(t, { name: 'Bad_Name' });
      expect(res.status).toBe(400);
      const after = await h.app.store.read.activity.listForAccount(t.accountId, 50);
      expect(after).toHaveLength(before.length);
    });

    it.each(['abc', 'a1b', 'abcdefghijklmn', 'z12345678901'])(
      'accepts the name %s',
      async (base) => {
        const t = await h.tenant();
        // Make each engine's names distinct while keeping the shape under test.
        const name = engine === 'sqlite' ? base : `${base.slice(0, -1)}q`;
        const res = await postInstall(t, { name });
        expect(res.status).toBe(201);
        expect(res.body.name).toBe(name);
      },
    );

    it.each([
      'ab',
      'abcdefghijklmno',
      'Abc',
      '1abc',
      'ab-c',
      'ab_c',
      'ab c',
      '',
      'abc.def',
      ' abcd',
    ])('refuses the name %j with 400', async (name) => {
      const t = await h.tenant();
      const res = await postInstall(t, { name });
      expect(res.status).toBe(400);
      expect(res.body.errors?.[0]?.field).toBe('name');
      expect(res.body.errors?.[0]?.resource).toBe('Install');
      const list = await h.request<Envelope<Install>>('GET', '/v1/installs', { auth: t.auth });
      expect(list.body.count).toBe(0);
    });

    it('keeps names unique across the platform, even across tenants', async () => {
      const a = await h.tenant();
      const b = await h.tenant();
      const name = uniqueName('dup');
      expect((await postInstall(a, { name })).status).toBe(201);
      for (const t of [a, b]) {
        const res = await postInstall(t, { name });
        expect(res.status).toBe(400);
        expect(res.body.errors?.[0]).toMatchObject({
          resource: 'Install',
          field: 'name',
          type: 'value_unavailable',
          code: 'taken',
        });
      }
      const bList = await h.request<Envelope<Install>>('GET', '/v1/installs', { auth: b.auth });
      expect(bList.body.count).toBe(0);
      // The refused attempt did not leave a site behind either.
      const bSites = await h.request<Envelope<Site>>('GET', '/v1/sites', { auth: b.auth });
      expect(bSites.body.count).toBe(0);
    });

    it('allows one install per environment on a site', async () => {
      const t = await h.tenant();
      const site = await createSite(t);
      const envs = ['production', 'staging', 'development'];
      for (const environment of envs) {
        const i = await createInstall(t, { site_id: site.id, environment });
        expect(i.environment).toBe(environment);
        expect(i.site?.id).toBe(site.id);
      }
      const second = await postInstall(t, {
        name: uniqueName(),
        site_id: site.id,
        environment: 'production',
      });
      expect(second.status).toBe(400);
      expect(second.body.errors?.[0]).toMatchObject({
        field: 'environment',
        code: 'taken',
        type: 'value_unavailable',
      });
      const got = await h.request<Site>('GET', `/v1/sites/${site.id}`, { auth: t.auth });
      expect(got.body.installs.map((i) => i.environment)).toEqual(envs);

      // A different site may have its own production install.
      const other = await createSite(t, 'Other');
      await createInstall(t, { site_id: other.id, environment: 'production' });
    });

    it('refuses an unknown environment', async () => {
      const t = await h.tenant();
      for (const environment of ['prod', 'PRODUCTION', '', 5]) {
        const res = await postInstall(t, { name: uniqueName(), environment });
        expect(res.status).toBe(400);
        expect(res.body.errors?.[0]?.field).toBe('environment');
      }
    });

    it('refuses a site of another account (400 group_account_mismatch)', async () => {
      const a = await h.tenant();
      const b = await h.tenant();
      const bSite = await createSite(b);
      for (const site_id of [bSite.id, randomUUID(), 'nope']) {
        const res = await postInstall(a, { name: uniqueName(), site_id });
        expect(res.status).toBe(400);
        expect(res.body.errors?.[0]).toMatchObject({
          field: 'site_id',
          code: 'group_account_mismatch',
        });
      }
      const bGot = await h.request<Site>('GET', `/v1/sites/${bSite.id}`, { auth: b.auth });
      expect(bGot.body.installs).toEqual([]);
    });

    it("refuses another account's id in the body", async () => {
      const a = await h.tenant();
      const b = await h.tenant();
      const res = await postInstall(a, { name: uniqueName(), account_id: b.accountId });
      expect(res.status).toBe(400);
      expect(res.body.errors?.[0]?.field).toBe('account_id');
      const missing = await h.request<ErrorBody>('POST', '/v1/installs', {
        auth: a.auth,
        body: { name: uniqueName() },
      });
      expect(missing.status).toBe(400);
      expect(missing.body.errors?.[0]).toMatchObject({ field: 'account_id', code: 'blank' });
    });

    it('moves an install between sites and changes its environment (PATCH)', async () => {
      const t = await h.tenant();
      const s1 = await createSite(t, 'One');
      const s2 = await createSite(t, 'Two');
      const i = await createInstall(t, { site_id: s1.id, environment: 'staging' });

      const env = await h.request<Install>('PATCH', `/v1/installs/${i.id}`, {
        auth: t.auth,
        body: { environment: 'development' },
      });
      expect(env.status).toBe(200);
      expect(env.body.environment).toBe('development');
      expect(env.body.site?.id).toBe(s1.id);

      const moved = await h.request<Install>('PATCH', `/v1/installs/${i.id}`, {
        auth: t.auth,
        body: { site_id: s2.id },
      });
      expect(moved.status).toBe(200);
      expect(moved.body.site?.id).toBe(s2.id);
      expect(moved.body.environment).toBe('development');

      const got1 = await h.request<Site>('GET', `/v1/sites/${s1.id}`, { auth: t.auth });
      expect(got1.body.installs).toEqual([]);
      const got2 = await h.request<Site>('GET', `/v1/sites/${s2.id}`, { auth: t.auth });
      expect(got2.body.installs.map((x) => x.id)).toEqual([i.id]);

      const both = await h.request<Install>('PATCH', `/v1/installs/${i.id}`, {
        auth: t.auth,
        body: { site_id: s1.id, environment: 'production' },
      });
      expect(both.status).toBe(200);
      expect(both.body.site?.id).toBe(s1.id);
      expect(both.body.environment).toBe('production');

      const noop = await h.request<Install>('PATCH', `/v1/installs/${i.id}`, {
        auth: t.auth,
        body: {},
      });
      expect(noop.status).toBe(200);
      expect(noop.body.environment).toBe('production');

      const activity = await h.app.store.read.activity.listForAccount(t.accountId, 50);
      expect(
        activity.filter((a) => a.action === 'install.update' && a.target_id === i.id),
      ).toHaveLength(3);
    });

    it('refuses a PATCH that would clash or leave the account', async () => {
      const a = await h.tenant();
      const b = await h.tenant();
      const site = await createSite(a);
      await createInstall(a, { site_id: site.id, environment: 'production' });
      const stg = await createInstall(a, { site_id: site.id, environment: 'staging' });

      const clash = await h.request<ErrorBody>('PATCH', `/v1/installs/${stg.id}`, {
        auth: a.auth,
        body: { environment: 'production' },
      });
      expect(clash.status).toBe(400);
      expect(clash.body.errors?.[0]).toMatchObject({ field: 'environment', code: 'taken' });

      // Moving onto a site that already has that environment clashes too.
      const elsewhere = await createInstall(a, { environment: 'staging' });
      const moveClash = await h.request<ErrorBody>('PATCH', `/v1/installs/${elsewhere.id}`, {
        auth: a.auth,
        body: { site_id: site.id },
      });
      expect(moveClash.status).toBe(400);
      expect(moveClash.body.errors?.[0]?.code).toBe('taken');

      const bSite = await createSite(b);
      const foreign = await h.request<ErrorBody>('PATCH', `/v1/installs/${stg.id}`, {
        auth: a.auth,
        body: { site_id: bSite.id },
      });
      expect(foreign.status).toBe(400);
      expect(foreign.body.errors?.[0]?.code).toBe('group_account_mismatch');

      const bad = await h.request<ErrorBody>('PATCH', `/v1/installs/${stg.id}`, {
        auth: a.auth,
        body: { environment: 'live' },
      });
      expect(bad.status).toBe(400);

      const got = await h.request<Install>('GET', `/v1/installs/${stg.id}`, { auth: a.auth });
      expect(got.body.environment).toBe('staging');
      expect(got.body.site?.id).toBe(site.id);

      // Another tenant cannot touch the install at all.
      const theirs = await h.request('PATCH', `/v1/installs/${stg.id}`, {
        auth: b.auth,
        body: { environment: 'development' },
      });
      expect(theirs.status).toBe(404);
    });

    it('deletes an install (204): then 404, and its name is reusable', async () => {
      const t = await h.tenant();
      const other = await h.tenant();
      const i = await createInstall(t);
      expect((await h.request('DELETE', `/v1/installs/${i.id}`, { auth: other.auth })).status).toBe(
        404,
      );
      const del = await h.request('DELETE', `/v1/installs/${i.id}`, { auth: t.auth });
      expect(del.status).toBe(204);
      expect(del.text).toBe('');
      expect((await h.request('GET', `/v1/installs/${i.id}`, { auth: t.auth })).status).toBe(404);
      expect((await h.request('DELETE', `/v1/installs/${i.id}`, { auth: t.auth })).status).toBe(
        404,
      );
      expect(
        (await h.request('GET', `/v1/installs/${i.id}/domains`, { auth: t.auth })).status,
      ).toBe(404);
      const list = await h.request<Envelope<Install>>('GET', '/v1/installs', { auth: t.auth });
      expect(list.body.count).toBe(0);

      // Another tenant may now take the name.
      const again = await postInstall(other, { name: i.name });
      expect(again.status).toBe(201);
      expect(again.body.id).not.toBe(i.id);
      expect(again.body.cname).toBe(`${i.name}.localhost`);
    });

    it('answers 404 for unknown, malformed and foreign install ids', async () => {
      const a = await h.tenant();
      const b = await h.tenant();
      const theirs = await createInstall(b);
      for (const id of [randomUUID(), 'not-a-uuid', theirs.id]) {
        const res = await h.request<ErrorBody>('GET', `/v1/installs/${id}`, { auth: a.auth });
        expect(res.status).toBe(404);
        expect(res.body).toEqual({ message: 'Not Found' });
      }
    });

    it('tolerates a duplicate slash in the path', async () => {
      const t = await h.tenant();
      const i = await createInstall(t);
      const res = await h.request<Install>('GET', `/v1//installs/${i.id}`, { auth: t.auth });
      expect(res.status).toBe(200);
      expect(res.body.id).toBe(i.id);
    });
  });

  describe('install pagination', () => {
    let t: Tenant;
    let other: Tenant;
    let ids: string[];

    beforeAll(async () => {
      t = await h.tenant();
      other = await h.tenant();
      ids = [];
      for (let i = 0; i < 5; i++) ids.push((await createInstall(t)).id);
      await createInstall(other);
    });

    it('pages with limit and offset and absolute next/previous links', async () => {
      const first = await h.request<Envelope<Install>>('GET', '/v1/installs?limit=2', {
        auth: t.auth,
      });
      expect(first.status).toBe(200);
      expect(Object.keys(first.body)).toEqual(['previous', 'next', 'count', 'results']);
      expect(first.body.count).toBe(5);
      expect(first.body.results.map((i) => i.id)).toEqual(ids.slice(0, 2));
      expect(first.body.previous).toBeNull();
      expect(first.body.next).toBe(`${h.baseUrl}/v1/installs?limit=2&offset=2`);

      const middle = await h.request<Envelope<Install>>('GET', '/v1/installs?limit=2&offset=2', {
        auth: t.auth,
      });
      expect(middle.body.results.map((i) => i.id)).toEqual(ids.slice(2, 4));
      expect(middle.body.previous).toBe(`${h.baseUrl}/v1/installs?limit=2&offset=0`);
      expect(middle.body.next).toBe(`${h.baseUrl}/v1/installs?limit=2&offset=4`);

      const last = await h.request<Envelope<Install>>('GET', '/v1/installs?limit=2&offset=4', {
        auth: t.auth,
      });
      expect(last.body.results.map((i) => i.id)).toEqual(ids.slice(4));
      expect(last.body.previous).toBe(`${h.baseUrl}/v1/installs?limit=2&offset=2`);
      expect(last.body.next).toBeNull();
      expect(last.body.count).toBe(5);

      const past = await h.request<Envelope<Install>>('GET', '/v1/installs?offset=50', {
        auth: t.auth,
      });
      expect(past.body.results).toEqual([]);
      expect(past.body.count).toBe(5);
      expect(past.body.next).toBeNull();
    });

    it('follows next links verbatim through every page', async () => {
      const seen: string[] = [];
      let url: string | null = `${h.baseUrl}/v1/installs?limit=2`;
      let pages = 0;
      while (url !== null && pages < 10) {
        const res: { status: number; body: Envelope<Install> } = await h.request<Envelope<Install>>(
          'GET',
          url.slice(h.baseUrl.length),
          { auth: t.auth },
        );
        expect(res.status).toBe(200);
        seen.push(...res.body.results.map((i) => i.id));
        url = res.body.next;
        pages++;
      }
      expect(pages).toBe(3);
      expect(seen).toEqual(ids);
    });

    it('returns every install by default and clamps limit=1000 to 100', async () => {
      const all = await h.request<Envelope<Install>>('GET', '/v1/installs', { auth: t.auth });
      expect(all.body.results.map((i) => i.id)).toEqual(ids);
      const big = await h.request<Envelope<Install>>('GET', '/v1/installs?limit=1000&offset=1', {
        auth: t.auth,
      });
      expect(big.status).toBe(200);
      expect(big.body.results.map((i) => i.id)).toEqual(ids.slice(1));
      expect(big.body.previous).toBe(`${h.baseUrl}/v1/installs?limit=100&offset=0`);
    });

    it('filters by account_id: own → results, another or unknown → empty', async () => {
      const own = await h.request<Envelope<Install>>(
        'GET',
        `/v1/installs?account_id=${t.accountId}&limit=2`,
        { auth: t.auth },
      );
      expect(own.status).toBe(200);
      expect(own.body.count).toBe(5);
      expect(own.body.next).toBe(
        `${h.baseUrl}/v1/installs?account_id=${t.accountId}&limit=2&offset=2`,
      );
      for (const id of [other.accountId, randomUUID()]) {
        const none = await h.request<Envelope<Install>>('GET', `/v1/installs?account_id=${id}`, {
          auth: t.auth,
        });
        expect(none.status).toBe(200);
        expect(none.body).toEqual({ previous: null, next: null, count: 0, results: [] });
      }
      const bad = await h.request('GET', '/v1/installs?account_id=nope', { auth: t.auth });
      expect(bad.status).toBe(400);
    });

    it('refuses negative and fractional paging values', async () => {
      for (const q of ['limit=-1', 'offset=-1', 'limit=1.5', 'offset=x']) {
        const res = await h.request<ErrorBody>('GET', `/v1/installs?${q}`, { auth: t.auth });
        expect(res.status).toBe(400);
      }
    });

    it('builds links on its own host when the path has repeated slashes', async () => {
      for (const p of [
        '//v1/installs?limit=2',
        '/v1//installs?limit=2',
        '//v1//installs/?limit=2',
      ]) {
        const res = await h.request<Envelope<Install>>('GET', p, { auth: t.auth });
        expect(res.status).toBe(200);
        expect(res.body.results.map((i) => i.id)).toEqual(ids.slice(0, 2));
        expect(res.body.next).toMatch(
          new RegExp(`^${h.baseUrl}/v1/installs/?\\?limit=2&offset=2$`),
        );
      }
    });

    it('builds links from the host the client used', async () => {
      // fetch() will not send a Host of our choosing, so this one goes through node:http.
      const url = new URL(`${h.baseUrl}/v1/installs?limit=2`);
      const body = await new Promise<string>((resolve, reject) => {
        const req = http.request(
          {
            host: url.hostname,
            port: url.port,
            path: `${url.pathname}${url.search}`,
            headers: { host: 'api.example.test:8443', authorization: t.auth },
          },
          (res) => {
            let data = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (data += chunk));
            res.on('end', () => {
              resolve(data);
            });
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end();
      });
      const parsed = JSON.parse(body) as Envelope<Install>;
      expect(parsed.next).toBe('http://api.example.test:8443/v1/installs?limit=2&offset=2');
    });
  });
});
