/**
 * The report of a domain check (`domain.check_status` job), shaped like WP Engine's
 * DomainStatusReport (Customer API 1.10+) with a few additions of ours, marked below. The job
 * stores it as its result; GET /installs/{id}/domains/check_status/{report_id} returns it.
 */

export const DOMAIN_CHECK_JOB = 'domain.check_status';

/** What the check concluded about one domain (ours: WP Engine leaves `result` undocumented). */
export type DomainCheckResult =
  /** Points at this platform and answered over HTTP with WordPress from this install. */
  | 'ok'
  /** Points at this platform, but the HTTP check failed or did not answer with this install. */
  | 'http_error'
  /** Resolves, but neither to this platform's addresses nor through the install's cname. */
  | 'not_pointed'
  /** The name could not be resolved (NXDOMAIN, no addresses, or the resolver failed). */
  | 'dns_error'
  /** The check could not run (the domain was deleted, say); `error` says why. */
  | 'error'
  /** Not checked yet. */
  | 'pending';

export interface SoaRecord {
  ns: string;
  mbox: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minttl: number;
}

export interface CaaRecord {
  flag: number;
  tag: string;
  value: string;
}

/** One DNS lookup that failed other than by "no such record" (ours). */
export interface DnsLookupError {
  type: 'A' | 'AAAA' | 'CNAME' | 'NS' | 'MX' | 'TXT' | 'SOA' | 'CAA';
  code: string;
  message: string;
}

/** One HTTP request to one of the domain's addresses (ours). */
export interface HttpProbe {
  address: string;
  port: number;
  /** null when no answer came; `error` says why. */
  status: number | null;
  /** The Location header of a redirect, else null. */
  location: string | null;
  /** The answer came from WordPress (its Link, X-Redirect-By or X-Pingback header, or markup). */
  wordpress: boolean;
  /** …and names one of this install's domains (Link/Location/asset URLs). */
  this_install: boolean;
  error: string | null;
}

export type SslStatus =
  /** A certificate a public CA vouches for, valid now, whose names cover the domain. */
  | 'verified'
  /** A certificate came, but is not trusted, has expired or does not name the domain. */
  | 'unverified'
  /** Nothing answered TLS on 443 at the domain's platform address; `error` says why. */
  | 'unavailable'
  /** The domain does not point at this platform, so nothing was contacted. */
  | 'not_checked';

export interface SslFacts {
  status: SslStatus;
  /** The issuer's common name (or organisation). */
  issuer: string;
  /** ISO 8601. */
  not_before: string;
  not_after: string;
  /** Why the certificate is not verified, or why TLS failed; '' when verified. */
  error: string;
  dns_names: string[];
  serial_number: string;
  subject: Record<string, string>;
  common_name: string;
  sans: string[];
  /** Ours: whole days until not_after (negative once expired). */
  days_left: number | null;
  /** Ours: the certificate's names cover the domain. */
  name_matches: boolean;
  /** Ours: the address and port the facts came from ('' / 0 when not contacted). */
  address: string;
  port: number;
}

export interface DomainStatus {
  name: string;
  /** The name's CNAME target, '' when it has none. */
  cname: string;
  /** The first A / AAAA address, '' when none. */
  a_record: string;
  aaaa_record: string;
  complete: boolean;
  result: DomainCheckResult;
  /** The registrable domain of the zone's first name server (e.g. `cloudflare.com`), or ''. */
  dns_provider: string;
  dns_error: boolean;
  http_error: boolean;
  install_name: string;
  ns: { host: string }[];
  mx: { Host: string; Pref: number }[];
  txt: string[];
  soa: SoaRecord[];
  caa: CaaRecord[];
  /** Every A and AAAA address of the name. */
  ip: string[];
  /** Those of `ip` that belong to this platform (the HTTP check contacts only these). */
  address: string[];
  ssl: SslFacts;
  /** Ours: A/AAAA intersect the platform's addresses, or the CNAME is the install's cname. */
  points_to_platform: boolean;
  /** Ours: lookups that failed, other than by the record type being absent. */
  dns_errors: DnsLookupError[];
  /** Ours: one HTTP request per platform address of the name, with the install's Host. */
  http: HttpProbe[];
  /** Ours: when the check ran (ISO 8601), or null while pending. */
  checked_at: string | null;
  /** Ours: why the check as a whole could not run (result `error`), else ''. */
  error: string;
}

export interface DomainStatusReport {
  complete: boolean;
  /** The report id, which is the id of the check's job. */
  id: string;
  install_name: string;
  /** The platform's first public address ('' while pending). */
  install_ip: string;
  admin: boolean;
  domains: DomainStatus[];
}

export function emptySsl(status: SslStatus, error = ''): SslFacts {
  return {
    status,
    issuer: '',
    not_before: '',
    not_after: '',
    error,
    dns_names: [],
    serial_number: '',
    subject: {},
    common_name: '',
    sans: [],
    days_left: null,
    name_matches: false,
    address: '',
    port: 0,
  };
}

/** A domain's entry before (or without) a check: nothing known yet. */
export function emptyDomainStatus(
  name: string,
  installName: string,
  result: DomainCheckResult,
): DomainStatus {
  return {
    name,
    cname: '',
    a_record: '',
    aaaa_record: '',
    complete: result !== 'pending',
    result,
    dns_provider: '',
    dns_error: false,
    http_error: false,
    install_name: installName,
    ns: [],
    mx: [],
    txt: [],
    soa: [],
    caa: [],
    ip: [],
    address: [],
    ssl: emptySsl('not_checked'),
    points_to_platform: false,
    dns_errors: [],
    http: [],
    checked_at: null,
    error: '',
  };
}

/** The stored job as the API shows it: the report once done, a pending skeleton before. */
export function reportOfJob(
  job: { id: string; state: string; payload: string; result: string | null; error: string | null },
  installName: string,
): DomainStatusReport {
  if (job.state === 'succeeded' && job.result !== null) {
    const stored = JSON.parse(job.result) as Partial<DomainStatusReport>;
    if (Array.isArray(stored.domains)) {
      return {
        complete: true,
        id: job.id,
        install_name: stored.install_name ?? installName,
        install_ip: stored.install_ip ?? '',
        admin: stored.admin ?? false,
        domains: stored.domains,
      };
    }
  }
  let name = '';
  try {
    const payload = JSON.parse(job.payload) as { name?: unknown };
    if (typeof payload.name === 'string') name = payload.name;
  } catch {
    // A payload that is not JSON names no domain.
  }
  if (job.state === 'failed' || job.state === 'succeeded') {
    const failed = emptyDomainStatus(name, installName, 'error');
    failed.error = job.error ?? 'the check left no report';
    return {
      complete: true,
      id: job.id,
      install_name: installName,
      install_ip: '',
      admin: false,
      domains: [failed],
    };
  }
  return {
    complete: false,
    id: job.id,
    install_name: installName,
    install_ip: '',
    admin: false,
    domains: [emptyDomainStatus(name, installName, 'pending')],
  };
}
