import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { notAnsweringHere } from '../../src/core/domains/domain-check.js';
import { DomainChecker } from '../../src/runtime/domain-check/checker.js';
import {
  hasOpenssl,
  selfSigned,
  startDnsServer,
  startHttpServer,
  startHttpsServer,
  type DnsServer,
  type TestServer,
  type Zone,
} from './domain-check-fixtures.js';

const INSTALL_CNAME = 'mysite.wpfleet.test';
const FAR = '203.0.113.5'; // TEST-NET-3: never contacted

const ZONE: Zone = {
  'site.test': {
    A: ['127.0.0.1'],
    NS: ['ns1.dnsprovider.example', 'ns2.dnsprovider.example'],
    MX: [
      { pref: 20, host: 'mx2.mail.example' },
      { pref: 10, host: 'mx1.mail.example' },
    ],
    TXT: ['v=spf1 -all'],
    SOA: {
      mname: 'ns1.dnsprovider.example',
      rname: 'hostmaster.site.test',
      serial: 2024010101,
      refresh: 7200,
      retry: 900,
      expire: 1209600,
      minimum: 300,
    },
    CAA: [{ flag: 0, tag: 'issue', value: 'letsencrypt.org' }],
  },
  'www.site.test': { CNAME: INSTALL_CNAME },
  [INSTALL_CNAME]: { A: ['127.0.0.1'] },
  'v6.site.test': { AAAA: ['::1'] },
  'elsewhere.test': { A: [FAR] },
  'alias.test': { CNAME: 'far.wpfleet.test' },
  'far.wpfleet.test': { A: [FAR] },
  'mailonly.test': { MX: [{ pref: 10, host: 'mx.mail.example' }] },
};

const TARGET = {
  installCname: INSTALL_CNAME,
  installHosts: [INSTALL_CNAME, 'site.test', 'www.site.test', 'v6.site.test'],
};

describe('domain check', () => {
  let dns: DnsServer;
  let wp: TestServer;
  let plain: TestServer;
  let secure: TestServer | null = null;
  let closedPort: number;

  function checker(options: { httpPort?: number; httpsPort?: number; now?: () => Date } = {}) {
    return new DomainChecker({
      platformAddresses: ['127.0.0.1', '::1'],
      dnsServers: [dns.address],
      httpPort: options.httpPort ?? wp.port,
      httpsPort: options.httpsPort ?? secure?.port ?? closedPort,
      timeoutMs: 2000,
      ...(options.now === undefined ? {} : { now: options.now }),
    });
  }

  beforeAll(async () => {
    dns = await startDnsServer(ZONE);
    wp = await startHttpServer('site.test');
    plain = await startHttpServer(null);
    if (hasOpenssl()) {
      secure = await startHttpsServer(selfSigned(['site.test', 'www.site.test'], 30));
    }
    // A port nothing listens on: take one, then let it go.
    const s = net.createServer();
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    closedPort = (s.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) =>
      s.close(() => {
        resolve();
      }),
    );
  });

  afterAll(async () => {
    await dns.close();
    await wp.close();
    await plain.close();
    await secure?.close();
  });

  it('reports a name whose A record is a platform address as pointing here, with its DNS', async () => {
    const status = await checker().check({ ...TARGET, name: 'site.test' });
    expect(status).toMatchObject({
      domain: 'site.test',
      conclusion: 'serving',
      pointsToPlatform: true,
      platformAddresses: ['127.0.0.1'],
      problem: '',
    });
    expect(status.dns).toEqual({
      cnames: [],
      a: ['127.0.0.1'],
      aaaa: [],
      nameServers: ['ns1.dnsprovider.example', 'ns2.dnsprovider.example'],
      mailExchangers: [
        { host: 'mx1.mail.example', priority: 10 },
        { host: 'mx2.mail.example', priority: 20 },
      ],
      txt: ['v=spf1 -all'],
      soa: [
        {
          primaryNameServer: 'ns1.dnsprovider.example',
          hostmaster: 'hostmaster.site.test',
          serial: 2024010101,
          refresh: 7200,
          retry: 900,
          expire: 1209600,
          minimumTtl: 300,
        },
      ],
      caa: [{ flags: 0, tag: 'issue', value: 'letsencrypt.org' }],
      provider: 'dnsprovider.example',
      failed: false,
      failures: [],
    });
    expect(notAnsweringHere(status)).toBe(false);
    expect(status.http).toEqual([
      {
        address: '127.0.0.1',
        port: wp.port,
        status: 200,
        location: null,
        wordpress: true,
        thisInstall: true,
        error: null,
      },
    ]);
    // The request carried the domain as its Host.
    expect(wp.seen.at(-1)).toEqual({ host: 'site.test', url: '/' });
    expect(Date.parse(status.checkedAt ?? '')).not.toBeNaN();
  });

  it.skipIf(!hasOpenssl())('reads the TLS certificate on the HTTPS port', async () => {
    const status = await checker().check({ ...TARGET, name: 'site.test' });
    const tls = status.tls;
    expect(tls).toMatchObject({
      status: 'unverified',
      commonName: 'site.test',
      issuer: 'site.test',
      dnsNames: ['site.test', 'www.site.test'],
      altNames: ['DNS:site.test', 'DNS:www.site.test'],
      nameMatches: true,
      address: '127.0.0.1',
      port: secure?.port,
    });
    expect(tls.subject).toMatchObject({ CN: 'site.test', O: 'wpfleet test' });
    // Self-signed: facts read, but not trusted.
    expect(tls.problem).toMatch(/SELF_SIGNED|self.signed/i);
    expect(tls.daysLeft === 29 || tls.daysLeft === 30).toBe(true);
    expect(Date.parse(tls.validUntil) - Date.parse(tls.validFrom)).toBe(30 * 86_400_000);
    expect(tls.serialNumber).toMatch(/^[0-9A-F]+$/);

    // A name the certificate does not cover, and a clock past its end.
    const later = checker({ now: () => new Date(Date.now() + 100 * 86_400_000) });
    const v6 = await later.check({ ...TARGET, name: 'v6.site.test' });
    expect(v6.tls.address).toBe('::1');
    // The https test server listens on 127.0.0.1 only: ::1 refuses.
    expect(v6.tls.status).toBe('unavailable');
    const expired = await later.check({ ...TARGET, name: 'site.test' });
    expect(expired.tls.daysLeft).toBeLessThan(-60);
    expect(expired.tls).toMatchObject({ status: 'unverified', problem: 'CERT_HAS_EXPIRED' });
    expect(secure?.seen.length).toBe(0); // TLS facts only: no HTTP request over it
  });

  it('follows a CNAME to the install cname', async () => {
    const status = await checker().check({ ...TARGET, name: 'www.site.test' });
    expect(status).toMatchObject({
      pointsToPlatform: true,
      conclusion: 'serving',
      // NS of the nearest zone that has them.
      dns: { cnames: [INSTALL_CNAME], a: ['127.0.0.1'], provider: 'dnsprovider.example' },
    });
    expect(wp.seen.at(-1)?.host).toBe('www.site.test');
  });

  it('reports a name elsewhere as not pointing here, and contacts nothing', async () => {
    const connect = vi.spyOn(net.Socket.prototype, 'connect');
    try {
      const before = wp.seen.length;
      const status = await checker().check({ ...TARGET, name: 'elsewhere.test' });
      expect(status).toMatchObject({
        dns: { a: [FAR], aaaa: [], failed: false },
        platformAddresses: [],
        pointsToPlatform: false,
        conclusion: 'points_elsewhere',
        http: [],
      });
      expect(notAnsweringHere(status)).toBe(false);
      expect(status.tls.status).toBe('not_checked');
      expect(wp.seen.length).toBe(before);
      expect(JSON.stringify(connect.mock.calls)).not.toContain(FAR);
    } finally {
      connect.mockRestore();
    }
  });

  it("counts a CNAME to the install's cname as pointing here, but only contacts our addresses", async () => {
    const connect = vi.spyOn(net.Socket.prototype, 'connect');
    try {
      const status = await checker().check({
        ...TARGET,
        installCname: 'far.wpfleet.test',
        name: 'alias.test',
      });
      expect(status).toMatchObject({
        dns: { cnames: ['far.wpfleet.test'], a: [FAR], aaaa: [] },
        platformAddresses: [],
        pointsToPlatform: true,
        conclusion: 'not_serving',
        http: [],
      });
      expect(notAnsweringHere(status)).toBe(true);
      expect(JSON.stringify(connect.mock.calls)).not.toContain(FAR);
    } finally {
      connect.mockRestore();
    }
  });

  it('reports NXDOMAIN as a DNS error', async () => {
    const status = await checker().check({ ...TARGET, name: 'nx.test' });
    expect(status).toMatchObject({
      conclusion: 'unresolved',
      dns: { failed: true, a: [], aaaa: [] },
      pointsToPlatform: false,
      http: [],
    });
    expect(status.dns.failures.map((e) => [e.type, e.code])).toEqual([
      ['A', 'ENOTFOUND'],
      ['AAAA', 'ENOTFOUND'],
    ]);
    expect(status.tls.status).toBe('not_checked');
  });

  it('is not a DNS error for a name that exists without addresses', async () => {
    const status = await checker().check({ ...TARGET, name: 'mailonly.test' });
    expect(status).toMatchObject({
      conclusion: 'points_elsewhere',
      dns: {
        failed: false,
        mailExchangers: [{ host: 'mx.mail.example', priority: 10 }],
        failures: [],
      },
    });
  });

  it('records a server that is not this install, a refused port and a dead resolver per check', async () => {
    const notWp = await new DomainChecker({
      platformAddresses: ['127.0.0.1'],
      dnsServers: [dns.address],
      httpPort: plain.port,
      httpsPort: closedPort,
      timeoutMs: 2000,
    }).check({ ...TARGET, name: 'site.test' });
    expect(notWp).toMatchObject({ conclusion: 'not_serving', pointsToPlatform: true });
    expect(notAnsweringHere(notWp)).toBe(true);
    expect(notWp.http[0]).toMatchObject({ status: 200, wordpress: false, thisInstall: false });
    expect(notWp.tls).toMatchObject({ status: 'unavailable', problem: 'ECONNREFUSED' });

    // WordPress, but another install's (its pages name other hosts).
    const other = await checker().check({
      name: 'site.test',
      installCname: 'other.wpfleet.test',
      installHosts: ['other.wpfleet.test'],
    });
    expect(other.http[0]).toMatchObject({ wordpress: true, thisInstall: false });
    expect(other.conclusion).toBe('not_serving');

    const refused = await checker({ httpPort: closedPort }).check({ ...TARGET, name: 'site.test' });
    expect(refused.http[0]).toMatchObject({ status: null, wordpress: false });
    expect(refused.http[0]?.error).toMatch(/ECONNREFUSED/);
    expect(refused.conclusion).toBe('not_serving');

    // A resolver that never answers: the lookups time out, the check still completes.
    const silent = await import('node:dgram').then((d) => d.createSocket('udp4'));
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    try {
      const deaf = await new DomainChecker({
        platformAddresses: ['127.0.0.1'],
        dnsServers: [`127.0.0.1:${silent.address().port}`],
        timeoutMs: 300,
      }).check({ ...TARGET, name: 'site.test' });
      expect(deaf).toMatchObject({ conclusion: 'unresolved', dns: { failed: true } });
      expect(deaf.dns.failures.map((e) => e.code)).toContain('ETIMEOUT');
    } finally {
      silent.close();
    }
  });

  it('picks a non-loopback platform address as the one to point at', () => {
    expect(new DomainChecker({ platformAddresses: ['127.0.0.1', '192.0.2.7'] }).installIp).toBe(
      '192.0.2.7',
    );
    expect(new DomainChecker({ platformAddresses: ['127.0.0.1'] }).installIp).toBe('127.0.0.1');
    const c = new DomainChecker({ platformAddresses: ['2001:db8::1'] });
    expect(c.isPlatformAddress('2001:0db8:0:0::0001')).toBe(true);
    expect(c.isPlatformAddress('2001:db8::2')).toBe(false);
  });
});

describe('domain check config', () => {
  const data = { data: '/tmp/wpfleet-config-test' };

  it('reads WPFLEET_PUBLIC_ADDRESSES and WPFLEET_DNS_SERVERS', () => {
    const config = loadConfig(data, {
      WPFLEET_PUBLIC_ADDRESSES: ' 1.2.3.4, 2001:db8::1 ,1.2.3.4',
      WPFLEET_DNS_SERVERS: '9.9.9.9,127.0.0.1:5353,[2001:db8::53]:53',
    });
    expect(config.publicAddresses).toEqual(['1.2.3.4', '2001:db8::1']);
    expect(config.dnsServers).toEqual(['9.9.9.9', '127.0.0.1:5353', '[2001:db8::53]:53']);
  });

  it("defaults to the machine's addresses and loopback, and the system resolver", () => {
    const config = loadConfig(data, {});
    expect(config.publicAddresses).toEqual(expect.arrayContaining(['127.0.0.1', '::1']));
    expect(config.dnsServers).toEqual([]);
  });

  it('refuses what is not an address', () => {
    expect(() => loadConfig(data, { WPFLEET_PUBLIC_ADDRESSES: '1.2.3.4,example.com' })).toThrow(
      ConfigError,
    );
    expect(() => loadConfig(data, { WPFLEET_DNS_SERVERS: 'dns.example:53' })).toThrow(
      /WPFLEET_DNS_SERVERS/,
    );
    expect(() => loadConfig(data, { WPFLEET_DNS_SERVERS: '127.0.0.1:99999' })).toThrow(
      /WPFLEET_DNS_SERVERS/,
    );
  });
});
