import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/engines.js';
import { basicAuth, startHarness, type Harness, type Tenant } from '../helpers/harness.js';

interface Install {
  id: string;
  name: string;
  status: string;
  status_reason?: string;
  wp_version?: string | null;
}

interface Envelope<T> {
  count: number;
  results: T[];
}

interface ErrorBody {
  message: string;
  errors?: { resource: string; field: string; type: string; code: string; message: string }[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A failed install over the WP Engine API: `status: "failed"` with `status_reason`, and the
 * `POST /installs/{id}/retry` extension that provisions it again.
 */
describe.each(ENGINES)('failed installs and their retry on %s', (engine) => {
  let h: Harness;
  let counter = 0;

  beforeAll(async () => {
    h = await startHarness(engine);
  });
  afterAll(async () => {
    await h.close();
  });

  async function createInstall(t: Tenant): Promise<Install> {
    const res = await h.request<Install>('POST', '/v1/installs', {
      auth: t.auth,
      body: { name: `retry${engine.slice(0, 2)}${++counter}`, account_id: t.accountId },
    });
    expect(res.status).toBe(201);
    return res.body;
  }

  /** What the job runner does when it gives up the install's provisioning. */
  async function fail(install: Install, reason: string): Promise<void> {
    await h.app.store.transaction((r) =>
      h.app.services.installs.markFailedWithin(r, install.id, reason),
    );
  }

  const retry = (t: Pick<Tenant, 'auth'>, id: string) =>
    h.request<Install & ErrorBody>('POST', `/v1/installs/${id}/retry`, { auth: t.auth });

  async function provisionJobs(id: string): Promise<string[]> {
    const jobs = await h.app.store.read.jobs.listForTarget(id);
    return jobs.filter((j) => j.type === 'install.provision').map((j) => j.state);
  }

  it('shows a failed install as failed with its reason, on GET and in lists', async () => {
    const t = await h.tenant();
    const install = await createInstall(t);
    const got = await h.request<Install>('GET', `/v1/installs/${install.id}`, { auth: t.auth });
    expect(got.body.status).toBe('pending');
    // Only a failed install carries a reason: the others are as the contract has them.
    expect(got.body).not.toHaveProperty('status_reason');

    await fail(install, 'provisioning failed: the release could not be downloaded');
    const failed = await h.request<Install>('GET', `/v1/installs/${install.id}`, { auth: t.auth });
    expect(failed.status).toBe(200);
    expect(failed.body.status).toBe('failed');
    expect(failed.body.status_reason).toBe(
      'provisioning failed: the release could not be downloaded',
    );
    const list = await h.request<Envelope<Install>>('GET', '/v1/installs', { auth: t.auth });
    expect(list.body.results.find((i) => i.id === install.id)).toMatchObject({
      status: 'failed',
      status_reason: 'provisioning failed: the release could not be downloaded',
    });
  });

  it('retries a failed install: 202 with the install pending again and a new provisioning job', async () => {
    const t = await h.tenant();
    const install = await createInstall(t);
    // The first provisioning, given up as the runner does it.
    const [first] = await h.app.store.read.jobs.listForTarget(install.id);
    await h.app.store.transaction(async (r) => {
      await r.jobs.fail(
        first?.id ?? '',
        'the home page answered 500',
        null,
        new Date().toISOString(),
      );
      await h.app.services.installs.markFailedWithin(
        r,
        install.id,
        'provisioning failed: the home page answered 500',
      );
    });

    const res = await retry(t, install.id);
    expect(res.status).toBe(202);
    expect(res.body.id).toBe(install.id);
    expect(res.body.status).toBe('pending');
    expect(res.body).not.toHaveProperty('status_reason');
    expect(res.body).toHaveProperty('wp_version');
    expect(await provisionJobs(install.id)).toEqual(['failed', 'queued']);

    const got = await h.request<Install>('GET', `/v1/installs/${install.id}`, { auth: t.auth });
    expect(got.body.status).toBe('pending');
    const activity = await h.app.store.read.activity.listForAccount(t.accountId, 100);
    const retried = activity.find((a) => a.action === 'install.retry');
    expect(retried?.target_id).toBe(install.id);
    expect(retried?.actor).toBe(`credential:${t.username}`);
    expect(JSON.parse(retried?.details ?? '{}')).toMatchObject({
      previous_reason: 'provisioning failed: the home page answered 500',
    });

    // Pending again, it cannot be retried a second time.
    expect((await retry(t, install.id)).status).toBe(400);
    expect(await provisionJobs(install.id)).toEqual(['failed', 'queued']);
  });

  it('refuses to retry an install that is not failed with 400 in the WP Engine error shape', async () => {
    const t = await h.tenant();
    const install = await createInstall(t);
    const res = await retry(t, install.id);
    expect(res.status).toBe(400);
    expect(res.body.message).toEqual(expect.any(String));
    expect(res.body.errors).toEqual([
      {
        resource: 'Install',
        field: 'status',
        type: 'invalid_value',
        code: 'not_failed',
        message: 'Install is pending; only a failed install can be retried',
      },
    ]);
    expect(await provisionJobs(install.id)).toEqual(['queued']);
  });

  it("answers 404 for another account's install, an unknown id and a deleted install", async () => {
    const owner = await h.tenant();
    const stranger = await h.tenant();
    const install = await createInstall(owner);
    await fail(install, 'provisioning failed: no');
    const res = await retry(stranger, install.id);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ message: 'Not Found' });
    expect((await retry(owner, '00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await retry(owner, 'not-a-uuid')).status).toBe(404);
    const deleted = await createInstall(owner);
    await fail(deleted, 'provisioning failed: no');
    expect(
      (await h.request('DELETE', `/v1/installs/${deleted.id}`, { auth: owner.auth })).status,
    ).toBe(204);
    expect((await retry(owner, deleted.id)).status).toBe(404);
    // Nothing was queued for the stranger.
    expect(await provisionJobs(install.id)).toEqual(['queued']);
  });

  it('refuses a read-only credential and a partial user with 403', async () => {
    const t = await h.tenant();
    const install = await createInstall(t);
    await fail(install, 'provisioning failed: no');
    const c = await h.app.services.credentials.create(t.accountId, ['read']);
    const reader = { auth: basicAuth(c.username, c.password) };
    expect((await retry(reader, install.id)).status).toBe(403);

    const member = await h.request<{ account_user: { user_id: string } }>(
      'POST',
      `/v1/accounts/${t.accountId}/account_users`,
      {
        auth: t.auth,
        body: {
          user: {
            account_id: t.accountId,
            first_name: 'Pat',
            last_name: 'Partial',
            email: `partial-${engine}-${++counter}@example.com`,
            roles: 'partial',
            install_ids: [install.id],
          },
        },
      },
    );
    expect(member.status).toBe(201);
    const pc = await h.app.services.credentials.create(
      t.accountId,
      ['read', 'write', 'delete'],
      member.body.account_user.user_id,
    );
    const partial = { auth: basicAuth(pc.username, pc.password) };
    expect((await retry(partial, install.id)).status).toBe(403);

    const got = await h.request<Install>('GET', `/v1/installs/${install.id}`, { auth: t.auth });
    expect(got.body.status).toBe('failed');
  });

  it('lists the retry and the failed status in /v1/swagger', async () => {
    const res = await h.request<{ [key: string]: Json }>('GET', '/v1/swagger');
    const doc = res.body as { paths: Record<string, Record<string, Record<string, Json>>> };
    const op = doc.paths['/installs/{install_id}/retry']?.post;
    expect(op?.operationId).toBe('retryInstall');
    const responses = op?.responses as Record<string, { schema?: Json }>;
    expect(Object.keys(responses).sort()).toEqual([
      '202',
      '400',
      '401',
      '403',
      '404',
      '429',
      '503',
    ]);
    const schema = JSON.stringify(responses['202']?.schema);
    expect(schema).toContain('"enum":["active","pending","failed"]');
    expect(schema).toContain('"status_reason"');
  });
});
