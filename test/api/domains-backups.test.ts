import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/engines.js';
import { startHarness, type Harness, type Tenant } from '../helpers/harness.js';

interface Envelope<T> {
  previous: string | null;
  next: string | null;
  count: number;
  results: T[];
}

interface Ref {
  id: string;
  name: string;
}

interface Domain {
  name: string;
  duplicate: boolean;
  primary: boolean;
  id: string;
  redirect_to: Partial<Ref>;
  redirects_to: Ref[];
}

interface BulkDomain {
  id: string;
  name: string;
  duplicate: boolean;
  primary: boolean;
  redirect_to: Partial<Ref>;
  redirects_to: Partial<Ref>;
}

interface Install {
  id: string;
  name: string;
  cname: string;
  primary_domain: string | null;
}

interface Backup {
  id: string;
  status: string;
  description: string | null;
  notification_emails: string[];
}

interface SshKey {
  uuid: string;
  fingerprint: string;
  comment: string;
  created_at: string;
}

interface ErrorBody {
  message: string;
  documentation_url?: string;
  errors?: { resource: string; field: string; type: string; code: string; message: string }[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// ---- SSH public keys in OpenSSH format ----------------------------------------------------

function sshString(data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

/** An SSH mpint: big-endian, with a leading zero byte when the high bit is set. */
function sshMpint(data: Buffer): Buffer {
  let start = 0;
  while (start < data.length - 1 && data[start] === 0) start++;
  let bytes = data.subarray(start);
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return sshString(bytes);
}

function md5Colons(blob: Buffer): string {
  return (createHash('md5').update(blob).digest('hex').match(/../g) ?? []).join(':');
}

interface TestKey {
  line: string;
  blob: Buffer;
  comment: string;
}

/** An ed25519 key encoded by hand from node's key pair. */
function cryptoEd25519(comment: string): TestKey {
  const { publicKey } = generateKeyPairSync('ed25519');
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const raw = der.subarray(der.length - 32);
  const blob = Buffer.concat([sshString('ssh-ed25519'), sshString(raw)]);
  return { line: `ssh-ed25519 ${blob.toString('base64')} ${comment}`, blob, comment };
}

/** An RSA key encoded by hand from node's key pair. */
function cryptoRsa(comment: string): TestKey {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' });
  const e = Buffer.from(jwk.e ?? '', 'base64url');
  const n = Buffer.from(jwk.n ?? '', 'base64url');
  const blob = Buffer.concat([sshString('ssh-rsa'), sshMpint(e), sshMpint(n)]);
  return { line: `ssh-rsa ${blob.toString('base64')} ${comment}`, blob, comment };
}

function hasSshKeygen(): boolean {
  try {
    execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // ssh-keygen exits non-zero on -? but exists; ENOENT means it is missing.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/** An ed25519 key from ssh-keygen when it is installed, otherwise encoded by hand. */
function generateKey(comment: string): TestKey & { sshKeygenMd5: string | null } {
  if (!hasSshKeygen()) return { ...cryptoEd25519(comment), sshKeygenMd5: null };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-ssh-'));
  try {
    const file = path.join(dir, 'key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], {
      stdio: 'ignore',
    });
    const line = fs.readFileSync(`${file}.pub`, 'utf8').trim();
    const blob = Buffer.from(line.split(' ')[1] ?? '', 'base64');
    const listed = execFileSync('ssh-keygen', ['-l', '-E', 'md5', '-f', `${file}.pub`], {
      encoding: 'utf8',
    });
    const md5 = /MD5:([0-9a-f:]{47})/.exec(listed)?.[1] ?? null;
    return { line, blob, comment, sshKeygenMd5: md5 };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe.each(ENGINES)('WP Engine domains, backups, cache and SSH keys on %s', (engine) => {
  let h: Harness;
  let counter = 0;

  beforeAll(async () => {
    h = await startHarness(engine);
  });
  afterAll(async () => {
    await h.close();
  });

  const installName = () => `db${engine.slice(0, 2)}${++counter}`;
  /** A domain name no other test uses. */
  const host = (label = 'site') => `${label}${++counter}.${engine}.example.com`;

  async function createInstall(t: Tenant): Promise<Install> {
    const res = await h.request<Install>('POST', '/v1/installs', {
      auth: t.auth,
      body: { name: installName(), account_id: t.accountId },
    });
    expect(res.status).toBe(201);
    return res.body;
  }

  function addDomain(t: Tenant, install: Install, body: Record<string, unknown>) {
    return h.request<Domain & ErrorBody>('POST', `/v1/installs/${install.id}/domains`, {
      auth: t.auth,
      body,
    });
  }

  async function domains(t: Tenant, install: Install): Promise<Domain[]> {
    const res = await h.request<Envelope<Domain>>('GET', `/v1/installs/${install.id}/domains`, {
      auth: t.auth,
    });
    expect(res.status).toBe(200);
    return res.body.results;
  }

  async function primaryDomainOf(t: Tenant, install: Install): Promise<string | null> {
    const res = await h.request<Install>('GET', `/v1/installs/${install.id}`, { auth: t.auth });
    return res.body.primary_domain;
  }

  function patchDomain(t: Tenant, install: Install, id: string, body: Record<string, unknown>) {
    return h.request<Domain & ErrorBody>('PATCH', `/v1/installs/${install.id}/domains/${id}`, {
      auth: t.auth,
      body,
    });
  }

  describe('domains', () => {
    let t: Tenant;
    beforeAll(async () => {
      t = await h.tenant();
    });

    it("lists the install's own cname domain as primary", async () => {
      const i = await createInstall(t);
      const res = await h.request<Envelope<Domain>>('GET', `/v1/installs/${i.id}/domains`, {
        auth: t.auth,
      });
      expect(res.status).toBe(200);
      expect(Object.keys(res.body)).toEqual(['previous', 'next', 'count', 'results']);
      expect(res.body.count).toBe(1);
      const [cname] = res.body.results;
      expect(cname).toEqual({
        name: `${i.name}.localhost`,
        duplicate: false,
        primary: true,
        id: cname?.id,
        redirect_to: {},
        redirects_to: [],
      });
      expect(cname?.id).toMatch(UUID);
      const got = await h.request<Domain>(
        'GET',
        `/v1/installs/${i.id}/domains/${cname?.id ?? ''}`,
        {
          auth: t.auth,
        },
      );
      expect(got.status).toBe(200);
      expect(got.body).toEqual(cname);
    });

    it('adds a domain (201) with both redirect keys and normalises the name', async () => {
      const i = await createInstall(t);
      const name = host();
      const res = await addDomain(t, i, { name: `  ${name.toUpperCase()}. ` });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        name,
        duplicate: false,
        primary: false,
        id: res.body.id,
        redirect_to: {},
        redirects_to: [],
      });
      expect(res.body.id).toMatch(UUID);
      const list = await domains(t, i);
      expect(list.map((d) => d.name)).toEqual([`${i.name}.localhost`, name]);
      expect(await primaryDomainOf(t, i)).toBe(`${i.name}.localhost`);

      const activity = await h.app.store.read.activity.listForAccount(t.accountId, 50);
      expect(
        activity.some((a) => a.action === 'domain.create' && a.target_id === res.body.id),
      ).toBe(true);
    });

    it('adds a redirecting domain', async () => {
      const i = await createInstall(t);
      const apex = await addDomain(t, i, { name: host('apex') });
      const www = await addDomain(t, i, {
        name: `www.${apex.body.name}`,
        redirect_to: apex.body.id,
      });
      expect(www.status).toBe(201);
      const ref = { id: apex.body.id, name: apex.body.name };
      expect(www.body.redirect_to).toEqual(ref);
      expect(www.body.redirects_to).toEqual([ref]);
      const got = await h.request<Domain>('GET', `/v1/installs/${i.id}/domains/${www.body.id}`, {
        auth: t.auth,
      });
      expect(got.body.redirect_to).toEqual(ref);
    });

    it('refuses a redirect to itself-less targets: unknown, foreign, malformed', async () => {
      const i = await createInstall(t);
      const other = await createInstall(t);
      const otherDomain = await addDomain(t, other, { name: host() });
      for (const redirect_to of [randomUUID(), otherDomain.body.id, 'example.com']) {
        const res = await addDomain(t, i, { name: host(), redirect_to });
        expect(res.status).toBe(400);
        expect(res.body.errors?.[0]?.field).toBe('redirect_to');
      }
      expect(await domains(t, i)).toHaveLength(1);
    });

    it('refuses a domain that is both primary and redirected', async () => {
      const i = await createInstall(t);
      const target = await addDomain(t, i, { name: host() });
      const res = await addDomain(t, i, {
        name: host(),
        primary: true,
        redirect_to: target.body.id,
      });
      expect(res.status).toBe(400);
      expect(await domains(t, i)).toHaveLength(2);
    });

    it.each([
      'not a domain',
      'example',
      '-bad.example.com',
      'bad-.example.com',
      'a..b.example.com',
      '1.2.3.4',
      'exa_mple.com',
      `${'x'.repeat(64)}.com`,
      '',
      '.',
      'http://example.com',
      'example.com/path',
      'ex ample.com',
      'exämple.com',
    ])('refuses the name %j with 400', async (name) => {
      const i = await createInstall(t);
      const res = await addDomain(t, i, { name });
      expect(res.status).toBe(400);
      expect(res.body.errors?.[0]).toMatchObject({ resource: 'Domain', field: 'name' });
      expect(await domains(t, i)).toHaveLength(1);
    });

    it('refuses names under the base domain', async () => {
      const i = await createInstall(t);
      for (const name of ['localhost', 'foo.localhost', 'a.b.LOCALHOST', `${i.name}.localhost`]) {
        const res = await addDomain(t, i, { name });
        expect(res.status).toBe(400);
        expect(res.body.errors?.[0]?.field).toBe('name');
      }
      // A name that merely ends in the same letters is fine.
      expect((await addDomain(t, i, { name: `not${counter}localhost.com` })).status).toBe(201);
    });

    it('keeps domain names unique across the platform (400 taken)', async () => {
      const other = await h.tenant();
      const mine = await createInstall(t);
      const theirs = await createInstall(other);
      const name = host('unique');
      expect((await addDomain(t, mine, { name })).status).toBe(201);
      for (const [tenant, install, attempt] of [
        [t, mine, name],
        [t, mine, name.toUpperCase()],
        [other, theirs, name],
        [other, theirs, `${name}.`],
      ] as const) {
        const res = await addDomain(tenant, install, { name: attempt });
        expect(res.status).toBe(400);
        expect(res.body.errors?.[0]).toMatchObject({
          field: 'name',
          type: 'value_unavailable',
          code: 'taken',
        });
      }
      expect(await domains(other, theirs)).toHaveLength(1);
      // Another install's cname is taken too (and reserved).
      const cname = await addDomain(other, theirs, { name: mine.cname });
      expect(cname.status).toBe(400);
    });

    it('switches the primary domain; only one is primary and primary_domain follows', async () => {
      const i = await createInstall(t);
      const a = await addDomain(t, i, { name: host('a'), primary: true });
      expect(a.status).toBe(201);
      expect(a.body.primary).toBe(true);
      expect(await primaryDomainOf(t, i)).toBe(a.body.name);
      let list = await domains(t, i);
      expect(list.filter((d) => d.primary).map((d) => d.id)).toEqual([a.body.id]);

      const b = await addDomain(t, i, { name: host('b') });
      const switched = await patchDomain(t, i, b.body.id, { primary: true });
      expect(switched.status).toBe(200);
      expect(switched.body.primary).toBe(true);
      list = await domains(t, i);
      expect(list.filter((d) => d.primary).map((d) => d.id)).toEqual([b.body.id]);
      expect(await primaryDomainOf(t, i)).toBe(b.body.name);
      const installs = await h.request<Envelope<Install>>('GET', '/v1/installs', { auth: t.auth });
      expect(installs.body.results.find((x) => x.id === i.id)?.primary_domain).toBe(b.body.name);

      // Unsetting the primary hands it back to the install's own name.
      const unset = await patchDomain(t, i, b.body.id, { primary: false });
      expect(unset.status).toBe(200);
      expect(unset.body.primary).toBe(false);
      list = await domains(t, i);
      expect(list.filter((d) => d.primary).map((d) => d.name)).toEqual([i.cname]);
      expect(await primaryDomainOf(t, i)).toBe(i.cname);

      // The cname itself cannot give up being primary when nothing else is.
      const cnameId = list.find((d) => d.name === i.cname)?.id ?? '';
      const keep = await patchDomain(t, i, cnameId, { primary: false });
      expect(keep.status).toBe(400);
      expect(await primaryDomainOf(t, i)).toBe(i.cname);
    });

    it('sets and clears a redirect with PATCH ("nil")', async () => {
      const i = await createInstall(t);
      const target = await addDomain(t, i, { name: host('target') });
      const source = await addDomain(t, i, { name: host('source') });
      const set = await patchDomain(t, i, source.body.id, { redirect_to: target.body.id });
      expect(set.status).toBe(200);
      const ref = { id: target.body.id, name: target.body.name };
      expect(set.body.redirect_to).toEqual(ref);
      expect(set.body.redirects_to).toEqual([ref]);

      const cleared = await patchDomain(t, i, source.body.id, { redirect_to: 'nil' });
      expect(cleared.status).toBe(200);
      expect(cleared.body.redirect_to).toEqual({});
      expect(cleared.body.redirects_to).toEqual([]);

      const self = await patchDomain(t, i, source.body.id, { redirect_to: source.body.id });
      expect(self.status).toBe(400);
      const unknown = await patchDomain(t, i, source.body.id, { redirect_to: randomUUID() });
      expect(unknown.status).toBe(400);
      const got = await h.request<Domain>('GET', `/v1/installs/${i.id}/domains/${source.body.id}`, {
        auth: t.auth,
      });
      expect(got.body.redirect_to).toEqual({});
    });

    it('refuses redirect loops and redirects to a redirect', async () => {
      const i = await createInstall(t);
      const a = await addDomain(t, i, { name: host('a') });
      const b = await addDomain(t, i, { name: host('b'), redirect_to: a.body.id });
      expect(b.status).toBe(201);
      const loop = await patchDomain(t, i, a.body.id, { redirect_to: b.body.id });
      expect(loop.status).toBe(400);
      expect(loop.body.errors?.[0]?.field).toBe('redirect_to');
      const chain = await addDomain(t, i, { name: host('c'), redirect_to: b.body.id });
      expect(chain.status).toBe(400);
      const got = await h.request<Domain>('GET', `/v1/installs/${i.id}/domains/${a.body.id}`, {
        auth: t.auth,
      });
      expect(got.body.redirect_to).toEqual({});
      expect(await domains(t, i)).toHaveLength(3);
    });

    it('refuses to make a redirected domain primary, or to redirect the primary', async () => {
      const i = await createInstall(t);
      const target = await addDomain(t, i, { name: host('t') });
      const source = await addDomain(t, i, { name: host('s'), redirect_to: target.body.id });
      const promote = await patchDomain(t, i, source.body.id, { primary: true });
      expect(promote.status).toBe(400);
      expect(promote.body.errors?.[0]?.field).toBe('primary');
      expect(await primaryDomainOf(t, i)).toBe(i.cname);

      // Clearing the redirect and promoting in one request is fine.
      const both = await patchDomain(t, i, source.body.id, { redirect_to: 'nil', primary: true });
      expect(both.status).toBe(200);
      expect(both.body.primary).toBe(true);
      expect(both.body.redirect_to).toEqual({});
      expect(await primaryDomainOf(t, i)).toBe(source.body.name);

      const redirectPrimary = await patchDomain(t, i, source.body.id, {
        redirect_to: target.body.id,
      });
      expect(redirectPrimary.status).toBe(400);
      const got = await h.request<Domain>('GET', `/v1/installs/${i.id}/domains/${source.body.id}`, {
        auth: t.auth,
      });
      expect(got.body.primary).toBe(true);
      expect(got.body.redirect_to).toEqual({});
    });

    it('deletes a domain (204); the cname domain cannot be deleted', async () => {
      const i = await createInstall(t);
      const d = await addDomain(t, i, { name: host() });
      const del = await h.request('DELETE', `/v1/installs/${i.id}/domains/${d.body.id}`, {
        auth: t.auth,
      });
      expect(del.status).toBe(204);
      expect(del.text).toBe('');
      expect(
        (await h.request('GET', `/v1/installs/${i.id}/domains/${d.body.id}`, { auth: t.auth }))
          .status,
      ).toBe(404);
      expect(
        (await h.request('DELETE', `/v1/installs/${i.id}/domains/${d.body.id}`, { auth: t.auth }))
          .status,
      ).toBe(404);
      // The name is free again.
      expect((await addDomain(t, i, { name: d.body.name })).status).toBe(201);

      const cname = (await domains(t, i)).find((x) => x.name === i.cname);
      const refused = await h.request<ErrorBody>(
        'DELETE',
        `/v1/installs/${i.id}/domains/${cname?.id ?? ''}`,
        { auth: t.auth },
      );
      expect(refused.status).toBe(400);
      expect((await domains(t, i)).map((x) => x.name)).toContain(i.cname);
    });

    it('deleting the primary domain hands primary back to the cname', async () => {
      const i = await createInstall(t);
      const p = await addDomain(t, i, { name: host(), primary: true });
      expect(await primaryDomainOf(t, i)).toBe(p.body.name);
      expect(
        (await h.request('DELETE', `/v1/installs/${i.id}/domains/${p.body.id}`, { auth: t.auth }))
          .status,
      ).toBe(204);
      expect(await primaryDomainOf(t, i)).toBe(i.cname);
      const list = await domains(t, i);
      expect(list.filter((d) => d.primary).map((d) => d.name)).toEqual([i.cname]);
    });

    it('deleting a redirect target clears the redirects to it', async () => {
      const i = await createInstall(t);
      const target = await addDomain(t, i, { name: host() });
      const source = await addDomain(t, i, { name: host(), redirect_to: target.body.id });
      expect(
        (
          await h.request('DELETE', `/v1/installs/${i.id}/domains/${target.body.id}`, {
            auth: t.auth,
          })
        ).status,
      ).toBe(204);
      const got = await h.request<Domain>('GET', `/v1/installs/${i.id}/domains/${source.body.id}`, {
        auth: t.auth,
      });
      expect(got.status).toBe(200);
      expect(got.body.redirect_to).toEqual({});
      expect(got.body.redirects_to).toEqual([]);
    });

    it("hides other installs' and tenants' domains (404)", async () => {
      const other = await h.tenant();
      const mine = await createInstall(t);
      const sibling = await createInstall(t);
      const theirs = await createInstall(other);
      const d = await addDomain(t, mine, { name: host() });
      // The right domain id under the wrong install.
      expect(
        (
          await h.request('GET', `/v1/installs/${sibling.id}/domains/${d.body.id}`, {
            auth: t.auth,
          })
        ).status,
      ).toBe(404);
      expect(
        (
          await h.request('PATCH', `/v1/installs/${sibling.id}/domains/${d.body.id}`, {
            auth: t.auth,
            body: { primary: true },
          })
        ).status,
      ).toBe(404);
      // Another tenant's install.
      for (const [method, p] of [
        ['GET', `/v1/installs/${mine.id}/domains`],
        ['GET', `/v1/installs/${mine.id}/domains/${d.body.id}`],
        ['DELETE', `/v1/installs/${mine.id}/domains/${d.body.id}`],
        ['POST', `/v1/installs/${mine.id}/domains/${d.body.id}/check_status`],
      ] as const) {
        expect((await h.request(method, p, { auth: other.auth })).status).toBe(404);
      }
      const add = await addDomain(other, mine, { name: host() });
      expect(add.status).toBe(404);
      expect(await domains(other, theirs)).toHaveLength(1);
      expect(await domains(t, mine)).toHaveLength(2);
      expect(
        (await h.request('GET', `/v1/installs/${mine.id}/domains/not-a-uuid`, { auth: t.auth }))
          .status,
      ).toBe(404);
    });

    it('paginates the domain list', async () => {
      const i = await createInstall(t);
      for (let n = 0; n < 3; n++) await addDomain(t, i, { name: host('page') });
      const first = await h.request<Envelope<Domain>>(
        'GET',
        `/v1/installs/${i.id}/domains?limit=2`,
        { auth: t.auth },
      );
      expect(first.body.count).toBe(4);
      expect(first.body.results).toHaveLength(2);
      expect(first.body.results[0]?.name).toBe(i.cname);
      expect(first.body.next).toBe(`${h.baseUrl}/v1/installs/${i.id}/domains?limit=2&offset=2`);
      const second = await h.request<Envelope<Domain>>(
        'GET',
        `/v1/installs/${i.id}/domains?limit=2&offset=2`,
        { auth: t.auth },
      );
      expect(second.body.results).toHaveLength(2);
      expect(second.body.next).toBeNull();
      expect(second.body.previous).toBe(
        `${h.baseUrl}/v1/installs/${i.id}/domains?limit=2&offset=0`,
      );
    });
  });

  describe('bulk domains', () => {
    let t: Tenant;
    beforeAll(async () => {
      t = await h.tenant();
    });

    function bulk(install: Install, items: unknown) {
      return h.request<{ domains: BulkDomain[] } & ErrorBody>(
        'POST',
        `/v1/installs/${install.id}/domains/bulk`,
        { auth: t.auth, body: { domains: items } },
      );
    }

    it('adds domains with a redirect to another domain of the batch (201)', async () => {
      const i = await createInstall(t);
      const apex = host('apex');
      const res = await bulk(i, [
        { name: `www.${apex}`, redirect_to: apex },
        { name: apex },
        { name: `shop.${apex}` },
      ]);
      expect(res.status).toBe(201);
      expect(Object.keys(res.body)).toEqual(['domains']);
      expect(res.body.domains.map((d) => d.name)).toEqual([`www.${apex}`, apex, `shop.${apex}`]);
      const [www, root, shop] = res.body.domains;
      expect(root?.id).toMatch(UUID);
      const ref = { id: root?.id, name: apex };
      expect(www?.redirect_to).toEqual(ref);
      expect(www?.redirects_to).toEqual(ref);
      expect(www?.primary).toBe(false);
      expect(www?.duplicate).toBe(false);
      expect(root?.redirect_to).toEqual({});
      expect(shop?.redirects_to).toEqual({});

      const list = await domains(t, i);
      expect(list).toHaveLength(4);
      const stored = list.find((d) => d.name === `www.${apex}`);
      expect(stored?.redirects_to).toEqual([ref]);
      expect(stored?.redirect_to).toEqual(ref);
    });

    it('redirects to an existing domain of the install by name', async () => {
      const i = await createInstall(t);
      const res = await bulk(i, [{ name: host('to-cname'), redirect_to: i.cname.toUpperCase() }]);
      expect(res.status).toBe(201);
      expect(res.body.domains[0]?.redirect_to.name).toBe(i.cname);
    });

    it('accepts 20 items and refuses 0 or 21 (400)', async () => {
      const i = await createInstall(t);
      const many = (n: number) => Array.from({ length: n }, () => ({ name: host('many') }));
      const tooMany = await bulk(i, many(21));
      expect(tooMany.status).toBe(400);
      expect(tooMany.body.errors?.[0]?.field).toBe('domains');
      const none = await bulk(i, []);
      expect(none.status).toBe(400);
      expect(await domains(t, i)).toHaveLength(1);
      const twenty = await bulk(i, many(20));
      expect(twenty.status).toBe(201);
      expect(twenty.body.domains).toHaveLength(20);
      const list = await h.request<Envelope<Domain>>('GET', `/v1/installs/${i.id}/domains`, {
        auth: t.auth,
      });
      expect(list.body.count).toBe(21);
      const missing = await h.request('POST', `/v1/installs/${i.id}/domains/bulk`, {
        auth: t.auth,
        body: {},
      });
      expect(missing.status).toBe(400);
    });

    it('is all-or-nothing', async () => {
      const other = await h.tenant();
      const elsewhere = await createInstall(other);
      const taken = host('taken');
      const added = await h.request('POST', `/v1/installs/${elsewhere.id}/domains`, {
        auth: other.auth,
        body: { name: taken },
      });
      expect(added.status).toBe(201);

      const i = await createInstall(t);
      const sibling = await createInstall(t);
      const good = host('good');
      const batches: unknown[][] = [
        [{ name: good }, { name: 'not valid' }],
        [{ name: good }, { name: taken }],
        [{ name: good }, { name: good.toUpperCase() }],
        [{ name: good }, { name: 'x.localhost' }],
        [{ name: good }, { name: host(), redirect_to: 'nowhere.example.com' }],
        [{ name: good }, { name: host(), redirect_to: sibling.cname }],
        [{ name: good, redirect_to: good }],
        [
          { name: good, redirect_to: `x.${good}` },
          { name: `x.${good}`, redirect_to: good },
        ],
        [{ name: good }, { name: host(), extra: true }],
      ];
      for (const batch of batches) {
        const res = await bulk(i, batch);
        expect(res.status).toBe(400);
        expect(res.body.errors?.length).toBeGreaterThan(0);
        expect((await domains(t, i)).map((d) => d.name)).toEqual([i.cname]);
      }
      // The good name was never kept.
      expect((await bulk(i, [{ name: good }])).status).toBe(201);
    });
  });

  describe('check_status', () => {
    it('answers 202 {report_id}, then 429 within 5 seconds', async () => {
      const t = await h.tenant();
      const i = await createInstall(t);
      const [cname] = await domains(t, i);
      const p = `/v1/installs/${i.id}/domains/${cname?.id ?? ''}/check_status`;
      const first = await h.request<{ report_id: string }>('POST', p, { auth: t.auth });
      expect(first.status).toBe(202);
      expect(Object.keys(first.body)).toEqual(['report_id']);
      expect(first.body.report_id).toMatch(UUID);

      const second = await h.request<{ message: string }>('POST', p, { auth: t.auth });
      expect(second.status).toBe(429);
      const retryAfter = Number(second.headers.get('retry-after'));
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(5);
      expect(Object.keys(second.body)).toEqual(['message']);
      expect(second.body.message).toMatch(/5 seconds/);

      // The limit is per install: another install is not held back.
      const j = await createInstall(t);
      const [jCname] = await domains(t, j);
      const other = await h.request(
        'POST',
        `/v1/installs/${j.id}/domains/${jCname?.id ?? ''}/check_status`,
        {
          auth: t.auth,
        },
      );
      expect(other.status).toBe(202);

      const jobs = await h.app.store.read.jobs.listForTarget(cname?.id ?? '');
      expect(jobs.map((x) => x.type)).toEqual(['domain.check_status']);
      expect(jobs[0]?.id).toBe(first.body.report_id);
    });

    it('takes a request with a JSON content type but no body', async () => {
      const t = await h.tenant();
      const i = await createInstall(t);
      const [cname] = await domains(t, i);
      const res = await h.request<{ report_id: string }>(
        'POST',
        `/v1/installs/${i.id}/domains/${cname?.id ?? ''}/check_status`,
        { auth: t.auth, headers: { 'content-type': 'application/json; charset=utf-8' } },
      );
      expect(res.status).toBe(202);
      expect(res.body.report_id).toMatch(UUID);
    });

    it('lets only one of several simultaneous checks through', async () => {
      const t = await h.tenant();
      const i = await createInstall(t);
      const [cname] = await domains(t, i);
      const p = `/v1/installs/${i.id}/domains/${cname?.id ?? ''}/check_status`;
      const results = await Promise.all(
        Array.from({ length: 6 }, () => h.request('POST', p, { auth: t.auth })),
      );
      expect(results.map((r) => r.status).sort()).toEqual([202, 429, 429, 429, 429, 429]);
      const jobs = await h.app.store.read.jobs.listForTarget(cname?.id ?? '');
      expect(jobs).toHaveLength(1);
    });

    it('answers 404 for an unknown domain without using up the allowance', async () => {
      const t = await h.tenant();
      const i = await createInstall(t);
      const unknown = await h.request(
        'POST',
        `/v1/installs/${i.id}/domains/${randomUUID()}/check_status`,
        { auth: t.auth },
      );
      expect(unknown.status).toBe(404);
      const [cname] = await domains(t, i);
      const ok = await h.request(
        'POST',
        `/v1/installs/${i.id}/domains/${cname?.id ?? ''}/check_status`,
        { auth: t.auth },
      );
      expect(ok.status).toBe(202);
    });
  });

  describe('backups', () => {
    let t: Tenant;
    let i: Install;
    beforeAll(async () => {
      t = await h.tenant();
      i = await createInstall(t);
    });

    function postBackup(install: Install, body: unknown) {
      return h.request<Backup & ErrorBody>('POST', `/v1/installs/${install.id}/backups`, {
        auth: t.auth,
        body,
      });
    }

    it('requests a backup (202 requested) and reads it back', async () => {
      const res = await postBackup(i, {
        description: 'Before the upgrade',
        notification_emails: ['ops@example.com', 'dev@example.org'],
      });
      expect(res.status).toBe(202);
      expect(res.body.id).toMatch(UUID);
      expect(res.body.status).toBe('requested');
      expect(res.body.description).toBe('Before the upgrade');
      expect(res.body.notification_emails).toEqual(['ops@example.com', 'dev@example.org']);

      const got = await h.request<Backup>('GET', `/v1/installs/${i.id}/backups/${res.body.id}`, {
        auth: t.auth,
      });
      expect(got.status).toBe(200);
      expect(got.body).toEqual(res.body);

      const jobs = await h.app.store.read.jobs.listForTarget(res.body.id);
      expect(jobs.map((j) => j.type)).toEqual(['backup.create']);
      const activity = await h.app.store.read.activity.listForAccount(t.accountId, 50);
      expect(
        activity.some((a) => a.action === 'backup.create' && a.target_id === res.body.id),
      ).toBe(true);
    });

    it.each([
      [{ notification_emails: ['a@example.com'] }, 'description'],
      [{ description: '', notification_emails: ['a@example.com'] }, 'description'],
      [{ description: '   ', notification_emails: ['a@example.com'] }, 'description'],
      [{ description: 'x' }, 'notification_emails'],
      [{ description: 'x', notification_emails: [] }, 'notification_emails'],
      [{ description: 'x', notification_emails: ['not-an-email'] }, 'notification_emails'],
      [{ description: 'x', notification_emails: ['a@example.com', 'b@'] }, 'notification_emails'],
      [{ description: 'x', notification_emails: 'a@example.com' }, 'notification_emails'],
    ])('refuses %j with 400 on %s', async (body, field) => {
      const before = await h.app.store.read.activity.listForAccount(t.accountId, 200);
      const res = await postBackup(i, body);
      expect(res.status).toBe(400);
      expect(res.body.errors?.[0]?.field).toBe(field);
      const after = await h.app.store.read.activity.listForAccount(t.accountId, 200);
      expect(after).toHaveLength(before.length);
    });

    it('answers 404 for unknown backups and installs', async () => {
      const unknown = await h.request('GET', `/v1/installs/${i.id}/backups/${randomUUID()}`, {
        auth: t.auth,
      });
      expect(unknown.status).toBe(404);
      expect(unknown.body).toEqual({ message: 'Not Found' });

      // A backup id under another install of the same account is not found either.
      const b = await postBackup(i, { description: 'x', notification_emails: ['a@example.com'] });
      const sibling = await createInstall(t);
      expect(
        (
          await h.request('GET', `/v1/installs/${sibling.id}/backups/${b.body.id}`, {
            auth: t.auth,
          })
        ).status,
      ).toBe(404);

      const other = await h.tenant();
      expect(
        (await h.request('GET', `/v1/installs/${i.id}/backups/${b.body.id}`, { auth: other.auth }))
          .status,
      ).toBe(404);
      const post = await h.request('POST', `/v1/installs/${i.id}/backups`, {
        auth: other.auth,
        body: { description: 'x', notification_emails: ['a@example.com'] },
      });
      expect(post.status).toBe(404);
      const unknownInstall = await h.request('POST', `/v1/installs/${randomUUID()}/backups`, {
        auth: t.auth,
        body: { description: 'x', notification_emails: ['a@example.com'] },
      });
      expect(unknownInstall.status).toBe(404);
    });
  });

  describe('purge_cache', () => {
    let t: Tenant;
    beforeAll(async () => {
      t = await h.tenant();
    });

    function purge(install: Install, body: unknown) {
      return h.request<ErrorBody>('POST', `/v1/installs/${install.id}/purge_cache`, {
        auth: t.auth,
        body,
      });
    }

    it.each(['object', 'page', 'cdn'])('accepts type %s (202, no content)', async (type) => {
      const i = await createInstall(t);
      const res = await purge(i, { type });
      expect(res.status).toBe(202);
      // The contract gives this 202 no body; JSON `null` (or nothing) carries no fields.
      expect(['', 'null']).toContain(res.text);
      const jobs = await h.app.store.read.jobs.listForTarget(i.id);
      const job = jobs.find((j) => j.type === 'cache.purge');
      expect(job).toBeDefined();
      expect(JSON.parse(job?.payload ?? '{}')).toEqual({ type });
    });

    it('refuses an unknown or missing type (400) without using up the allowance', async () => {
      const i = await createInstall(t);
      for (const body of [{ type: 'all' }, { type: 'OBJECT' }, { type: '' }, {}, { type: 1 }]) {
        const res = await purge(i, body);
        expect(res.status).toBe(400);
        expect(res.body.errors?.[0]?.field).toBe('type');
      }
      expect((await purge(i, { type: 'object' })).status).toBe(202);
    });

    it('limits purges to one per 60 seconds per install (429 with Retry-After)', async () => {
      const i = await createInstall(t);
      expect((await purge(i, { type: 'object' })).status).toBe(202);
      const second = await h.request<{ message: string }>(
        'POST',
        `/v1/installs/${i.id}/purge_cache`,
        { auth: t.auth, body: { type: 'object' } },
      );
      expect(second.status).toBe(429);
      const retryAfter = Number(second.headers.get('retry-after'));
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(second.body.message).toBe(
        'Object cache purges are rate-limited to one request every 60 seconds for each install',
      );
      const jobs = await h.app.store.read.jobs.listForTarget(i.id);
      expect(jobs.filter((j) => j.type === 'cache.purge')).toHaveLength(1);
    });

    it('lets only one of several simultaneous purges through', async () => {
      const i = await createInstall(t);
      const results = await Promise.all(
        ['object', 'page', 'cdn', 'object', 'page', 'cdn'].map((type) => purge(i, { type })),
      );
      expect(results.map((r) => r.status).sort()).toEqual([202, 429, 429, 429, 429, 429]);
      const jobs = await h.app.store.read.jobs.listForTarget(i.id);
      expect(jobs.filter((j) => j.type === 'cache.purge')).toHaveLength(1);
    });

    it('answers 404 for an install of another tenant', async () => {
      const other = await h.tenant();
      const i = await createInstall(other);
      expect((await purge(i, { type: 'page' })).status).toBe(404);
    });
  });

  describe('ssh_keys', () => {
    it('adds a key (201) with uuid, MD5 fingerprint, comment and created_at', async () => {
      const t = await h.tenant();
      const key = generateKey('me@laptop');
      const res = await h.request<SshKey>('POST', '/v1/ssh_keys', {
        auth: t.auth,
        body: { public_key: key.line },
      });
      expect(res.status).toBe(201);
      expect(Object.keys(res.body).sort()).toEqual([
        'comment',
        'created_at',
        'fingerprint',
        'uuid',
      ]);
      expect(res.body.uuid).toMatch(UUID);
      expect(res.body.fingerprint).toMatch(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
      expect(res.body.fingerprint).toBe(md5Colons(key.blob));
      if (key.sshKeygenMd5 !== null) expect(res.body.fingerprint).toBe(key.sshKeygenMd5);
      expect(res.body.comment).toBe('me@laptop');
      expect(res.body.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

      const list = await h.request<Envelope<SshKey>>('GET', '/v1/ssh_keys', { auth: t.auth });
      expect(list.status).toBe(200);
      expect(list.body.results).toEqual([res.body]);
    });

    it('adds hand-encoded ed25519 and RSA keys, and keys without a comment', async () => {
      const t = await h.tenant();
      const ed = cryptoEd25519('with spaces in comment');
      const rsa = cryptoRsa('rsa@host');
      const bare = cryptoEd25519('');
      const edRes = await h.request<SshKey>('POST', '/v1/ssh_keys', {
        auth: t.auth,
        body: { public_key: ed.line },
      });
      expect(edRes.status).toBe(201);
      expect(edRes.body.comment).toBe('with spaces in comment');
      expect(edRes.body.fingerprint).toBe(md5Colons(ed.blob));
      const rsaRes = await h.request<SshKey>('POST', '/v1/ssh_keys', {
        auth: t.auth,
        body: { public_key: `${rsa.line}\n` },
      });
      expect(rsaRes.status).toBe(201);
      expect(rsaRes.body.fingerprint).toBe(md5Colons(rsa.blob));
      const bareRes = await h.request<SshKey>('POST', '/v1/ssh_keys', {
        auth: t.auth,
        body: { public_key: bare.line.trim() },
      });
      expect(bareRes.status).toBe(201);
      expect(bareRes.body.comment).toBe('');
    });

    it('refuses the same key twice (400 taken), whatever the comment', async () => {
      const t = await h.tenant();
      const key = cryptoEd25519('first');
      expect(
        (await h.request('POST', '/v1/ssh_keys', { auth: t.auth, body: { public_key: key.line } }))
          .status,
      ).toBe(201);
      const again = await h.request<ErrorBody>('POST', '/v1/ssh_keys', {
        auth: t.auth,
        body: { public_key: key.line.replace(/ first$/, ' second') },
      });
      expect(again.status).toBe(400);
      expect(again.body.errors?.[0]).toMatchObject({
        resource: 'SshKey',
        field: 'public_key',
        type: 'value_unavailable',
        code: 'taken',
      });
      const list = await h.request<Envelope<SshKey>>('GET', '/v1/ssh_keys', { auth: t.auth });
      expect(list.body.count).toBe(1);
    });

    it('refuses keys that are not OpenSSH public keys (400)', async () => {
      const t = await h.tenant();
      const ed = cryptoEd25519('c');
      const edData = ed.line.split(' ')[1] ?? '';
      const rsa = cryptoRsa('c');
      const rsaData = rsa.line.split(' ')[1] ?? '';
      const truncated = Buffer.concat([
        sshString('ssh-ed25519'),
        sshString(Buffer.alloc(16, 1)),
      ]).toString('base64');
      const shortRsa = Buffer.concat([
        sshString('ssh-rsa'),
        sshMpint(Buffer.from([1, 0, 1])),
        sshMpint(Buffer.alloc(64, 0x7f)),
      ]).toString('base64');
      const bad = [
        '',
        'garbage',
        'ssh-ed25519',
        'ssh-ed25519 AAAA',
        `ssh-ed25519 ${edData.slice(0, -4)}`,
        `ssh-ed25519 ${edData}!`,
        `ssh-rsa ${edData} wrong type`,
        `ssh-ed25519 ${rsaData}`,
        `ssh-ed25519 ${truncated}`,
        `ssh-rsa ${shortRsa}`,
        `ssh-dss ${edData}`,
        `-----BEGIN PUBLIC KEY-----\n${edData}\n-----END PUBLIC KEY-----`,
      ];
      for (const public_key of bad) {
        const res = await h.request<ErrorBody>('POST', '/v1/ssh_keys', {
          auth: t.auth,
          body: { public_key },
        });
        expect(res.status).toBe(400);
        expect(res.body.errors?.[0]?.field).toBe('public_key');
      }
      const missing = await h.request('POST', '/v1/ssh_keys', { auth: t.auth, body: {} });
      expect(missing.status).toBe(400);
      const list = await h.request<Envelope<SshKey>>('GET', '/v1/ssh_keys', { auth: t.auth });
      expect(list.body.count).toBe(0);
    });

    it('lists keys with pagination', async () => {
      const t = await h.tenant();
      const ids: string[] = [];
      for (let n = 0; n < 3; n++) {
        const res = await h.request<SshKey>('POST', '/v1/ssh_keys', {
          auth: t.auth,
          body: { public_key: cryptoEd25519(`key${n}`).line },
        });
        expect(res.status).toBe(201);
        ids.push(res.body.uuid);
      }
      const first = await h.request<Envelope<SshKey>>('GET', '/v1/ssh_keys?limit=2', {
        auth: t.auth,
      });
      expect(Object.keys(first.body)).toEqual(['previous', 'next', 'count', 'results']);
      expect(first.body.count).toBe(3);
      expect(first.body.results.map((k) => k.uuid)).toEqual(ids.slice(0, 2));
      expect(first.body.previous).toBeNull();
      expect(first.body.next).toBe(`${h.baseUrl}/v1/ssh_keys?limit=2&offset=2`);
      const second = await h.request<Envelope<SshKey>>('GET', '/v1/ssh_keys?limit=2&offset=2', {
        auth: t.auth,
      });
      expect(second.body.results.map((k) => k.uuid)).toEqual(ids.slice(2));
      expect(second.body.next).toBeNull();
      expect(second.body.previous).toBe(`${h.baseUrl}/v1/ssh_keys?limit=2&offset=0`);

      // Keys belong to their user: another tenant sees none of them.
      const other = await h.tenant();
      const theirs = await h.request<Envelope<SshKey>>('GET', '/v1/ssh_keys', { auth: other.auth });
      expect(theirs.body.count).toBe(0);
    });

    it('deletes a key (204), then 404', async () => {
      const t = await h.tenant();
      const other = await h.tenant();
      const key = cryptoEd25519('gone');
      const res = await h.request<SshKey>('POST', '/v1/ssh_keys', {
        auth: t.auth,
        body: { public_key: key.line },
      });
      expect(
        (await h.request('DELETE', `/v1/ssh_keys/${res.body.uuid}`, { auth: other.auth })).status,
      ).toBe(404);
      const del = await h.request('DELETE', `/v1/ssh_keys/${res.body.uuid}`, { auth: t.auth });
      expect(del.status).toBe(204);
      expect(del.text).toBe('');
      const again = await h.request('DELETE', `/v1/ssh_keys/${res.body.uuid}`, { auth: t.auth });
      expect(again.status).toBe(404);
      expect((await h.request('DELETE', '/v1/ssh_keys/nope', { auth: t.auth })).status).toBe(404);
      const list = await h.request<Envelope<SshKey>>('GET', '/v1/ssh_keys', { auth: t.auth });
      expect(list.body.count).toBe(0);
      // Deleted, the key may be added again.
      expect(
        (await h.request('POST', '/v1/ssh_keys', { auth: t.auth, body: { public_key: key.line } }))
          .status,
      ).toBe(201);
    });
  });
});
