import net from 'node:net';
import {
  noTls,
  type DomainCheck,
  type HttpProbe,
  type TlsFacts,
} from '../../core/domains/domain-check.js';
import { DnsLookup, providerOf } from './dns.js';
import { probeHttp, probeTls } from './probe.js';

export interface DomainCheckerOptions {
  /** The addresses visitors reach this platform at (config `publicAddresses`). */
  platformAddresses: readonly string[];
  /** DNS servers to ask (`ip`, `ip:port`); empty: the system's. */
  dnsServers?: readonly string[];
  /** Where the HTTP and TLS checks knock: 80 and 443 unless a test says otherwise. */
  httpPort?: number;
  httpsPort?: number;
  /** Per DNS query, HTTP request and TLS handshake. */
  timeoutMs?: number;
  now?: () => Date;
}

export interface CheckTarget {
  /** The domain's name. */
  name: string;
  /** `<install>.<base domain>`. */
  installCname: string;
  /** Every name of the install (its domains and cname): a page naming one is this install's. */
  installHosts: readonly string[];
}

/** At most this many of a name's platform addresses get an HTTP request. */
const MAX_PROBES = 4;

function family(address: string): 'ipv4' | 'ipv6' {
  return net.isIPv6(address) ? 'ipv6' : 'ipv4';
}

/**
 * Checks a domain: DNS (A, AAAA, CNAME, NS, MX, TXT, SOA, CAA), whether it points at this
 * platform, an HTTP request with its Host to each of its platform addresses, and the TLS
 * certificate on 443. It only ever connects to the platform's own addresses or to loopback,
 * never to an address DNS hands it otherwise. Every failure is recorded in the status; `check`
 * does not throw for a domain's trouble.
 */
export class DomainChecker {
  private readonly platform = new net.BlockList();
  /** Addresses the checks may contact: the platform's and loopback. */
  private readonly contactable = new net.BlockList();
  private readonly dns: DnsLookup;
  private readonly httpPort: number;
  private readonly httpsPort: number;
  private readonly timeoutMs: number;
  private readonly now: () => Date;
  /** The platform's first non-loopback address, else its first: where visitors should point. */
  readonly installIp: string;

  constructor(options: DomainCheckerOptions) {
    for (const a of options.platformAddresses) {
      if (net.isIP(a) === 0) continue;
      this.platform.addAddress(a, family(a));
      this.contactable.addAddress(a, family(a));
    }
    this.contactable.addSubnet('127.0.0.0', 8, 'ipv4');
    this.contactable.addAddress('::1', 'ipv6');
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.dns = new DnsLookup({ servers: options.dnsServers ?? [], timeoutMs: this.timeoutMs });
    this.httpPort = options.httpPort ?? 80;
    this.httpsPort = options.httpsPort ?? 443;
    this.now = options.now ?? (() => new Date());
    const loopback = (a: string): boolean => a === '::1' || a.startsWith('127.');
    this.installIp =
      options.platformAddresses.find((a) => net.isIP(a) !== 0 && !loopback(a)) ??
      options.platformAddresses[0] ??
      '';
  }

  isPlatformAddress(address: string): boolean {
    return net.isIP(address) !== 0 && this.platform.check(address, family(address));
  }

  async check(target: CheckTarget): Promise<DomainCheck> {
    const name = target.name.toLowerCase().replace(/\.$/, '');
    const cnameTarget = target.installCname.toLowerCase();
    const dns = await this.dns.facts(name);
    const ip = [...dns.a, ...dns.aaaa];
    const ours = ip.filter((a) => this.isPlatformAddress(a));
    const viaCname = dns.cnames.includes(cnameTarget);
    const pointsHere = ours.length > 0 || viaCname;

    const hosts = new Set([...target.installHosts, cnameTarget].map((h) => h.toLowerCase()));
    // Only addresses of ours (or loopback) are ever contacted.
    const toProbe = pointsHere
      ? ip.filter((a) => this.contactable.check(a, family(a))).slice(0, MAX_PROBES)
      : [];
    const http: HttpProbe[] = await Promise.all(
      toProbe.map((a) => probeHttp(a, this.httpPort, name, hosts, this.timeoutMs)),
    );
    const first = toProbe[0];
    const tls: TlsFacts =
      first === undefined
        ? noTls('not_checked')
        : await probeTls(first, this.httpsPort, name, this.timeoutMs, this.now);

    const answeredHere = http.some((p) => p.thisInstall);
    const conclusion = dns.failed
      ? 'unresolved'
      : !pointsHere
        ? 'points_elsewhere'
        : answeredHere
          ? 'serving'
          : 'not_serving';
    const firstNs = dns.nameServers[0];
    return {
      domain: name,
      conclusion,
      checkedAt: this.now().toISOString(),
      problem: '',
      dns: { ...dns, provider: firstNs === undefined ? '' : providerOf(firstNs) },
      pointsToPlatform: pointsHere,
      platformAddresses: ours,
      http,
      tls,
    };
  }
}
