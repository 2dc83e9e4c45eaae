/**
 * Domain check results as wpfleet 0.1 stored them: WP Engine's DomainStatusReport itself. Jobs
 * that ran under 0.1 keep that result in users' databases; it is read here and converted to
 * wpfleet's own description (domain-check.ts), from which every dialect words its answer.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import {
  DnsLookupFailure,
  TlsStatus,
  type DomainCheck,
  type DomainCheckConclusion,
  type DomainCheckRun,
} from './domain-check.js';

const Strings = Type.Array(Type.String());

const V01_RESULTS = ['ok', 'http_error', 'not_pointed', 'dns_error', 'error', 'pending'] as const;
const V01Result = Type.Union(V01_RESULTS.map((r) => Type.Literal(r)));

const V01Status = Type.Object({
  name: Type.String(),
  cname: Type.String(),
  a_record: Type.String(),
  aaaa_record: Type.String(),
  result: V01Result,
  dns_provider: Type.String(),
  dns_error: Type.Boolean(),
  ns: Type.Array(Type.Object({ host: Type.String() })),
  mx: Type.Array(Type.Object({ Host: Type.String(), Pref: Type.Integer() })),
  txt: Strings,
  soa: Type.Array(
    Type.Object({
      ns: Type.String(),
      mbox: Type.String(),
      serial: Type.Integer(),
      refresh: Type.Integer(),
      retry: Type.Integer(),
      expire: Type.Integer(),
      minttl: Type.Integer(),
    }),
  ),
  caa: Type.Array(Type.Object({ flag: Type.Integer(), tag: Type.String(), value: Type.String() })),
  ip: Strings,
  address: Strings,
  ssl: Type.Object({
    status: TlsStatus,
    issuer: Type.String(),
    not_before: Type.String(),
    not_after: Type.String(),
    error: Type.String(),
    dns_names: Strings,
    serial_number: Type.String(),
    subject: Type.Record(Type.String(), Type.String()),
    common_name: Type.String(),
    sans: Strings,
    days_left: Type.Union([Type.Integer(), Type.Null()]),
    name_matches: Type.Boolean(),
    address: Type.String(),
    port: Type.Integer(),
  }),
  points_to_platform: Type.Boolean(),
  dns_errors: Type.Array(DnsLookupFailure),
  http: Type.Array(
    Type.Object({
      address: Type.String(),
      port: Type.Integer(),
      status: Type.Union([Type.Integer(), Type.Null()]),
      location: Type.Union([Type.String(), Type.Null()]),
      wordpress: Type.Boolean(),
      this_install: Type.Boolean(),
      error: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
  checked_at: Type.Union([Type.String(), Type.Null()]),
  error: Type.String(),
});

const V01Report = Type.Object({
  install_name: Type.String(),
  install_ip: Type.String(),
  domains: Type.Array(V01Status),
});

const CONCLUSIONS: Record<Static<typeof V01Result>, DomainCheckConclusion> = {
  ok: 'serving',
  http_error: 'not_serving',
  not_pointed: 'points_elsewhere',
  dns_error: 'unresolved',
  error: 'not_run',
  pending: 'pending',
};

function checkOf(s: Static<typeof V01Status>): DomainCheck {
  // 0.1 listed every A address, then every AAAA one, in `ip`; its first CNAME in `cname`.
  const v6 = (a: string): boolean => a.includes(':');
  return {
    domain: s.name,
    conclusion: CONCLUSIONS[s.result],
    checkedAt: s.checked_at,
    problem: s.error,
    dns: {
      cnames: s.cname === '' ? [] : [s.cname],
      a: s.ip.filter((a) => !v6(a)),
      aaaa: s.ip.filter(v6),
      nameServers: s.ns.map((n) => n.host),
      mailExchangers: s.mx.map((m) => ({ host: m.Host, priority: m.Pref })),
      txt: s.txt,
      soa: s.soa.map((r) => ({
        primaryNameServer: r.ns,
        hostmaster: r.mbox,
        serial: r.serial,
        refresh: r.refresh,
        retry: r.retry,
        expire: r.expire,
        minimumTtl: r.minttl,
      })),
      caa: s.caa.map((c) => ({ flags: c.flag, tag: c.tag, value: c.value })),
      provider: s.dns_provider,
      failed: s.dns_error,
      failures: s.dns_errors,
    },
    pointsToPlatform: s.points_to_platform,
    platformAddresses: s.address,
    http: s.http.map((p) => ({
      address: p.address,
      port: p.port,
      status: p.status,
      location: p.location,
      wordpress: p.wordpress,
      thisInstall: p.this_install,
      error: p.error,
    })),
    tls: {
      status: s.ssl.status,
      issuer: s.ssl.issuer,
      validFrom: s.ssl.not_before,
      validUntil: s.ssl.not_after,
      problem: s.ssl.error,
      dnsNames: s.ssl.dns_names,
      serialNumber: s.ssl.serial_number,
      subject: s.ssl.subject,
      commonName: s.ssl.common_name,
      altNames: s.ssl.sans,
      daysLeft: s.ssl.days_left,
      nameMatches: s.ssl.name_matches,
      address: s.ssl.address,
      port: s.ssl.port,
    },
  };
}

/** A result stored by wpfleet 0.1, converted; undefined when `stored` is not one. */
export function fromV01Result(stored: unknown): DomainCheckRun | undefined {
  if (!Value.Check(V01Report, stored)) return undefined;
  return {
    installName: stored.install_name,
    platformAddress: stored.install_ip,
    checks: stored.domains.map(checkOf),
  };
}
