import { afterEach, describe, expect, it } from 'vitest';
import {
  basicAuth,
  startHarness,
  type ApiResponse,
  type Harness,
  type Tenant,
} from '../helpers/harness.js';

const BAD_CREDENTIALS = '{"message":"Bad Credentials"}';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function harness(env: Record<string, string> = {}): Promise<Harness> {
  h = await startHarness('sqlite', env);
  return h;
}

function expectRateHeaders(res: ApiResponse, limit: number): void {
  expect(res.headers.get('x-ratelimit-limit')).toBe(String(limit));
  expect(res.headers.get('x-ratelimit-remaining')).toMatch(/^\d+$/);
  expect(res.headers.get('x-ratelimit-reset')).toMatch(/^\d+$/);
}

/**
 * Sends `send()` until the limiter refuses, and checks it refuses exactly the request after the
 * `limit`th of one window. Counting restarts if a window boundary passes mid-way (the reset
 * header changes), so the test cannot fail on the clock; the loop is bounded.
 */
async function expectRefusalAfter(
  limit: number,
  send: () => Promise<ApiResponse>,
): Promise<ApiResponse> {
  let window: string | null = null;
  let count = 0;
  for (let i = 0; i < 4 * (limit + 1); i++) {
    const res = await send();
    expectRateHeaders(res, limit);
    const reset = res.headers.get('x-ratelimit-reset');
    if (reset !== window) {
      window = reset;
      count = 0;
    }
    count += 1;
    if (count <= limit) {
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-remaining')).toBe(String(limit - count));
      continue;
    }
    expect(res.status).toBe(429);
    return res;
  }
  throw new Error('the limit was never reached');
}

describe('rate limits (SQLite)', () => {
  it('refuses the request after the per-IP limit with 429, Retry-After and the limit headers', async () => {
    const api = await harness({ WPFLEET_RATE_LIMIT_IP_MINUTE: '5' });
    const refused = await expectRefusalAfter(5, () => api.request('GET', '/v1/status'));
    expect(refused.text).toBe(JSON.stringify(refused.body));
    expect(Object.keys(refused.body as object)).toEqual(['message']);
    expect((refused.body as { message: unknown }).message).toEqual(expect.any(String));
    expect(refused.headers.get('content-type')).toBe('application/json');
    expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);

    // The per-IP limit counts every request, authenticated or not.
    const t = await api.tenant();
    const authed = await api.request('GET', '/v1/user', { auth: t.auth });
    expect(authed.status).toBe(429);
  });

  it('refuses an account after its hourly limit while another account goes on', async () => {
    const api = await harness({ WPFLEET_RATE_LIMIT_ACCOUNT_HOUR: '3' });
    const busy = await api.tenant('Busy');
    const other = await api.tenant('Other');
    const refused = await expectRefusalAfter(3, () =>
      api.request('GET', '/v1/accounts', { auth: busy.auth }),
    );
    expect(Object.keys(refused.body as object)).toEqual(['message']);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(3600);

    const fine = await api.request('GET', '/v1/accounts', { auth: other.auth });
    expect(fine.status).toBe(200);
    expectRateHeaders(fine, 3);
    expect(fine.headers.get('x-ratelimit-remaining')).toBe('2');

    // A second credential of the same account shares the account's budget.
    const sameAccount = await api.app.services.credentials.create(busy.accountId, ['read']);
    const shared = await api.request('GET', '/v1/accounts', {
      auth: basicAuth(sameAccount.username, sameAccount.password),
    });
    expect(shared.status).toBe(429);
  });
});

describe('authentication and HTTP details (SQLite)', () => {
  let t: Tenant;

  it('answers exactly {"message":"Bad Credentials"} to missing, malformed and wrong credentials', async () => {
    const api = await harness();
    t = await api.tenant();
    const cases: [string, string | null][] = [
      ['missing', null],
      ['empty', ''],
      ['not Basic', `Bearer ${t.password}`],
      ['not base64', 'Basic !!!not-base64!!!'],
      ['no colon', `Basic ${Buffer.from('justauser').toString('base64')}`],
      ['empty user', basicAuth('', t.password)],
      ['unknown user', basicAuth('00000000-0000-4000-8000-000000000000', t.password)],
      ['not a uuid user', basicAuth('someone', t.password)],
      ['wrong password', basicAuth(t.username, `${t.password}x`)],
      ['empty password', basicAuth(t.username, '')],
    ];
    for (const [label, auth] of cases) {
      const res = await api.request('GET', '/v1/installs', { auth });
      expect(res.status, label).toBe(401);
      expect(res.text, label).toBe(BAD_CREDENTIALS);
      expect(res.headers.get('content-type'), label).toBe('application/json');
    }
    // A write with bad credentials is refused the same way, before its body is looked at.
    const post = await api.request('POST', '/v1/sites', {
      auth: basicAuth(t.username, 'nope'),
      rawBody: '{not json',
    });
    expect(post.status).toBe(401);
    expect(post.text).toBe(BAD_CREDENTIALS);

    const good = await api.request('GET', '/v1/installs', { auth: t.auth });
    expect(good.status).toBe(200);
  });

  it('serves /v1/status without credentials', async () => {
    const api = await harness();
    const res = await api.request<{ success: boolean; created_on: string }>('GET', '/v1/status');
    expect(res.status).toBe(200);
    expect(res.body.success).toBe(true);
    expect(res.body.created_on).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    const withBadAuth = await api.request('GET', '/v1/status', { auth: 'Basic Zm9vOmJhcg==' });
    expect(withBadAuth.status).toBe(200);
  });

  it('tolerates duplicate slashes', async () => {
    const api = await harness();
    t = await api.tenant();
    const install = await api.request<{ id: string }>('POST', '/v1/installs', {
      auth: t.auth,
      body: { name: 'slashes', account_id: t.accountId },
    });
    expect(install.status).toBe(201);
    const list = await api.request<{ count: number }>('GET', '//v1//installs', { auth: t.auth });
    expect(list.status).toBe(200);
    expect(list.body.count).toBe(1);
    const domains = await api.request<{ count: number }>(
      'GET',
      `/v1//installs/${install.body.id}/domains`,
      { auth: t.auth },
    );
    expect(domains.status).toBe(200);
    expect(domains.body.count).toBe(1);
    const status = await api.request('GET', '//v1//status');
    expect(status.status).toBe(200);
  });

  it('answers with exactly application/json, whatever the status', async () => {
    const api = await harness();
    t = await api.tenant();
    const reader = await api.tenant('Reader', ['read']);
    const responses: [string, ApiResponse][] = [
      ['200', await api.request('GET', '/v1/accounts', { auth: t.auth })],
      [
        '201',
        await api.request('POST', '/v1/sites', {
          auth: t.auth,
          body: { name: 'Typed', account_id: t.accountId },
        }),
      ],
      ['400', await api.request('POST', '/v1/sites', { auth: t.auth, body: {} })],
      ['400 bad json', await api.request('POST', '/v1/sites', { auth: t.auth, rawBody: '{' })],
      ['401', await api.request('GET', '/v1/accounts')],
      [
        '403',
        await api.request('POST', '/v1/sites', {
          auth: reader.auth,
          body: { name: 'No', account_id: reader.accountId },
        }),
      ],
      [
        '404',
        await api.request('GET', '/v1/sites/00000000-0000-4000-8000-000000000000', {
          auth: t.auth,
        }),
      ],
      ['404 unknown path', await api.request('GET', '/v1/nothing-here', { auth: t.auth })],
      ['200 status', await api.request('GET', '/v1/status')],
    ];
    for (const [label, res] of responses) {
      expect(res.status, label).toBe(Number(label.slice(0, 3)));
      expect(res.headers.get('content-type'), label).toBe('application/json');
      expect(() => JSON.parse(res.text) as unknown, label).not.toThrow();
    }
  });
});
