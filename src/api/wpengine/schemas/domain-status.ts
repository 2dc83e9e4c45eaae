import { Type, type Static } from '@sinclair/typebox';
import { Nullable } from './common.js';

/**
 * WP Engine's DomainStatusReport (Customer API 1.10+), with our additions marked "(wpfleet)".
 * Every field is always present. See docs/api/wpengine.md, "Domain status reports".
 */

const Strings = Type.Array(Type.String());

const Ssl = Type.Object({
  status: Type.String({
    enum: ['verified', 'unverified', 'unavailable', 'not_checked'],
    description: 'Status of the SSL certificate',
  }),
  issuer: Type.String({ description: 'Certificate issuer name' }),
  not_before: Type.String({ description: 'Certificate validity start date (ISO 8601)' }),
  not_after: Type.String({ description: 'Certificate expiration date (ISO 8601)' }),
  error: Type.String({ description: 'Why the certificate is not verified, or TLS failed' }),
  dns_names: Strings,
  serial_number: Type.String(),
  subject: Type.Object({}, { additionalProperties: Type.String() }),
  common_name: Type.String(),
  sans: Strings,
  days_left: Nullable(Type.Integer({ description: '(wpfleet) Whole days until not_after' })),
  name_matches: Type.Boolean({ description: "(wpfleet) The certificate's names cover the domain" }),
  address: Type.String({ description: '(wpfleet) The address the certificate came from' }),
  port: Type.Integer({ description: '(wpfleet) The port the certificate came from' }),
});

const HttpProbe = Type.Object({
  address: Type.String(),
  port: Type.Integer(),
  status: Nullable(Type.Integer()),
  location: Nullable(Type.String()),
  wordpress: Type.Boolean(),
  this_install: Type.Boolean(),
  error: Nullable(Type.String()),
});

export const DomainStatus = Type.Object({
  name: Type.String({ description: 'The domain name' }),
  cname: Type.String({ description: 'The CNAME of the domain' }),
  a_record: Type.String({ description: 'The A record of the domain' }),
  aaaa_record: Type.String({ description: 'The AAAA record of the domain' }),
  complete: Type.Boolean(),
  result: Type.String({
    enum: ['ok', 'http_error', 'not_pointed', 'dns_error', 'error', 'pending'],
  }),
  dns_provider: Type.String(),
  dns_error: Type.Boolean(),
  http_error: Type.Boolean(),
  install_name: Type.String(),
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
  ip: Type.Array(Type.String(), { description: 'Every A and AAAA address of the domain' }),
  address: Type.Array(Type.String(), {
    description: "The domain's addresses that belong to this platform",
  }),
  ssl: Ssl,
  points_to_platform: Type.Boolean({ description: '(wpfleet)' }),
  dns_errors: Type.Array(
    Type.Object({ type: Type.String(), code: Type.String(), message: Type.String() }),
    { description: '(wpfleet) DNS lookups that failed' },
  ),
  http: Type.Array(HttpProbe, { description: '(wpfleet) One HTTP request per platform address' }),
  checked_at: Nullable(Type.String({ description: '(wpfleet) When the check ran' })),
  error: Type.String({ description: '(wpfleet) Why the check could not run' }),
});

export const DomainStatusReport = Type.Object({
  complete: Type.Boolean({ description: 'The status of the report' }),
  id: Type.String({ description: 'The UUID of the report' }),
  install_name: Type.String(),
  install_ip: Type.String(),
  admin: Type.Boolean(),
  domains: Type.Array(DomainStatus),
});

export type DomainStatusReportBody = Static<typeof DomainStatusReport>;
