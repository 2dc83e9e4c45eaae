import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/engines.js';
import { startHarness, type Harness, type Tenant } from '../helpers/harness.js';

/*
 * Clients label the empty body of an operation that takes none in every way: generated from
 * WP Engine's swagger with axios they send `Content-Type: application/x-www-form-urlencoded` and
 * `Content-Length: 0`, others `text/plain`, `application/json` or nothing. Each must get the
 * operation's normal answer. The operations come from the served /v1/swagger document, so a new
 * route is covered here without a change; a new kind of path id needs a fixture (the test says
 * which). The MainWP and WisPanel dialects get their own block here when they exist.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface Operation {
  /** `POST /installs/{install_id}/…`, as in the document. */
  key: string;
  method: string;
  path: string;
  /** Whether the operation declares a body it requires. */
  bodyRequired: boolean;
  /** The 2xx codes the operation declares: its normal answers. */
  success: number[];
}

interface Sent {
  label: string;
  /** Exactly these, besides Host, Connection and Authorization. */
  headers: Record<string, string>;
}

const EMPTY_BODIES: readonly Sent[] = [
  // Node adds `Content-Length: 0` to a POST or PATCH, and nothing to a GET or DELETE.
  { label: 'no Content-Type', headers: {} },
  { label: 'text/plain', headers: { 'content-type': 'text/plain', 'content-length': '0' } },
  {
    label: 'application/json, empty',
    headers: { 'content-type': 'application/json', 'content-length': '0' },
  },
  {
    label: 'form-encoded, Content-Length: 0 (axios)',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '0' },
  },
  {
    // Empty too, but only its end says so.
    label: 'form-encoded, chunked with no chunks',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'transfer-encoding': 'chunked',
    },
  },
];

const NOT_JSON: readonly { label: string; type: string; body: string }[] = [
  { label: 'JSON labelled text/plain', type: 'text/plain', body: '{"name":"x"}' },
  { label: 'a form', type: 'application/x-www-form-urlencoded', body: 'name=x&primary=true' },
];

interface RawResponse {
  status: number;
  type: string | undefined;
  text: string;
}

/** One request with exactly the given headers, on a connection of its own. */
function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          type: res.headers['content-type'],
          text: Buffer.concat(chunks).toString('utf8'),
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function isObject(value: Json | undefined): value is JsonObject {
  return (
    value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value)
  );
}

/** Every operation of a Swagger 2.0 document, with whether it requires a body. */
function operations(doc: Json): Operation[] {
  const out: Operation[] = [];
  const paths = isObject(doc) ? doc.paths : undefined;
  if (!isObject(paths)) throw new Error('the document has no paths');
  for (const [path, item] of Object.entries(paths)) {
    if (!isObject(item)) continue;
    for (const [method, op] of Object.entries(item)) {
      if (!isObject(op) || !isObject(op.responses)) continue;
      const parameters = Array.isArray(op.parameters) ? op.parameters : [];
      const body = parameters.find((p) => isObject(p) && p.in === 'body');
      out.push({
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        bodyRequired: isObject(body) && body.required === true,
        success: Object.keys(op.responses)
          .map(Number)
          .filter((code) => code >= 200 && code < 300),
      });
    }
  }
  return out;
}

function sshKeyLine(): string {
  const der = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' });
  const part = (data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    return Buffer.concat([len, data]);
  };
  const blob = Buffer.concat([part(Buffer.from('ssh-ed25519')), part(der.subarray(-32))]);
  return `ssh-ed25519 ${blob.toString('base64')} empty-bodies@example.com`;
}

describe.each(ENGINES)('empty request bodies, WP Engine dialect on %s', (engine) => {
  let h: Harness;
  let t: Tenant;
  let ops: Operation[];
  let made = 0;

  beforeAll(async () => {
    h = await startHarness(engine);
    t = await h.tenant();
    const doc = await h.request<Json>('GET', '/v1/swagger');
    expect(doc.status).toBe(200);
    ops = operations(doc.body);
  });
  afterAll(async () => {
    await h.close();
  });

  async function created<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await h.request<T>(method, `/v1${path}`, {
      auth: t.auth,
      ...(body === undefined ? {} : { body }),
    });
    if (res.status < 200 || res.status >= 300) {
      throw new Error(`fixture ${method} ${path}: ${String(res.status)} ${res.text}`);
    }
    return res.body;
  }

  /** Makes a fresh thing for each kind of path id, given the ids before it in the path. */
  const FIXTURES: Record<string, (ids: Record<string, string>) => Promise<string>> = {
    account_id: () => Promise.resolve(t.accountId),
    user_id: async (ids) => {
      const res = await created<{ account_user: { user_id: string } }>(
        'POST',
        `/accounts/${ids.account_id ?? t.accountId}/account_users`,
        {
          user: {
            account_id: t.accountId,
            first_name: 'Empty',
            last_name: 'Bodies',
            email: `user${String(++made)}@example.com`,
            roles: 'full',
          },
        },
      );
      return res.account_user.user_id;
    },
    site_id: async () =>
      (await created<{ id: string }>('POST', '/sites', { name: 'Site', account_id: t.accountId }))
        .id,
    install_id: async () =>
      (
        await created<{ id: string }>('POST', '/installs', {
          name: `bodies${String(++made)}`,
          account_id: t.accountId,
        })
      ).id,
    domain_id: async (ids) =>
      (
        await created<{ id: string }>('POST', `/installs/${ids.install_id ?? ''}/domains`, {
          name: `d${String(++made)}.example.com`,
        })
      ).id,
    backup_id: async (ids) =>
      (
        await created<{ id: string }>('POST', `/installs/${ids.install_id ?? ''}/backups`, {
          description: 'Before the test',
          notification_emails: ['ops@example.com'],
        })
      ).id,
    report_id: async (ids) => {
      const install = ids.install_id ?? '';
      const domain = await FIXTURES.domain_id?.(ids);
      const check = await created<{ report_id: string }>(
        'POST',
        `/installs/${install}/domains/${domain ?? ''}/check_status`,
      );
      return check.report_id;
    },
    ssh_key_id: async () =>
      (await created<{ uuid: string }>('POST', '/ssh_keys', { public_key: sshKeyLine() })).uuid,
  };

  /** The state an operation needs its things in before it can answer normally. */
  const STATES: Record<string, (ids: Record<string, string>) => Promise<void>> = {
    // Only a failed install can be retried: as when the job runner gives its provisioning up.
    'POST /installs/{install_id}/retry': (ids) =>
      h.app.store.transaction((r) =>
        h.app.services.installs.markFailedWithin(r, ids.install_id ?? '', 'given up in a test'),
      ),
  };

  /** The operation's path under /v1 with fresh things for its ids (a DELETE takes its own). */
  async function pathOf(op: Operation): Promise<string> {
    const ids: Record<string, string> = {};
    let path = op.path;
    for (const [, name = ''] of op.path.matchAll(/\{(\w+)\}/g)) {
      const make = FIXTURES[name];
      if (make === undefined) throw new Error(`${op.key}: no fixture for {${name}}; add one`);
      ids[name] = await make(ids);
      path = path.replace(`{${name}}`, ids[name]);
    }
    await STATES[op.key]?.(ids);
    return `/v1${path}`;
  }

  const without = () => ops.filter((o) => !o.bodyRequired);
  const requiring = () => ops.filter((o) => o.bodyRequired);

  it('finds the operations in the document, check_status and the DELETEs among them', () => {
    const keys = without().map((o) => o.key);
    expect(keys).toContain('POST /installs/{install_id}/domains/{domain_id}/check_status');
    expect(keys).toContain('DELETE /installs/{install_id}/domains/{domain_id}');
    expect(keys.filter((k) => k.startsWith('DELETE ')).length).toBeGreaterThanOrEqual(5);
    expect(requiring().map((o) => o.key)).toContain('POST /sites');
    for (const o of ops) expect(o.success.length, o.key).toBeGreaterThan(0);
  });

  it('answers every operation that takes no body normally, however an empty body is labelled', async () => {
    const wrong: string[] = [];
    for (const op of without()) {
      for (const sent of EMPTY_BODIES) {
        const res = await send(`${h.baseUrl}${await pathOf(op)}`, op.method, {
          authorization: t.auth,
          ...sent.headers,
        });
        if (!op.success.includes(res.status)) {
          wrong.push(`${op.key} with ${sent.label}: ${String(res.status)} ${res.text}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('gives the field error for an empty body where one is required, however it is labelled', async () => {
    for (const op of requiring()) {
      for (const sent of EMPTY_BODIES) {
        const res = await send(`${h.baseUrl}${await pathOf(op)}`, op.method, {
          authorization: t.auth,
          ...sent.headers,
        });
        const context = `${op.key} with ${sent.label}: ${res.text}`;
        expect(res.status, context).toBe(400);
        expect(res.type, context).toBe('application/json');
        expect(JSON.parse(res.text), context).toMatchObject({
          message: expect.stringMatching(/^Invalid \w+: /) as unknown,
          documentation_url: expect.any(String) as unknown,
          errors: [{ field: 'body', type: 'invalid_value', code: 'invalid_type' }],
        });
      }
    }
  });

  it('refuses a body that is not JSON where one is required, with the contract 415', async () => {
    for (const op of requiring()) {
      for (const body of NOT_JSON) {
        const res = await send(
          `${h.baseUrl}${await pathOf(op)}`,
          op.method,
          { authorization: t.auth, 'content-type': body.type },
          body.body,
        );
        const context = `${op.key} with ${body.label}: ${res.text}`;
        expect(res.status, context).toBe(415);
        expect(res.type, context).toBe('application/json');
        expect(JSON.parse(res.text), context).toEqual({ message: 'Unsupported Media Type' });
      }
    }
  });

  it('still refuses a non-empty body in another type where none is taken', async () => {
    const op = without().find((o) => o.key.endsWith('/check_status'));
    expect(op).toBeDefined();
    if (op === undefined) return;
    const res = await send(
      `${h.baseUrl}${await pathOf(op)}`,
      op.method,
      { authorization: t.auth, 'content-type': 'application/x-www-form-urlencoded' },
      'a=b',
    );
    expect(res.status, res.text).toBe(415);
    expect(JSON.parse(res.text)).toEqual({ message: 'Unsupported Media Type' });
  });

  it('answers a path that names nothing with 404, whatever its body', async () => {
    const res = await send(
      `${h.baseUrl}/v1/installs/nothing/here`,
      'POST',
      { authorization: t.auth, 'content-type': 'text/plain' },
      'hello',
    );
    expect(res.status, res.text).toBe(404);
    expect(JSON.parse(res.text)).toEqual({ message: 'Not Found' });
  });
});
