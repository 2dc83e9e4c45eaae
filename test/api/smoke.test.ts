import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/engines.js';
import { startHarness, type Harness, type Tenant } from '../helpers/harness.js';

describe.each(ENGINES)('WP Engine API smoke on %s', (engine) => {
  let h: Harness;
  let t: Tenant;
  beforeAll(async () => {
    h = await startHarness(engine);
    t = await h.tenant();
  });
  afterAll(async () => {
    await h.close();
  });

  it('creates an install that stays pending and lists it', async () => {
    const created = await h.request<{ id: string; status: string; cname: string }>(
      'POST',
      '/v1/installs',
      {
        auth: t.auth,
        body: { name: 'smoke1', account_id: t.accountId },
      },
    );
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('pending');
    expect(created.body.cname).toBe('smoke1.localhost');
    const list = await h.request<{ count: number }>('GET', '/v1/installs', { auth: t.auth });
    expect(list.status).toBe(200);
    expect(list.body.count).toBe(1);
  });
});
