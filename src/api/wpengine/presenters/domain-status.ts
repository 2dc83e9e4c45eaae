import {
  notAnsweringHere,
  type DomainCheck,
  type DomainCheckConclusion,
  type DomainCheckReport,
  type TlsFacts,
} from '../../../core/domains/domain-check.js';
import type { DomainStatusReportBody } from '../schemas/domain-status.js';

type DomainStatusBody = DomainStatusReportBody['domains'][number];

/** WP Engine's `result` for each conclusion (its values are ours: WP Engine leaves them open). */
const RESULTS: Record<DomainCheckConclusion, DomainStatusBody['result']> = {
  serving: 'ok',
  not_serving: 'http_error',
  points_elsewhere: 'not_pointed',
  unresolved: 'dns_error',
  not_run: 'error',
  pending: 'pending',
};

function ssl(t: TlsFacts): DomainStatusBody['ssl'] {
  return {
    status: t.status,
    issuer: t.issuer,
    not_before: t.validFrom,
    not_after: t.validUntil,
    error: t.problem,
    dns_names: t.dnsNames,
    serial_number: t.serialNumber,
    subject: { ...t.subject },
    common_name: t.commonName,
    sans: t.altNames,
    days_left: t.daysLeft,
    name_matches: t.nameMatches,
    address: t.address,
    port: t.port,
  };
}

function domainStatus(c: DomainCheck, installName: string): DomainStatusBody {
  const { dns } = c;
  return {
    name: c.domain,
    cname: dns.cnames[0] ?? '',
    a_record: dns.a[0] ?? '',
    aaaa_record: dns.aaaa[0] ?? '',
    complete: c.conclusion !== 'pending',
    result: RESULTS[c.conclusion],
    dns_provider: dns.provider,
    dns_error: dns.failed,
    http_error: notAnsweringHere(c),
    install_name: installName,
    ns: dns.nameServers.map((host) => ({ host })),
    mx: dns.mailExchangers.map((m) => ({ Host: m.host, Pref: m.priority })),
    txt: dns.txt,
    soa: dns.soa.map((s) => ({
      ns: s.primaryNameServer,
      mbox: s.hostmaster,
      serial: s.serial,
      refresh: s.refresh,
      retry: s.retry,
      expire: s.expire,
      minttl: s.minimumTtl,
    })),
    caa: dns.caa.map((r) => ({ flag: r.flags, tag: r.tag, value: r.value })),
    ip: [...dns.a, ...dns.aaaa],
    address: c.platformAddresses,
    ssl: ssl(c.tls),
    points_to_platform: c.pointsToPlatform,
    dns_errors: dns.failures.map((f) => ({ type: f.type, code: f.code, message: f.message })),
    http: c.http.map((p) => ({
      address: p.address,
      port: p.port,
      status: p.status,
      location: p.location,
      wordpress: p.wordpress,
      this_install: p.thisInstall,
      error: p.error,
    })),
    checked_at: c.checkedAt,
    error: c.problem,
  };
}

/** A domain check as WP Engine's DomainStatusReport (Customer API 1.10+, with our additions). */
export function presentDomainStatusReport(r: DomainCheckReport): DomainStatusReportBody {
  return {
    complete: r.complete,
    id: r.id,
    install_name: r.installName,
    install_ip: r.platformAddress,
    // WP Engine's flag for reports its staff asked for: never, here.
    admin: false,
    domains: r.checks.map((c) => domainStatus(c, r.installName)),
  };
}
