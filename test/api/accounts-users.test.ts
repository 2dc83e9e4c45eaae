import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scope } from '../../src/core/actor.js';
import { ENGINES } from '../helpers/engines.js';
import { basicAuth, startHarness, type Harness, type Tenant } from '../helpers/harness.js';

interface Account {
  id: string;
  name: string;
  nickname: string;
}

interface Envelope<T> {
  previous: string | null;
  next: string | null;
  count: number;
  results: T[];
}

interface AccountUser {
  user_id: string;
  account_id: string;
  first_name: string;
  last_name: string;
  email: string;
  phone: string | null;
  invite_accepted: boolean;
  mfa_enabled: boolean;
  roles: string;
  last_owner?: boolean | null;
  installs?: { id: string; name: string }[] | null;
}

interface Changed {
  message: string;
  account_user: AccountUser;
}

interface User {
  id: string;
  email: string;
  first_name: string;
  last_name: string;
  phone_number: string | null;
}

interface Install {
  id: string;
  name: string;
  site: { id: string } | null;
}

interface Site {
  id: string;
  name: string;
  installs: { id: string; name: string }[];
}

interface ErrorBody {
  message: string;
  documentation_url?: string;
  errors?: { resource: string; field: string; type: string; code: string; message: string }[];
}

const FORBIDDEN = "You don't have permission to perform that action";
const SUCCESS = 'Your change was successful.';

describe.each(ENGINES)('WP Engine accounts and account users on %s', (engine) => {
  let h: Harness;
  let installCounter = 0;
  let emailCounter = 0;

  beforeAll(async () => {
    h = await startHarness(engine);
  });
  afterAll(async () => {
    await h.close();
  });

  const email = (prefix = 'user') => `${prefix}${++emailCounter}@example.com`;

  async function createInstall(t: Tenant): Promise<Install> {
    const name = `au${engine.slice(0, 2)}${++installCounter}`;
    const res = await h.request<Install>('POST', '/v1/installs', {
      auth: t.auth,
      body: { name, account_id: t.accountId },
    });
    expect(res.status).toBe(201);
    return res.body;
  }

  async function createUser(
    t: Tenant,
    roles: string,
    extra: { install_ids?: string[]; email?: string } = {},
  ) {
    return h.request<Changed & ErrorBody>('POST', `/v1/accounts/${t.accountId}/account_users`, {
      auth: t.auth,
      body: {
        user: {
          account_id: t.accountId,
          first_name: 'Ada',
          last_name: 'Lovelace',
          email: extra.email ?? email(),
          roles,
          ...(extra.install_ids === undefined ? {} : { install_ids: extra.install_ids }),
        },
      },
    });
  }

  /** A member of the tenant's account with its own credential. */
  async function member(
    t: Tenant,
    roles: string,
    installIds: string[] = [],
    scopes: Scope[] = ['read', 'write', 'delete'],
  ): Promise<{ userId: string; auth: string; email: string }> {
    const address = email(roles.replace(/,/g, '-'));
    const created = await createUser(t, roles, {
      email: address,
      ...(roles.startsWith('partial') ? { install_ids: installIds } : {}),
    });
    expect(created.status).toBe(201);
    const userId = created.body.account_user.user_id;
    const c = await h.app.services.credentials.create(t.accountId, scopes, userId);
    return { userId, auth: basicAuth(c.username, c.password), email: address };
  }

  describe('authentication', () => {
    it('refuses missing, malformed and wrong credentials with 401 Bad Credentials', async () => {
      const t = await h.tenant();
      const wrong = basicAuth(t.username, `${t.password}x`);
      const unknown = basicAuth(randomUUID(), t.password);
      for (const auth of [undefined, 'Bearer abc', 'Basic !!!', wrong, unknown]) {
        const res = await h.request<ErrorBody>(
          'GET',
          '/v1/accounts',
          auth === undefined ? {} : { auth },
        );
        expect(res.status).toBe(401);
        expect(res.body).toEqual({ message: 'Bad Credentials' });
      }
    });
  });

  describe('GET /v1/accounts', () => {
    it('lists the credential account in the contract envelope', async () => {
      const t = await h.tenant('Envelope Co');
      const res = await h.request<Envelope<Account>>('GET', '/v1/accounts', { auth: t.auth });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(Object.keys(res.body)).toEqual(['previous', 'next', 'count', 'results']);
      expect(res.body.previous).toBeNull();
      expect(res.body.next).toBeNull();
      expect(res.body.count).toBe(1);
      expect(res.body.results).toEqual([
        { id: t.accountId, name: 'Envelope Co', nickname: 'Envelope Co' },
      ]);
    });

    it('never shows another tenant account', async () => {
      const a = await h.tenant('Alpha');
      const b = await h.tenant('Beta');
      const res = await h.request<Envelope<Account>>('GET', '/v1/accounts', { auth: a.auth });
      expect(res.body.results.map((r) => r.id)).toEqual([a.accountId]);
      expect(res.body.results.map((r) => r.id)).not.toContain(b.accountId);
    });

    it('keeps count as the total when the page is past the end', async () => {
      const t = await h.tenant();
      const res = await h.request<Envelope<Account>>('GET', '/v1/accounts?limit=1&offset=1', {
        auth: t.auth,
      });
      expect(res.status).toBe(200);
      expect(res.body.count).toBe(1);
      expect(res.body.results).toEqual([]);
      expect(res.body.next).toBeNull();
      expect(res.body.previous).toBe(`${h.baseUrl}/v1/accounts?limit=1&offset=0`);
    });

    it('refuses negative or non-numeric paging with 400', async () => {
      const t = await h.tenant();
      for (const q of ['limit=-1', 'offset=-5', 'limit=abc']) {
        const res = await h.request<ErrorBody>('GET', `/v1/accounts?${q}`, { auth: t.auth });
        expect(res.status).toBe(400);
        expect(typeof res.body.message).toBe('string');
      }
    });
  });

  describe('GET /v1/accounts/{account_id}', () => {
    it('returns the own account', async () => {
      const t = await h.tenant('Solo');
      const res = await h.request<Account>('GET', `/v1/accounts/${t.accountId}`, { auth: t.auth });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: t.accountId, name: 'Solo', nickname: 'Solo' });
    });

    it('answers 404 for another tenant, an unknown uuid and a non-uuid', async () => {
      const a = await h.tenant();
      const b = await h.tenant();
      for (const id of [b.accountId, randomUUID(), 'not-a-uuid']) {
        const res = await h.request<ErrorBody>('GET', `/v1/accounts/${id}`, { auth: a.auth });
        expect(res.status).toBe(404);
        expect(res.body).toEqual({ message: 'Not Found' });
      }
    });
  });

  describe('GET /v1/user', () => {
    it('returns the user the credential acts as', async () => {
      const t = await h.tenant();
      const res = await h.request<User>('GET', '/v1/user', { auth: t.auth });
      expect(res.status).toBe(200);
      expect(res.body.id).toBe(t.userId);
      expect(res.body.email).toMatch(/@/);
      expect(res.body.first_name).toBe('Account');
      expect(res.body.last_name).toBe('Owner');
    });

    it('returns a non-owner member when its credential is used', async () => {
      const t = await h.tenant();
      const m = await member(t, 'full');
      const res = await h.request<User>('GET', '/v1/user', { auth: m.auth });
      expect(res.status).toBe(200);
      expect(res.body.id).toBe(m.userId);
      expect(res.body.email).toBe(m.email);
      expect(res.body.first_name).toBe('Ada');
      expect(res.body.last_name).toBe('Lovelace');
    });
  });

  describe('account_users', () => {
    it('lists members as {results} only, without pagination keys', async () => {
      const t = await h.tenant();
      const res = await h.request<{ results: AccountUser[] }>(
        'GET',
        `/v1/accounts/${t.accountId}/account_users?limit=1&offset=5`,
        { auth: t.auth },
      );
      expect(res.status).toBe(200);
      expect(Object.keys(res.body)).toEqual(['results']);
      expect(res.body.results).toHaveLength(1);
      const [owner] = res.body.results;
      expect(owner?.user_id).toBe(t.userId);
      expect(owner?.account_id).toBe(t.accountId);
      expect(owner?.roles).toBe('owner');
      expect(owner?.last_owner).toBe(true);
      expect(owner?.invite_accepted).toBe(true);
    });

    it("answers 404 for another tenant's account users", async () => {
      const a = await h.tenant();
      const b = await h.tenant();
      const res = await h.request('GET', `/v1/accounts/${b.accountId}/account_users`, {
        auth: a.auth,
      });
      expect(res.status).toBe(404);
      const create = await h.request('POST', `/v1/accounts/${b.accountId}/account_users`, {
        auth: a.auth,
        body: {
          user: {
            account_id: b.accountId,
            first_name: 'X',
            last_name: 'Y',
            email: email(),
            roles: 'full',
          },
        },
      });
      expect(create.status).toBe(404);
      const get = await h.request('GET', `/v1/accounts/${b.accountId}/account_users/${b.userId}`, {
        auth: a.auth,
      });
      expect(get.status).toBe(404);
    });

    it('creates a user (201) and gets it back', async () => {
      const t = await h.tenant();
      const address = email('Mixed.Case');
      const res = await createUser(t, 'full', { email: address });
      expect(res.status).toBe(201);
      expect(res.body.message).toBe(SUCCESS);
      const u = res.body.account_user;
      expect(u).toMatchObject({
        account_id: t.accountId,
        first_name: 'Ada',
        last_name: 'Lovelace',
        email: address.toLowerCase(),
        phone: null,
        invite_accepted: false,
        mfa_enabled: false,
        roles: 'full',
      });
      expect(u.user_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(u.installs ?? null).toBeNull();
      expect(u.last_owner ?? null).toBeNull();

      const got = await h.request<AccountUser>(
        'GET',
        `/v1/accounts/${t.accountId}/account_users/${u.user_id}`,
        { auth: t.auth },
      );
      expect(got.status).toBe(200);
      expect(got.body).toEqual(u);

      const list = await h.request<{ results: AccountUser[] }>(
        'GET',
        `/v1/accounts/${t.accountId}/account_users`,
        { auth: t.auth },
      );
      expect(list.body.results.map((r) => r.user_id).sort()).toEqual([t.userId, u.user_id].sort());
    });

    it('answers 404 for an unknown or malformed user id', async () => {
      const t = await h.tenant();
      // A member of another account is unknown here.
      const stranger = await h.tenant();
      const foreign = await h.request(
        'GET',
        `/v1/accounts/${t.accountId}/account_users/${stranger.userId}`,
        { auth: t.auth },
      );
      expect(foreign.status).toBe(404);
      for (const id of [randomUUID(), 'nope']) {
        for (const method of ['GET', 'DELETE']) {
          const res = await h.request(method, `/v1/accounts/${t.accountId}/account_users/${id}`, {
            auth: t.auth,
          });
          expect(res.status).toBe(404);
        }
      }
      const patch = await h.request(
        'PATCH',
        `/v1/accounts/${t.accountId}/account_users/${randomUUID()}`,
        { auth: t.auth, body: { roles: 'full' } },
      );
      expect(patch.status).toBe(404);
    });

    it.each(['owner', 'full', 'full,billing', 'partial', 'partial,billing'])(
      'accepts the role %s',
      async (roles) => {
        const t = await h.tenant();
        const res = await createUser(t, roles);
        expect(res.status).toBe(201);
        expect(res.body.account_user.roles).toBe(roles);
        if (roles.startsWith('partial')) expect(res.body.account_user.installs).toEqual([]);
        else expect(res.body.account_user.installs ?? null).toBeNull();
        if (roles === 'owner') expect(res.body.account_user.last_owner).toBe(false);
      },
    );

    it.each(['admin', 'owner,billing', 'full,partial', 'billing', '', 'full,billing,extra'])(
      'refuses the role %j with 400 on roles',
      async (roles) => {
        const t = await h.tenant();
        const res = await createUser(t, roles);
        expect(res.status).toBe(400);
        expect(res.body.errors?.[0]?.field).toBe('roles');
        const list = await h.request<{ results: AccountUser[] }>(
          'GET',
          `/v1/accounts/${t.accountId}/account_users`,
          { auth: t.auth },
        );
        expect(list.body.results).toHaveLength(1);
      },
    );

    it('refuses bad bodies with 400 and the contract error shape', async () => {
      const t = await h.tenant();
      const path = `/v1/accounts/${t.accountId}/account_users`;
      const base = {
        account_id: t.accountId,
        first_name: 'A',
        last_name: 'B',
        email: email(),
        roles: 'full',
      };
      const cases: { user: Record<string, unknown>; field: string }[] = [
        { user: { ...base, email: 'not-an-email' }, field: 'email' },
        { user: { ...base, first_name: '   ' }, field: 'first_name' },
        { user: { ...base, account_id: randomUUID() }, field: 'account_id' },
        { user: { ...base, first_name: undefined }, field: 'first_name' },
      ];
      for (const c of cases) {
        const res = await h.request<ErrorBody>('POST', path, {
          auth: t.auth,
          body: { user: c.user },
        });
        expect(res.status).toBe(400);
        expect(res.body.message).toMatch(/^Invalid /);
        expect(res.body.errors?.[0]?.field).toContain(c.field);
        expect(res.body.errors?.[0]?.resource).toBe('AccountUser');
      }
      const missingUser = await h.request<ErrorBody>('POST', path, { auth: t.auth, body: {} });
      expect(missingUser.status).toBe(400);
      const list = await h.request<{ results: AccountUser[] }>('GET', path, { auth: t.auth });
      expect(list.body.results).toHaveLength(1);
    });

    it('refuses a second membership for the same email (400 taken)', async () => {
      const t = await h.tenant();
      const address = email();
      expect((await createUser(t, 'full', { email: address })).status).toBe(201);
      const again = await createUser(t, 'partial', { email: address.toUpperCase() });
      expect(again.status).toBe(400);
      expect(again.body.errors?.[0]).toMatchObject({ field: 'email', code: 'taken' });
    });

    it('lets the same person be a member of two accounts', async () => {
      const a = await h.tenant();
      const b = await h.tenant();
      const address = email();
      const ra = await createUser(a, 'full', { email: address });
      const rb = await createUser(b, 'full', { email: address });
      expect(ra.status).toBe(201);
      expect(rb.status).toBe(201);
      expect(rb.body.account_user.user_id).toBe(ra.body.account_user.user_id);
      expect(rb.body.account_user.account_id).toBe(b.accountId);
      // Leaving one account keeps the other membership.
      const del = await h.request(
        'DELETE',
        `/v1/accounts/${a.accountId}/account_users/${ra.body.account_user.user_id}`,
        { auth: a.auth },
      );
      expect(del.status).toBe(204);
      const still = await h.request<AccountUser>(
        'GET',
        `/v1/accounts/${b.accountId}/account_users/${rb.body.account_user.user_id}`,
        { auth: b.auth },
      );
      expect(still.status).toBe(200);
    });

    it('creates a partial user with installs and updates its roles and installs', async () => {
      const t = await h.tenant();
      const i1 = await createInstall(t);
      const i2 = await createInstall(t);
      const created = await createUser(t, 'partial', { install_ids: [i1.id] });
      expect(created.status).toBe(201);
      const u = created.body.account_user;
      expect(u.installs).toEqual([{ id: i1.id, name: i1.name }]);
      const path = `/v1/accounts/${t.accountId}/account_users/${u.user_id}`;

      const both = await h.request<Changed>('PATCH', path, {
        auth: t.auth,
        body: { roles: 'partial,billing', install_ids: [i1.id, i2.id] },
      });
      expect(both.status).toBe(200);
      expect(both.body.message).toBe(SUCCESS);
      expect(both.body.account_user.roles).toBe('partial,billing');
      expect(both.body.account_user.installs?.map((i) => i.id).sort()).toEqual(
        [i1.id, i2.id].sort(),
      );

      // Roles alone keep the install list.
      const rolesOnly = await h.request<Changed>('PATCH', path, {
        auth: t.auth,
        body: { roles: 'partial' },
      });
      expect(rolesOnly.status).toBe(200);
      expect(rolesOnly.body.account_user.installs).toHaveLength(2);

      const full = await h.request<Changed>('PATCH', path, {
        auth: t.auth,
        body: { roles: 'full,billing' },
      });
      expect(full.status).toBe(200);
      expect(full.body.account_user.roles).toBe('full,billing');
      expect(full.body.account_user.installs ?? null).toBeNull();

      const got = await h.request<AccountUser>('GET', path, { auth: t.auth });
      expect(got.body.roles).toBe('full,billing');
    });

    it('refuses install ids that are not installs of the account', async () => {
      const a = await h.tenant();
      const b = await h.tenant();
      const foreign = await createInstall(b);
      for (const ids of [[foreign.id], [randomUUID()], ['garbage']]) {
        const res = await createUser(a, 'partial', { install_ids: ids });
        expect(res.status).toBe(400);
        expect(res.body.errors?.[0]?.field).toBe('install_ids');
      }
      const list = await h.request<{ results: AccountUser[] }>(
        'GET',
        `/v1/accounts/${a.accountId}/account_users`,
        { auth: a.auth },
      );
      expect(list.body.results).toHaveLength(1);
    });

    it('refuses invalid roles on update', async () => {
      const t = await h.tenant();
      const created = await createUser(t, 'full');
      const res = await h.request<ErrorBody>(
        'PATCH',
        `/v1/accounts/${t.accountId}/account_users/${created.body.account_user.user_id}`,
        { auth: t.auth, body: { roles: 'superuser' } },
      );
      expect(res.status).toBe(400);
      expect(res.body.errors?.[0]?.field).toBe('roles');
      const missing = await h.request<ErrorBody>(
        'PATCH',
        `/v1/accounts/${t.accountId}/account_users/${created.body.account_user.user_id}`,
        { auth: t.auth, body: {} },
      );
      expect(missing.status).toBe(400);
    });

    it('deletes a user (204): it is gone and its credential stops working', async () => {
      const t = await h.tenant();
      const m = await member(t, 'full');
      expect((await h.request('GET', '/v1/user', { auth: m.auth })).status).toBe(200);
      const path = `/v1/accounts/${t.accountId}/account_users/${m.userId}`;
      const del = await h.request('DELETE', path, { auth: t.auth });
      expect(del.status).toBe(204);
      expect(del.text).toBe('');
      expect((await h.request('GET', path, { auth: t.auth })).status).toBe(404);
      expect((await h.request('DELETE', path, { auth: t.auth })).status).toBe(404);
      expect((await h.request('GET', '/v1/user', { auth: m.auth })).status).toBe(401);

      // Adding the same person again does not bring the old credential back.
      expect(await h.app.store.read.users.findMember(t.accountId, m.userId)).toBeUndefined();
      const readded = await createUser(t, 'full', { email: m.email });
      expect(readded.status).toBe(201);
      expect(readded.body.account_user.user_id).toBe(m.userId);
      expect((await h.request('GET', '/v1/user', { auth: m.auth })).status).toBe(401);
    });

    it('keeps the last owner: no demotion, no deletion (400)', async () => {
      const t = await h.tenant();
      const path = `/v1/accounts/${t.accountId}/account_users/${t.userId}`;
      const demote = await h.request<ErrorBody>('PATCH', path, {
        auth: t.auth,
        body: { roles: 'full' },
      });
      expect(demote.status).toBe(400);
      expect(demote.body.errors?.[0]?.field).toBe('roles');
      const del = await h.request<ErrorBody>('DELETE', path, { auth: t.auth });
      expect(del.status).toBe(400);
      const got = await h.request<AccountUser>('GET', path, { auth: t.auth });
      expect(got.body.roles).toBe('owner');
      expect(got.body.last_owner).toBe(true);
    });

    it('allows demoting an owner once another owner exists', async () => {
      const t = await h.tenant();
      const second = await createUser(t, 'owner');
      expect(second.status).toBe(201);
      const secondId = second.body.account_user.user_id;
      const first = await h.request<AccountUser>(
        'GET',
        `/v1/accounts/${t.accountId}/account_users/${t.userId}`,
        { auth: t.auth },
      );
      expect(first.body.last_owner).toBe(false);

      const demote = await h.request<Changed>(
        'PATCH',
        `/v1/accounts/${t.accountId}/account_users/${secondId}`,
        { auth: t.auth, body: { roles: 'full' } },
      );
      expect(demote.status).toBe(200);
      expect(demote.body.account_user.roles).toBe('full');
      const again = await h.request<AccountUser>(
        'GET',
        `/v1/accounts/${t.accountId}/account_users/${t.userId}`,
        { auth: t.auth },
      );
      expect(again.body.last_owner).toBe(true);
    });

    it('keeps an owner when two owners demote or remove each other at once', async () => {
      for (const method of ['PATCH', 'DELETE', 'PATCH', 'DELETE']) {
        const t = await h.tenant();
        const second = await member(t, 'owner');
        const body = method === 'PATCH' ? { body: { roles: 'full' } } : {};
        const results = await Promise.all([
          h.request(method, `/v1/accounts/${t.accountId}/account_users/${second.userId}`, {
            auth: t.auth,
            ...body,
          }),
          h.request(method, `/v1/accounts/${t.accountId}/account_users/${t.userId}`, {
            auth: second.auth,
            ...body,
          }),
        ]);
        const statuses = results.map((r) => r.status);
        expect(statuses.filter((s) => s === 200 || s === 204)).toHaveLength(1);
        const members = await h.app.store.read.users.listMembers(t.accountId);
        expect(members.filter((m) => m.role.level === 'owner')).toHaveLength(1);
      }
    });

    it('allows deleting an owner once another owner exists', async () => {
      const t = await h.tenant();
      const second = await createUser(t, 'owner');
      const del = await h.request(
        'DELETE',
        `/v1/accounts/${t.accountId}/account_users/${second.body.account_user.user_id}`,
        { auth: t.auth },
      );
      expect(del.status).toBe(204);
    });
  });

  describe('the order of refusals', () => {
    it('checks who asks before reading the roles, and the account id before the roles', async () => {
      const t = await h.tenant();
      const other = await h.tenant();
      const p = await member(t, 'partial');
      const full = await member(t, 'full');
      const post = (auth: string, accountId: string, user: Record<string, unknown>) =>
        h.request<ErrorBody>('POST', `/v1/accounts/${accountId}/account_users`, {
          auth,
          body: {
            user: {
              account_id: accountId,
              first_name: 'Ada',
              last_name: 'Lovelace',
              email: email(),
              ...user,
            },
          },
        });
      // Another account: not found, whatever the roles say.
      expect((await post(t.auth, other.accountId, { roles: 'superuser' })).status).toBe(404);
      // A partial user may not manage members: 403, not a complaint about the roles.
      expect((await post(p.auth, t.accountId, { roles: 'superuser' })).status).toBe(403);
      const patched = await h.request<ErrorBody>(
        'PATCH',
        `/v1/accounts/${t.accountId}/account_users/${full.userId}`,
        { auth: p.auth, body: { roles: 'superuser' } },
      );
      expect(patched.status).toBe(403);
      // The body's account id is checked before its roles.
      const mismatch = await post(t.auth, t.accountId, {
        account_id: other.accountId,
        roles: 'superuser',
      });
      expect(mismatch.status).toBe(400);
      expect(mismatch.body.errors?.[0]?.field).toBe('account_id');
      // Roles before the other fields; a full user naming an owner is refused before its email.
      const badBoth = await post(t.auth, t.accountId, { roles: 'superuser', email: 'nope' });
      expect(badBoth.body.errors?.[0]?.field).toBe('roles');
      expect((await post(full.auth, t.accountId, { roles: 'owner', email: 'nope' })).status).toBe(
        403,
      );
    });
  });

  describe('a full user', () => {
    it('manages non-owners but cannot create, change or remove an owner (403)', async () => {
      const t = await h.tenant();
      const full = await member(t, 'full');
      const asFull = { ...t, auth: full.auth };
      const owner = await createUser(asFull, 'owner');
      expect(owner.status).toBe(403);
      expect(owner.body.message).toBe(FORBIDDEN);

      const colleague = await createUser(asFull, 'full,billing');
      expect(colleague.status).toBe(201);

      const ownerPath = `/v1/accounts/${t.accountId}/account_users/${t.userId}`;
      const promote = await h.request('PATCH', ownerPath, {
        auth: full.auth,
        body: { roles: 'full' },
      });
      expect(promote.status).toBe(403);
      const self = await h.request(
        'PATCH',
        `/v1/accounts/${t.accountId}/account_users/${full.userId}`,
        { auth: full.auth, body: { roles: 'owner' } },
      );
      expect(self.status).toBe(403);
      expect((await h.request('DELETE', ownerPath, { auth: full.auth })).status).toBe(403);

      const list = await h.request<{ results: AccountUser[] }>(
        'GET',
        `/v1/accounts/${t.accountId}/account_users`,
        { auth: full.auth },
      );
      expect(list.status).toBe(200);
      expect(list.body.results.filter((u) => u.roles === 'owner')).toHaveLength(1);
    });

    it('can create sites and installs', async () => {
      const t = await h.tenant();
      const full = await member(t, 'full,billing');
      const site = await h.request('POST', '/v1/sites', {
        auth: full.auth,
        body: { name: 'Full site', account_id: t.accountId },
      });
      expect(site.status).toBe(201);
    });
  });

  describe('a partial user', () => {
    it('sees only its installs and is refused account-level changes', async () => {
      const t = await h.tenant();
      const mine = await createInstall(t);
      const other = await createInstall(t);
      const p = await member(t, 'partial', [mine.id]);

      const list = await h.request<Envelope<Install>>('GET', '/v1/installs', { auth: p.auth });
      expect(list.status).toBe(200);
      expect(list.body.count).toBe(1);
      expect(list.body.results.map((i) => i.id)).toEqual([mine.id]);

      expect((await h.request('GET', `/v1/installs/${mine.id}`, { auth: p.auth })).status).toBe(
        200,
      );
      const hidden = await h.request<ErrorBody>('GET', `/v1/installs/${other.id}`, {
        auth: p.auth,
      });
      expect(hidden.status).toBe(404);
      expect(hidden.body).toEqual({ message: 'Not Found' });
      expect(
        (await h.request('GET', `/v1/installs/${other.id}/domains`, { auth: p.auth })).status,
      ).toBe(404);
      expect(
        (await h.request('GET', `/v1/installs/${mine.id}/domains`, { auth: p.auth })).status,
      ).toBe(200);

      // Within its own installs it works as usual.
      const domain = await h.request('POST', `/v1/installs/${mine.id}/domains`, {
        auth: p.auth,
        body: { name: `partial${++installCounter}.${engine}.example.com` },
      });
      expect(domain.status).toBe(201);
      const backup = await h.request('POST', `/v1/installs/${mine.id}/backups`, {
        auth: p.auth,
        body: { description: 'mine', notification_emails: [p.email] },
      });
      expect(backup.status).toBe(202);
      const foreignDomain = await h.request('POST', `/v1/installs/${other.id}/domains`, {
        auth: p.auth,
        body: { name: `partial${++installCounter}.${engine}.example.com` },
      });
      expect(foreignDomain.status).toBe(404);

      // Sites show only the sites and installs the user may see.
      const sites = await h.request<Envelope<Site>>('GET', '/v1/sites', { auth: p.auth });
      expect(sites.status).toBe(200);
      const seen = sites.body.results.flatMap((s) => s.installs.map((i) => i.id));
      expect(seen).toEqual([mine.id]);
      expect(sites.body.count).toBe(1);
      const otherSite = (await h.app.store.read.installs.findLive(t.accountId, other.id))?.site_id;
      expect(otherSite).toBeTruthy();
      expect(
        (await h.request('GET', `/v1/sites/${otherSite ?? ''}`, { auth: p.auth })).status,
      ).toBe(404);

      const newSite = await h.request<ErrorBody>('POST', '/v1/sites', {
        auth: p.auth,
        body: { name: 'Nope', account_id: t.accountId },
      });
      expect(newSite.status).toBe(403);
      expect(newSite.body.message).toBe(FORBIDDEN);
      const newInstall = await h.request('POST', '/v1/installs', {
        auth: p.auth,
        body: { name: `pz${engine.slice(0, 2)}${++installCounter}`, account_id: t.accountId },
      });
      expect(newInstall.status).toBe(403);
      expect((await h.request('DELETE', `/v1/installs/${mine.id}`, { auth: p.auth })).status).toBe(
        403,
      );
      expect(
        (
          await h.request('PATCH', `/v1/installs/${mine.id}`, {
            auth: p.auth,
            body: { environment: 'staging' },
          })
        ).status,
      ).toBe(403);
      if (mine.site !== null) {
        expect(
          (
            await h.request('PATCH', `/v1/sites/${mine.site.id}`, {
              auth: p.auth,
              body: { name: 'x' },
            })
          ).status,
        ).toBe(403);
        expect(
          (await h.request('DELETE', `/v1/sites/${mine.site.id}`, { auth: p.auth })).status,
        ).toBe(403);
      }
      expect(
        (await h.request('GET', `/v1/accounts/${t.accountId}/account_users`, { auth: p.auth }))
          .status,
      ).toBe(403);
      expect((await createUser({ ...t, auth: p.auth }, 'partial')).status).toBe(403);

      // Both installs still exist for the owner.
      const all = await h.request<Envelope<Install>>('GET', '/v1/installs', { auth: t.auth });
      expect(all.body.count).toBe(2);
    });

    it('follows changes to its install list on the next request', async () => {
      const t = await h.tenant();
      const first = await createInstall(t);
      const second = await createInstall(t);
      const p = await member(t, 'partial', [first.id]);
      const patch = await h.request(
        'PATCH',
        `/v1/accounts/${t.accountId}/account_users/${p.userId}`,
        { auth: t.auth, body: { roles: 'partial', install_ids: [second.id] } },
      );
      expect(patch.status).toBe(200);
      expect((await h.request('GET', `/v1/installs/${first.id}`, { auth: p.auth })).status).toBe(
        404,
      );
      expect((await h.request('GET', `/v1/installs/${second.id}`, { auth: p.auth })).status).toBe(
        200,
      );
    });

    it('sees nothing with an empty install list', async () => {
      const t = await h.tenant();
      await createInstall(t);
      const p = await member(t, 'partial,billing', []);
      const list = await h.request<Envelope<Install>>('GET', '/v1/installs', { auth: p.auth });
      expect(list.status).toBe(200);
      expect(list.body.count).toBe(0);
      expect(list.body.results).toEqual([]);
    });
  });

  describe('credential scopes', () => {
    it('a read-only credential reads but gets 403 on POST, PATCH and DELETE', async () => {
      const t = await h.tenant();
      const site = await h.request<Site>('POST', '/v1/sites', {
        auth: t.auth,
        body: { name: 'Scoped', account_id: t.accountId },
      });
      expect(site.status).toBe(201);
      const c = await h.app.services.credentials.create(t.accountId, ['read']);
      const ro = basicAuth(c.username, c.password);

      expect((await h.request('GET', '/v1/sites', { auth: ro })).status).toBe(200);
      expect((await h.request('GET', `/v1/sites/${site.body.id}`, { auth: ro })).status).toBe(200);

      const post = await h.request<ErrorBody>('POST', '/v1/sites', {
        auth: ro,
        body: { name: 'Nope', account_id: t.accountId },
      });
      expect(post.status).toBe(403);
      expect(post.body).toEqual({ message: FORBIDDEN });
      const patch = await h.request('PATCH', `/v1/sites/${site.body.id}`, {
        auth: ro,
        body: { name: 'Renamed' },
      });
      expect(patch.status).toBe(403);
      const del = await h.request('DELETE', `/v1/sites/${site.body.id}`, { auth: ro });
      expect(del.status).toBe(403);
      const user = await h.request('POST', `/v1/accounts/${t.accountId}/account_users`, {
        auth: ro,
        body: {
          user: {
            account_id: t.accountId,
            first_name: 'R',
            last_name: 'O',
            email: email(),
            roles: 'full',
          },
        },
      });
      expect(user.status).toBe(403);

      // Nothing changed.
      const after = await h.request<Site>('GET', `/v1/sites/${site.body.id}`, { auth: t.auth });
      expect(after.body.name).toBe('Scoped');
      const sites = await h.request<Envelope<Site>>('GET', '/v1/sites', { auth: t.auth });
      expect(sites.body.count).toBe(1);
    });

    it('a credential without the delete scope cannot DELETE but can write', async () => {
      const t = await h.tenant();
      const c = await h.app.services.credentials.create(t.accountId, ['read', 'write']);
      const rw = basicAuth(c.username, c.password);
      const site = await h.request<Site>('POST', '/v1/sites', {
        auth: rw,
        body: { name: 'RW', account_id: t.accountId },
      });
      expect(site.status).toBe(201);
      expect((await h.request('DELETE', `/v1/sites/${site.body.id}`, { auth: rw })).status).toBe(
        403,
      );
      expect((await h.request('GET', `/v1/sites/${site.body.id}`, { auth: rw })).status).toBe(200);
    });
  });
});
