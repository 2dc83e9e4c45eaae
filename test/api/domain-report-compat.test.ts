import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/engines.js';
import { startHarness, type Harness, type Tenant } from '../helpers/harness.js';

/**
 * The exact bytes GET /installs/{id}/domains/check_status/{report_id} answers for a waiting
 * check, a failed one, one that left no report, and a result stored by wpfleet 0.1 (which stored
 * WP Engine's DomainStatusReport itself): captured from 0.1 and compared byte for byte, ids and
 * install names aside.
 */

/** A report as wpfleet 0.1's domain check job stored it, every field filled. */
function legacyResult(id: string): Record<string, unknown> {
  return {
    complete: true,
    id,
    install_name: 'legacyinstall',
    install_ip: '192.0.2.10',
    admin: false,
    domains: [
      {
        name: 'legacy.example.com',
        cname: 'legacyinstall.wpfleet.test',
        a_record: '192.0.2.10',
        aaaa_record: '2001:db8::10',
        complete: true,
        result: 'ok',
        dns_provider: 'dnsprovider.example',
        dns_error: false,
        http_error: false,
        install_name: 'legacyinstall',
        ns: [{ host: 'ns1.dnsprovider.example' }, { host: 'ns2.dnsprovider.example' }],
        mx: [
          { Host: 'mx1.mail.example', Pref: 10 },
          { Host: 'mx2.mail.example', Pref: 20 },
        ],
        txt: ['v=spf1 -all', 'google-site-verification=abc'],
        soa: [
          {
            ns: 'ns1.dnsprovider.example',
            mbox: 'hostmaster.example.com',
            serial: 2024010101,
            refresh: 7200,
            retry: 900,
            expire: 1209600,
            minttl: 300,
          },
        ],
        caa: [{ flag: 0, tag: 'issue', value: 'letsencrypt.org' }],
        ip: ['192.0.2.10', '198.51.100.7', '2001:db8::10'],
        address: ['192.0.2.10', '2001:db8::10'],
        ssl: {
          status: 'verified',
          issuer: 'R11',
          not_before: '2025-01-01T00:00:00.000Z',
          not_after: '2025-04-01T00:00:00.000Z',
          error: '',
          dns_names: ['legacy.example.com', 'www.legacy.example.com'],
          serial_number: '04A1B2',
          subject: { CN: 'legacy.example.com', O: 'Legacy "quoted" Ltd' },
          common_name: 'legacy.example.com',
          sans: ['DNS:legacy.example.com', 'DNS:www.legacy.example.com', 'IP Address:192.0.2.10'],
          days_left: 42,
          name_matches: true,
          address: '192.0.2.10',
          port: 443,
        },
        points_to_platform: true,
        dns_errors: [{ type: 'CAA', code: 'ESERVFAIL', message: 'queryCaa ESERVFAIL x' }],
        http: [
          {
            address: '192.0.2.10',
            port: 80,
            status: 301,
            location: 'https://legacy.example.com/',
            wordpress: true,
            this_install: true,
            error: null,
          },
          {
            address: '2001:db8::10',
            port: 80,
            status: null,
            location: null,
            wordpress: false,
            this_install: false,
            error: 'connect ECONNREFUSED',
          },
        ],
        checked_at: '2025-02-01T12:00:00.000Z',
        error: '',
      },
    ],
  };
}

const PENDING =
  '{"report":{"complete":false,"id":"<ID>","install_name":"<INSTALL>","install_ip":"","admin":false,"domains":[{"name":"pending.<ENGINE>.example.com","cname":"","a_record":"","aaaa_record":"","complete":false,"result":"pending","dns_provider":"","dns_error":false,"http_error":false,"install_name":"<INSTALL>","ns":[],"mx":[],"txt":[],"soa":[],"caa":[],"ip":[],"address":[],"ssl":{"status":"not_checked","issuer":"","not_before":"","not_after":"","error":"","dns_names":[],"serial_number":"","subject":{},"common_name":"","sans":[],"days_left":null,"name_matches":false,"address":"","port":0},"points_to_platform":false,"dns_errors":[],"http":[],"checked_at":null,"error":""}]}}';
const FAILED =
  '{"report":{"complete":true,"id":"<ID>","install_name":"<INSTALL>","install_ip":"","admin":false,"domains":[{"name":"failed.<ENGINE>.example.com","cname":"","a_record":"","aaaa_record":"","complete":true,"result":"error","dns_provider":"","dns_error":false,"http_error":false,"install_name":"<INSTALL>","ns":[],"mx":[],"txt":[],"soa":[],"caa":[],"ip":[],"address":[],"ssl":{"status":"not_checked","issuer":"","not_before":"","not_after":"","error":"","dns_names":[],"serial_number":"","subject":{},"common_name":"","sans":[],"days_left":null,"name_matches":false,"address":"","port":0},"points_to_platform":false,"dns_errors":[],"http":[],"checked_at":null,"error":"resolver exploded"}]}}';
const NO_REPORT =
  '{"report":{"complete":true,"id":"<ID>","install_name":"<INSTALL>","install_ip":"","admin":false,"domains":[{"name":"noreport.<ENGINE>.example.com","cname":"","a_record":"","aaaa_record":"","complete":true,"result":"error","dns_provider":"","dns_error":false,"http_error":false,"install_name":"<INSTALL>","ns":[],"mx":[],"txt":[],"soa":[],"caa":[],"ip":[],"address":[],"ssl":{"status":"not_checked","issuer":"","not_before":"","not_after":"","error":"","dns_names":[],"serial_number":"","subject":{},"common_name":"","sans":[],"days_left":null,"name_matches":false,"address":"","port":0},"points_to_platform":false,"dns_errors":[],"http":[],"checked_at":null,"error":"the check left no report"}]}}';
const LEGACY =
  '{"report":{"complete":true,"id":"<ID>","install_name":"legacyinstall","install_ip":"192.0.2.10","admin":false,"domains":[{"name":"legacy.example.com","cname":"legacyinstall.wpfleet.test","a_record":"192.0.2.10","aaaa_record":"2001:db8::10","complete":true,"result":"ok","dns_provider":"dnsprovider.example","dns_error":false,"http_error":false,"install_name":"legacyinstall","ns":[{"host":"ns1.dnsprovider.example"},{"host":"ns2.dnsprovider.example"}],"mx":[{"Host":"mx1.mail.example","Pref":10},{"Host":"mx2.mail.example","Pref":20}],"txt":["v=spf1 -all","google-site-verification=abc"],"soa":[{"ns":"ns1.dnsprovider.example","mbox":"hostmaster.example.com","serial":2024010101,"refresh":7200,"retry":900,"expire":1209600,"minttl":300}],"caa":[{"flag":0,"tag":"issue","value":"letsencrypt.org"}],"ip":["192.0.2.10","198.51.100.7","2001:db8::10"],"address":["192.0.2.10","2001:db8::10"],"ssl":{"status":"verified","issuer":"R11","not_before":"2025-01-01T00:00:00.000Z","not_after":"2025-04-01T00:00:00.000Z","error":"","dns_names":["legacy.example.com","www.legacy.example.com"],"serial_number":"04A1B2","subject":{"CN":"legacy.example.com","O":"Legacy \\"quoted\\" Ltd"},"common_name":"legacy.example.com","sans":["DNS:legacy.example.com","DNS:www.legacy.example.com","IP Address:192.0.2.10"],"days_left":42,"name_matches":true,"address":"192.0.2.10","port":443},"points_to_platform":true,"dns_errors":[{"type":"CAA","code":"ESERVFAIL","message":"queryCaa ESERVFAIL x"}],"http":[{"address":"192.0.2.10","port":80,"status":301,"location":"https://legacy.example.com/","wordpress":true,"this_install":true,"error":null},{"address":"2001:db8::10","port":80,"status":null,"location":null,"wordpress":false,"this_install":false,"error":"connect ECONNREFUSED"}],"checked_at":"2025-02-01T12:00:00.000Z","error":""}]}}';

describe.each(ENGINES)('domain check reports, byte for byte, on %s', (engine) => {
  let h: Harness;
  let t: Tenant;
  let counter = 0;

  beforeAll(async () => {
    h = await startHarness(engine);
    t = await h.tenant();
  });
  afterAll(async () => {
    await h.close();
  });

  /** A new install with the domain, and a check of it: its report id (one check per install). */
  async function newReport(domainName: string): Promise<{ id: string; installName: string }> {
    const created = await h.request<{ id: string; name: string }>('POST', '/v1/installs', {
      auth: t.auth,
      body: { name: `compat${engine.slice(0, 2)}${++counter}`, account_id: t.accountId },
    });
    expect(created.status).toBe(201);
    const install = created.body;
    const domain = await h.request<{ id: string }>('POST', `/v1/installs/${install.id}/domains`, {
      auth: t.auth,
      body: { name: domainName },
    });
    expect(domain.status).toBe(201);
    const res = await h.request<{ report_id: string }>(
      'POST',
      `/v1/installs/${install.id}/domains/${domain.body.id}/check_status`,
      { auth: t.auth },
    );
    expect(res.status).toBe(202);
    installs.set(res.body.report_id, install);
    return { id: res.body.report_id, installName: install.name };
  }
  const installs = new Map<string, { id: string; name: string }>();

  async function reportText(id: string): Promise<string> {
    const install = installs.get(id);
    const res = await h.request(
      'GET',
      `/v1/installs/${install?.id ?? ''}/domains/check_status/${id}`,
      {
        auth: t.auth,
      },
    );
    expect(res.status).toBe(200);
    return res.text
      .replaceAll(`.${engine}.example.com`, '.<ENGINE>.example.com')
      .replaceAll(id, '<ID>')
      .replaceAll(`"${install?.name ?? ''}"`, '"<INSTALL>"');
  }

  it('answers a waiting check', async () => {
    const { id } = await newReport(`pending.${engine}.example.com`);
    expect(await reportText(id)).toBe(PENDING);
  });

  it('answers a check that failed', async () => {
    const { id } = await newReport(`failed.${engine}.example.com`);
    expect(await h.app.store.read.jobs.claim(id, new Date().toISOString())).toBe(true);
    await h.app.store.read.jobs.fail(id, 'resolver exploded', null, new Date().toISOString());
    expect(await reportText(id)).toBe(FAILED);
  });

  it('answers a check that succeeded without a report', async () => {
    const { id } = await newReport(`noreport.${engine}.example.com`);
    expect(await h.app.store.read.jobs.claim(id, new Date().toISOString())).toBe(true);
    await h.app.store.read.jobs.finish(id, { something: 'else' }, new Date().toISOString());
    expect(await reportText(id)).toBe(NO_REPORT);
  });

  it('answers a report stored by wpfleet 0.1 as 0.1 did', async () => {
    const { id } = await newReport(`legacy.${engine}.example.com`);
    expect(await h.app.store.read.jobs.claim(id, new Date().toISOString())).toBe(true);
    await h.app.store.read.jobs.finish(id, legacyResult(id), new Date().toISOString());
    expect(await reportText(id)).toBe(LEGACY);
  });
});
