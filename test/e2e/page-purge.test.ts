import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServe, type ServeProcess } from '../helpers/cli.js';
import { startHosted, type Hosted, type HostedInstall } from '../helpers/hosted.js';
import { siteRequest, waitFor } from '../helpers/site.js';

/**
 * A page purge reaches every server's page cache, not only the one that answered the API: two
 * `wpfleet serve` processes on one store, each with its own cache, as several servers sharing a
 * database run.
 */
describe('page purges across servers', () => {
  let hosted: Hosted | undefined;
  let second: ServeProcess | undefined;
  let install: HostedInstall;
  const h = (): Hosted => {
    if (hosted === undefined) throw new Error('wpfleet serve did not start');
    return hosted;
  };
  const host = 'purgeblog.localhost';
  // Both servers are asked with the first one's address, which WordPress knows as its home
  // (a visitor behind a load balancer would ask exactly so); any other port is redirected there.
  const visit = (base: string) =>
    siteRequest(base, host, '/', { headers: { host: `${host}:${h().port}` } });
  const cacheOf = async (base: string) => (await visit(base)).headers['x-cache'];

  beforeAll(async () => {
    hosted = await startHosted();
    const created = await h().api<HostedInstall>('POST', '/v1/installs', {
      name: 'purgeblog',
      account_id: h().accountId,
    });
    install = await h().waitActive(created.body.id);
    // The second server serves the same installs and runs no jobs: only the store links them.
    second = await startServe({ ...h().store.env, WPFLEET_JOBS: 'false' });
  });

  afterAll(async () => {
    await second?.stop();
    await hosted?.stop();
  });

  const warm = async (base: string) => {
    await visit(base);
    expect(await cacheOf(base)).toBe('HIT');
  };

  it('empties the other server cache soon after an API purge', async () => {
    const other = second?.url ?? '';
    await warm(h().serve.url);
    await warm(other);
    const purge = await h().api('POST', `/v1/installs/${install.id}/purge_cache`, {
      type: 'page',
    });
    expect(purge.status).toBe(202);
    expect(await cacheOf(h().serve.url)).toBe('MISS');
    // The other server learns of it from the install's row, which its edge rereads every 2 s.
    await waitFor(
      'the other server to drop its cached page',
      async () => ((await cacheOf(other)) === 'MISS' ? true : undefined),
      15_000,
      200,
    );
    expect(await cacheOf(other)).toBe('HIT');
  });

  it('empties both caches after a restore', async () => {
    const backup = await h().api<{ id: string }>('POST', `/v1/installs/${install.id}/backups`, {
      description: 'before',
      notification_emails: ['owner@example.com'],
    });
    expect(backup.status).toBe(202);
    await waitFor(
      'the backup to complete',
      async () => {
        const r = await h().api<{ status: string }>(
          'GET',
          `/v1/installs/${install.id}/backups/${backup.body.id}`,
        );
        return r.body.status === 'completed' ? true : undefined;
      },
      120_000,
      500,
    );
    const other = second?.url ?? '';
    await warm(h().serve.url);
    await warm(other);
    const restored = await runCli(
      ['backups', 'restore', 'purgeblog', backup.body.id],
      h().store.env,
    );
    expect(restored.code, restored.stderr).toBe(0);
    for (const base of [h().serve.url, other]) {
      await waitFor(
        'each server to drop its cached page',
        async () => ((await cacheOf(base)) === 'MISS' ? true : undefined),
        15_000,
        200,
      );
    }
  });
});
