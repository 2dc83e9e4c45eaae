import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runnable } from '../../src/core/jobs/job-contract.js';
import { JobRunner } from '../../src/jobs/runner.js';
import { domainCheckHandler } from '../../src/runtime/domain-check/handler.js';
import { ENGINES } from '../helpers/engines.js';
import { startHarness, type Harness, type Tenant } from '../helpers/harness.js';
import {
  startDnsServer,
  startHttpServer,
  type DnsServer,
  type TestServer,
} from '../runtime/domain-check-fixtures.js';

interface Install {
  id: string;
  name: string;
  cname: string;
}

interface Domain {
  id: string;
  name: string;
}

interface DomainStatus {
  name: string;
  complete: boolean;
  result: string;
  a_record: string;
  points_to_platform: boolean;
  install_name: string;
  http: { status: number | null; wordpress: boolean; this_install: boolean }[];
  ssl: { status: string; error: string };
  checked_at: string | null;
  [key: string]: unknown;
}

interface Report {
  report: {
    complete: boolean;
    id: string;
    install_name: string;
    install_ip: string;
    admin: boolean;
    domains: DomainStatus[];
  };
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Every field of WP Engine's DomainStatus that we fill, and ours. */
const DOMAIN_STATUS_KEYS = [
  'name',
  'cname',
  'a_record',
  'aaaa_record',
  'complete',
  'result',
  'dns_provider',
  'dns_error',
  'http_error',
  'install_name',
  'ns',
  'mx',
  'txt',
  'soa',
  'caa',
  'ip',
  'address',
  'ssl',
  'points_to_platform',
  'dns_errors',
  'http',
  'checked_at',
  'error',
].sort();

describe.each(ENGINES)('domain check_status reports on %s', (engine) => {
  let h: Harness;
  let dns: DnsServer;
  let wp: TestServer;
  let counter = 0;
  const siteHost = `shop.${engine}.example.com`;

  beforeAll(async () => {
    h = await startHarness(engine);
    dns = await startDnsServer({ [siteHost]: { A: ['127.0.0.1'] } });
    wp = await startHttpServer(siteHost);
  });
  afterAll(async () => {
    await h.close();
    await dns.close();
    await wp.close();
  });

  async function createInstall(t: Tenant): Promise<Install> {
    const res = await h.request<Install>('POST', '/v1/installs', {
      auth: t.auth,
      body: { name: `dc${engine.slice(0, 2)}${++counter}`, account_id: t.accountId },
    });
    expect(res.status).toBe(201);
    return res.body;
  }

  async function checkStatus(t: Tenant, install: Install, domainId: string): Promise<string> {
    const res = await h.request<{ report_id: string }>(
      'POST',
      `/v1/installs/${install.id}/domains/${domainId}/check_status`,
      { auth: t.auth },
    );
    expect(res.status).toBe(202);
    return res.body.report_id;
  }

  function getReport(t: Tenant, installId: string, reportId: string) {
    return h.request<Report>('GET', `/v1/installs/${installId}/domains/check_status/${reportId}`, {
      auth: t.auth,
    });
  }

  /** Runs the queued check jobs with the real handler, pointed at the test's DNS and HTTP. */
  async function runChecks(): Promise<void> {
    const runner = new JobRunner(
      h.app.store,
      {
        'domain.check_status': runnable(
          'domain.check_status',
          domainCheckHandler(
            h.app.store,
            {
              publicAddresses: ['127.0.0.1', '192.0.2.10'],
              dnsServers: [dns.address],
              baseDomain: h.app.config.baseDomain,
            },
            { httpPort: wp.port, httpsPort: wp.port, timeoutMs: 2000 },
          ),
        ),
      },
      { concurrency: 2, pollMs: 20, maxAttempts: 1 },
      silent,
    );
    await runner.start();
    try {
      // Until no check is left queued; stop() then waits for the running ones.
      for (let i = 0; i < 250; i++) {
        const queued = await h.app.store.read.jobs.nextDue(new Date().toISOString(), [
          'domain.check_status',
        ]);
        if (queued === undefined) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await runner.stop();
    }
  }

  it('answers complete:false until the check has run, then the stored report', async () => {
    const t = await h.tenant();
    const install = await createInstall(t);
    const added = await h.request<Domain>('POST', `/v1/installs/${install.id}/domains`, {
      auth: t.auth,
      body: { name: siteHost },
    });
    expect(added.status).toBe(201);

    const reportId = await checkStatus(t, install, added.body.id);
    const pending = await getReport(t, install.id, reportId);
    expect(pending.status).toBe(200);
    expect(Object.keys(pending.body)).toEqual(['report']);
    expect(pending.body.report).toMatchObject({
      complete: false,
      id: reportId,
      install_name: install.name,
      admin: false,
    });
    expect(pending.body.report.domains).toHaveLength(1);
    expect(pending.body.report.domains[0]).toMatchObject({
      name: siteHost,
      complete: false,
      result: 'pending',
      checked_at: null,
    });
    expect(Object.keys(pending.body.report.domains[0] ?? {}).sort()).toEqual(DOMAIN_STATUS_KEYS);

    await runChecks();

    const done = await getReport(t, install.id, reportId);
    expect(done.status).toBe(200);
    expect(done.body.report).toMatchObject({
      complete: true,
      id: reportId,
      install_name: install.name,
      install_ip: '192.0.2.10',
      admin: false,
    });
    const [status] = done.body.report.domains;
    expect(Object.keys(status ?? {}).sort()).toEqual(DOMAIN_STATUS_KEYS);
    expect(status).toMatchObject({
      name: siteHost,
      complete: true,
      result: 'ok',
      a_record: '127.0.0.1',
      points_to_platform: true,
      install_name: install.name,
      http: [{ status: 200, wordpress: true, this_install: true }],
    });
    // The HTTP server does not speak TLS: the handshake fails, and says so.
    expect(status?.ssl.status).toBe('unavailable');
    expect(status?.ssl.error).not.toBe('');
    expect(wp.seen.some((r) => r.host === siteHost)).toBe(true);

    // The job's stored result is the check, in wpfleet's own words.
    const job = await h.app.store.read.jobs.findById(t.accountId, reportId);
    expect(job?.state).toBe('succeeded');
    expect(JSON.parse(job?.result ?? '{}')).toMatchObject({
      installName: install.name,
      platformAddress: '192.0.2.10',
      checks: [{ domain: siteHost, conclusion: 'serving' }],
    });
  });

  it('reports the install cname that DNS does not know as a DNS error', async () => {
    const t = await h.tenant();
    const install = await createInstall(t);
    const list = await h.request<{ results: Domain[] }>(
      'GET',
      `/v1/installs/${install.id}/domains`,
      { auth: t.auth },
    );
    const cname = list.body.results.find((d) => d.name === install.cname);
    expect(cname).toBeDefined();
    const reportId = await checkStatus(t, install, cname?.id ?? '');
    await runChecks();
    const done = await getReport(t, install.id, reportId);
    expect(done.body.report.complete).toBe(true);
    expect(done.body.report.domains[0]).toMatchObject({
      name: install.cname,
      result: 'dns_error',
      dns_error: true,
      http: [],
    });
  });

  it("keeps reports to their tenant and install: another's id is 404", async () => {
    const a = await h.tenant();
    const b = await h.tenant();
    const ai = await createInstall(a);
    const aj = await createInstall(a);
    const bi = await createInstall(b);
    const domains = await h.request<{ results: Domain[] }>('GET', `/v1/installs/${ai.id}/domains`, {
      auth: a.auth,
    });
    const reportId = await checkStatus(a, ai, domains.body.results[0]?.id ?? '');
    expect((await getReport(a, ai.id, reportId)).status).toBe(200);

    // Another account: neither through its own install nor through ours.
    const viaOwn = await getReport(b, bi.id, reportId);
    expect(viaOwn.status).toBe(404);
    expect(viaOwn.body).toEqual({ message: 'Not Found' });
    expect((await getReport(b, ai.id, reportId)).status).toBe(404);
    // Another install of the same account.
    expect((await getReport(a, aj.id, reportId)).status).toBe(404);
    // Unknown ids, and ids that are not UUIDs.
    expect((await getReport(a, ai.id, randomUUID())).status).toBe(404);
    expect((await getReport(a, ai.id, 'not-a-uuid')).status).toBe(404);
    // Another job of the install is not a report.
    const purge = await h.request('POST', `/v1/installs/${ai.id}/purge_cache`, {
      auth: a.auth,
      body: { type: 'page' },
    });
    expect(purge.status).toBe(202);
    const jobs = await h.app.store.read.jobs.listForTarget(ai.id);
    const purgeJob = jobs.find((j) => j.type === 'cache.purge');
    expect(purgeJob).toBeDefined();
    expect((await getReport(a, ai.id, purgeJob?.id ?? '')).status).toBe(404);
    // Credentials are required.
    const anonymous = await h.request(
      'GET',
      `/v1/installs/${ai.id}/domains/check_status/${reportId}`,
    );
    expect(anonymous.status).toBe(401);
  });

  it('routes the report path apart from a domain id', async () => {
    const t = await h.tenant();
    const install = await createInstall(t);
    const list = await h.request<{ results: Domain[] }>(
      'GET',
      `/v1/installs/${install.id}/domains`,
      { auth: t.auth },
    );
    const domain = list.body.results[0];
    const get = await h.request<Domain>(
      'GET',
      `/v1/installs/${install.id}/domains/${domain?.id ?? ''}`,
      { auth: t.auth },
    );
    expect(get.status).toBe(200);
    expect(get.body.name).toBe(install.cname);
    const report = await getReport(t, install.id, randomUUID());
    expect(report.status).toBe(404);
    expect(report.body).toEqual({ message: 'Not Found' });
  });
});
