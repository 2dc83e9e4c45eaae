import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
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
  installName: 'mysite',
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
      name: 'site.test',
      a_record: '127.0.0.1',
      aaaa_record: '',
      cname: '',
      complete: true,
      result: 'ok',
      dns_error: false,
      http_error: false,
      points_to_platform: true,
      install_name: 'mysite',
      ip: ['127.0.0.1'],
      address: ['127.0.0.1'],
      dns_provider: 'dnsprovider.example',
      ns: [{ host: 'ns1.dnsprovider.example' }, { host: 'ns2.dnsprovider.example' }],
      mx: [
        { Host: 'mx1.mail.example', Pref: 10 },
        { Host: 'mx2.mail.example', Pref: 20 },
      ],
      txt: ['v=spf1 -all'],
      soa: [
        {
          ns: 'ns1.dnsprovider.example',
          mbox: 'hostmaster.site.test',
          serial: 2024010101,
          refresh: 7200,
          retry: 900,
          expire: 1209600,
          minttl: 300,
        },
      ],
      caa: [{ flag: 0, tag: 'issue', value: 'letsencrypt.org' }],
      dns_errors: [],
      error: '',
    });
    expect(status.http).toEqual([
      {
        address: '127.0.0.1',
        port: wp.port,
        status: 200,
        location: null,
        wordpress: true,
        this_install: true,
        error: null,
      },
    ]);
    // The request carried the domain as its Host.
    expect(wp.seen.at(-1)).toEqual({ host: 'site.test', url: '/' });
    expect(Date.parse(status.checked_at ?? '')).not.toBeNaN();
  });

  it.skipIf(!hasOpenssl())('reads the TLS certificate on the HTTPS port', async () => {
    const status = await checker().check({ ...TARGET, name: 'site.test' });
    const ssl = status.ssl;
    expect(ssl).toMatchObject({
      status: 'unverified',
      common_name: 'site.test',
      issuer: 'site.test',
      dns_names: ['site.test', 'www.site.test'],
      sans: ['DNS:site.test', 'DNS:www.site.test'],
      name_matches: true,
      address: '127.0.0.1',
      port: secure?.port,
    });
    expect(ssl.subject).toMatchObject({ CN: 'site.test', O: 'wpfleet test' });
    // Self-signed: facts read, but not trusted.
    expect(ssl.error).toMatch(/SELF_SIGNED|self.signed/i);
    expect(ssl.days_left === 29 || ssl.days_left === 30).toBe(true);
    expect(Date.parse(ssl.not_after) - Date.parse(ssl.not_before)).toBe(30 * 86_400_000);
    expect(ssl.serial_number).toMatch(/^[0-9A-F]+$/);

    // A name the certificate does not cover, and a clock past its end.
    const later = checker({ now: () => new Date(Date.now() + 100 * 86_400_000) });
    const v6 = await later.check({ ...TARGET, name: 'v6.site.test' });
    expect(v6.ssl.address).toBe('::1');
    // The https test server listens on 127.0.0.1 only: ::1 refuses.
    expect(v6.ssl.status).toBe('unavailable');
    const expired = await later.check({ ...TARGET, name: 'site.test' });
    expect(expired.ssl.days_left).toBeLessThan(-60);
    expect(expired.ssl).toMatchObject({ status: 'unverified', error: 'CERT_HAS_EXPIRED' });
    expect(secure?.seen.length).toBe(0); // TLS facts only: no HTTP request over it
  });

  it('follows a CNAME to the install cname', async () => {
    const status = await checker().check({ ...TARGET, name: 'www.site.test' });
    expect(status).toMatchObject({
      cname: INSTALL_CNAME,
      a_record: '127.0.0.1',
      points_to_platform: true,
      result: 'ok',
      // NS of the nearest zone that has them.
      dns_provider: 'dnsprovider.example',
    });
    expect(wp.seen.at(-1)?.host).toBe('www.site.test');
  });

  it('reports a name elsewhere as not pointing here, and contacts nothing', async () => {
    const connect = vi.spyOn(net.Socket.prototype, 'connect');
    try {
      const before = wp.seen.length;
      const status = await checker().check({ ...TARGET, name: 'elsewhere.test' });
      expect(status).toMatchObject({
        a_record: FAR,
        ip: [FAR],
        address: [],
        points_to_platform: false,
        result: 'not_pointed',
        dns_error: false,
        http_error: false,
        http: [],
      });
      expect(status.ssl.status).toBe('not_checked');
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
        cname: 'far.wpfleet.test',
        ip: [FAR],
        address: [],
        points_to_platform: true,
        result: 'http_error',
        http_error: true,
        http: [],
      });
      expect(JSON.stringify(connect.mock.calls)).not.toContain(FAR);
    } finally {
      connect.mockRestore();
    }
  });

  it('reports NXDOMAIN as a DNS error', async () => {
    const status = await checker().check({ ...TARGET, name: 'nx.test' });
    expect(status).toMatchObject({
      result: 'dns_error',
      dns_error: true,
      complete: true,
      points_to_platform: false,
      ip: [],
      http: [],
    });
    expect(status.dns_errors.map((e) => [e.type, e.code])).toEqual([
      ['A', 'ENOTFOUND'],
      ['AAAA', 'ENOTFOUND'],
    ]);
    expect(status.ssl.status).toBe('not_checked');
  });

  it('is not a DNS error for a name that exists without addresses', async () => {
    const status = await checker().check({ ...TARGET, name: 'mailonly.test' });
    expect(status).toMatchObject({
      result: 'not_pointed',
      dns_error: false,
      mx: [{ Host: 'mx.mail.example', Pref: 10 }],
      dns_errors: [],
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
    expect(notWp).toMatchObject({
      result: 'http_error',
      http_error: true,
      points_to_platform: true,
    });
    expect(notWp.http[0]).toMatchObject({ status: 200, wordpress: false, this_install: false });
    expect(notWp.ssl).toMatchObject({ status: 'unavailable', error: 'ECONNREFUSED' });

    // WordPress, but another install's (its pages name other hosts).
    const other = await checker().check({
      name: 'site.test',
      installName: 'other',
      installCname: 'other.wpfleet.test',
      installHosts: ['other.wpfleet.test'],
    });
    expect(other.http[0]).toMatchObject({ wordpress: true, this_install: false });
    expect(other.result).toBe('http_error');

    const refused = await checker({ httpPort: closedPort }).check({ ...TARGET, name: 'site.test' });
    expect(refused.http[0]).toMatchObject({ status: null, wordpress: false });
    expect(refused.http[0]?.error).toMatch(/ECONNREFUSED/);
    expect(refused.result).toBe('http_error');

    // A resolver that never answers: the lookups time out, the check still completes.
    const silent = await import('node:dgram').then((d) => d.createSocket('udp4'));
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    try {
      const deaf = await new DomainChecker({
        platformAddresses: ['127.0.0.1'],
        dnsServers: [`127.0.0.1:${silent.address().port}`],
        timeoutMs: 300,
      }).check({ ...TARGET, name: 'site.test' });
      expect(deaf).toMatchObject({ complete: true, result: 'dns_error', dns_error: true });
      expect(deaf.dns_errors.map((e) => e.code)).toContain('ETIMEOUT');
    } finally {
      silent.close();
    }
  });

  it('picks a non-loopback platform address as install_ip', () => {
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
