/**
 * A domain check in wpfleet's own words: what DNS says about the name, what answered over HTTP
 * and TLS at this platform's addresses, and what that adds up to. Runtime produces it, the job
 * stores it as its result, and each API dialect words it its own way (WP Engine's
 * DomainStatusReport: src/api/wpengine/presenters/domain-status.ts).
 *
 * Declared as schemas because stored results are read back through them: a result that does not
 * match is not trusted.
 */
import { Type, type Static } from '@sinclair/typebox';

export const DOMAIN_CHECK_JOB = 'domain.check_status';

const Strings = Type.Array(Type.String());

export const DomainCheckConclusion = Type.Union([
  /** Points at this platform, and this install answered over HTTP. */
  Type.Literal('serving'),
  /** Points at this platform, but no HTTP answer came from this install. */
  Type.Literal('not_serving'),
  /** Resolves, but neither to this platform's addresses nor through the install's cname. */
  Type.Literal('points_elsewhere'),
  /** The name could not be resolved (NXDOMAIN, no answer, or the resolver failed). */
  Type.Literal('unresolved'),
  /** The check could not run (the domain was deleted, say); `problem` says why. */
  Type.Literal('not_run'),
  /** Not checked yet. */
  Type.Literal('pending'),
]);
export type DomainCheckConclusion = Static<typeof DomainCheckConclusion>;

export const DNS_RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'NS', 'MX', 'TXT', 'SOA', 'CAA'] as const;

/** A lookup that failed other than by the record type being absent. */
export const DnsLookupFailure = Type.Object({
  type: Type.Union(DNS_RECORD_TYPES.map((t) => Type.Literal(t))),
  code: Type.String(),
  message: Type.String(),
});
export type DnsLookupFailure = Static<typeof DnsLookupFailure>;

export const SoaRecord = Type.Object({
  primaryNameServer: Type.String(),
  hostmaster: Type.String(),
  serial: Type.Integer(),
  refresh: Type.Integer(),
  retry: Type.Integer(),
  expire: Type.Integer(),
  minimumTtl: Type.Integer(),
});
export type SoaRecord = Static<typeof SoaRecord>;

export const CaaRecord = Type.Object({
  flags: Type.Integer(),
  tag: Type.String(),
  value: Type.String(),
});
export type CaaRecord = Static<typeof CaaRecord>;

export const DnsFacts = Type.Object({
  /** The name's CNAME targets, lower case, without the final dot. */
  cnames: Strings,
  a: Strings,
  aaaa: Strings,
  /** The zone's name servers: the name's own, or its nearest parent's. */
  nameServers: Strings,
  /** By priority, lowest first. */
  mailExchangers: Type.Array(Type.Object({ host: Type.String(), priority: Type.Integer() })),
  txt: Strings,
  soa: Type.Array(SoaRecord),
  caa: Type.Array(CaaRecord),
  /** The registrable domain of the first name server (e.g. `cloudflare.com`), or ''. */
  provider: Type.String(),
  /** Neither the A nor the AAAA lookup could be answered. */
  failed: Type.Boolean(),
  failures: Type.Array(DnsLookupFailure),
});
export type DnsFacts = Static<typeof DnsFacts>;

/** One HTTP request, with the domain as Host, to one of the domain's platform addresses. */
export const HttpProbe = Type.Object({
  address: Type.String(),
  port: Type.Integer(),
  /** null when no answer came; `error` says why. */
  status: Type.Union([Type.Integer(), Type.Null()]),
  /** The Location header of a redirect, else null. */
  location: Type.Union([Type.String(), Type.Null()]),
  /** The answer came from WordPress (its Link, X-Redirect-By or X-Pingback header, or markup). */
  wordpress: Type.Boolean(),
  /** …and names one of this install's domains (Link/Location/asset URLs). */
  thisInstall: Type.Boolean(),
  error: Type.Union([Type.String(), Type.Null()]),
});
export type HttpProbe = Static<typeof HttpProbe>;

export const TlsStatus = Type.Union([
  /** A certificate a public CA vouches for, valid now, whose names cover the domain. */
  Type.Literal('verified'),
  /** A certificate came, but is not trusted, has expired or does not name the domain. */
  Type.Literal('unverified'),
  /** Nothing answered TLS at the domain's platform address; `problem` says why. */
  Type.Literal('unavailable'),
  /** The domain does not point at this platform, so nothing was contacted. */
  Type.Literal('not_checked'),
]);
export type TlsStatus = Static<typeof TlsStatus>;

/** The certificate served for the domain on the HTTPS port of its first platform address. */
export const TlsFacts = Type.Object({
  status: TlsStatus,
  /** The issuer's common name (or organisation). */
  issuer: Type.String(),
  /** ISO 8601, or '' when unknown. */
  validFrom: Type.String(),
  validUntil: Type.String(),
  /** Why the certificate is not verified, or why TLS failed; '' when verified. */
  problem: Type.String(),
  /** The DNS names among the subject alternative names. */
  dnsNames: Strings,
  serialNumber: Type.String(),
  subject: Type.Record(Type.String(), Type.String()),
  commonName: Type.String(),
  /** Every subject alternative name as the certificate states it (`DNS:…`, `IP Address:…`). */
  altNames: Strings,
  /** Whole days until validUntil (negative once expired). */
  daysLeft: Type.Union([Type.Integer(), Type.Null()]),
  /** The certificate's names cover the domain. */
  nameMatches: Type.Boolean(),
  /** Where the facts came from ('' / 0 when nothing was contacted). */
  address: Type.String(),
  port: Type.Integer(),
});
export type TlsFacts = Static<typeof TlsFacts>;

export const DomainCheck = Type.Object({
  /** The domain's name as checked (lower case). */
  domain: Type.String(),
  conclusion: DomainCheckConclusion,
  /** When the check ran (ISO 8601), or null when it did not. */
  checkedAt: Type.Union([Type.String(), Type.Null()]),
  /** Why the check as a whole could not run (conclusion `not_run`), else ''. */
  problem: Type.String(),
  dns: DnsFacts,
  /** Its A/AAAA addresses include the platform's, or its CNAME is the install's cname. */
  pointsToPlatform: Type.Boolean(),
  /** Those of its A/AAAA addresses that are the platform's (the only ones contacted). */
  platformAddresses: Strings,
  http: Type.Array(HttpProbe),
  tls: TlsFacts,
});
export type DomainCheck = Static<typeof DomainCheck>;

/** What a domain check job stores as its result. */
export const DomainCheckRun = Type.Object({
  installName: Type.String(),
  /** The platform's first public address. */
  platformAddress: Type.String(),
  checks: Type.Array(DomainCheck),
});
export type DomainCheckRun = Static<typeof DomainCheckRun>;

/** A check as the services answer it: the run once done, a skeleton before. */
export interface DomainCheckReport extends DomainCheckRun {
  /** The report's id, which is the check's job id. */
  id: string;
  /** False while the check waits or runs. */
  complete: boolean;
}

/** Nothing learnt over TLS, for the reason `status` and `problem` give. */
export function noTls(status: TlsStatus, problem = ''): TlsFacts {
  return {
    status,
    issuer: '',
    validFrom: '',
    validUntil: '',
    problem,
    dnsNames: [],
    serialNumber: '',
    subject: {},
    commonName: '',
    altNames: [],
    daysLeft: null,
    nameMatches: false,
    address: '',
    port: 0,
  };
}

/** A domain's check before (or without) looking at anything. */
export function uncheckedDomain(
  domain: string,
  conclusion: 'pending' | 'not_run',
  problem = '',
): DomainCheck {
  return {
    domain,
    conclusion,
    checkedAt: null,
    problem,
    dns: {
      cnames: [],
      a: [],
      aaaa: [],
      nameServers: [],
      mailExchangers: [],
      txt: [],
      soa: [],
      caa: [],
      provider: '',
      failed: false,
      failures: [],
    },
    pointsToPlatform: false,
    platformAddresses: [],
    http: [],
    tls: noTls('not_checked'),
  };
}

/** The domain points at this platform, but no HTTP answer came from this install. */
export function notAnsweringHere(check: DomainCheck): boolean {
  return check.pointsToPlatform && !check.http.some((p) => p.thisInstall);
}
