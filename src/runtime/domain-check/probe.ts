import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { noTls, type HttpProbe, type TlsFacts } from '../../core/domains/domain-check.js';

/** How much of a page is read to recognise WordPress. */
const BODY_LIMIT = 256 * 1024;
const DAY_MS = 86_400_000;

function header(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

function hostOf(url: string, base: string): string | null {
  try {
    return new URL(url, base).hostname.toLowerCase().replace(/^\[|\]$/g, '');
  } catch {
    return null;
  }
}

/**
 * Whether an answer is WordPress's, and the hosts it names: the REST API Link header, the
 * redirect's Location and the URLs of its assets (/wp-content/, /wp-includes/, /wp-json/).
 */
export function recogniseWordPress(
  headers: http.IncomingHttpHeaders,
  body: string,
  requestHost: string,
): { wordpress: boolean; hosts: string[] } {
  const link = header(headers.link);
  const location = header(headers.location);
  const wordpress =
    /rel="?https:\/\/api\.w\.org\/?"?/i.test(link) ||
    /wordpress/i.test(header(headers['x-redirect-by'])) ||
    headers['x-pingback'] !== undefined ||
    /\/wp-(?:content|includes)\//.test(body);
  const base = `http://${requestHost}/`;
  const urls = [
    ...[...link.matchAll(/<([^>]+)>/g)].map((m) => m[1] ?? ''),
    ...(location === '' ? [] : [location]),
    ...[...body.matchAll(/https?:\/\/[^\s"'<>/]+\/wp-(?:content|includes|json)\b/gi)].map(
      (m) => m[0],
    ),
  ];
  const hosts = [
    ...new Set(urls.map((u) => hostOf(u, base)).filter((h): h is string => h !== null)),
  ];
  return { wordpress, hosts };
}

/**
 * GETs / from one address with the domain as Host, without following redirects, and says
 * whether WordPress answered and named one of the install's hosts.
 */
export function probeHttp(
  address: string,
  port: number,
  host: string,
  installHosts: ReadonlySet<string>,
  timeoutMs: number,
): Promise<HttpProbe> {
  const probe: HttpProbe = {
    address,
    port,
    status: null,
    location: null,
    wordpress: false,
    thisInstall: false,
    error: null,
  };
  return new Promise((resolve) => {
    let done = false;
    const finish = (error: string | null): void => {
      if (done) return;
      done = true;
      if (error !== null) probe.error = error;
      resolve(probe);
    };
    const req = http.request(
      {
        host: address,
        family: net.isIP(address),
        port,
        path: '/',
        method: 'GET',
        agent: false,
        timeout: timeoutMs,
        headers: {
          host,
          'user-agent': 'wpfleet-domain-check',
          accept: 'text/html,*/*',
          connection: 'close',
        },
      },
      (res) => {
        probe.status = res.statusCode ?? null;
        const location = header(res.headers.location);
        probe.location = location === '' ? null : location;
        const chunks: Buffer[] = [];
        let size = 0;
        const conclude = (): void => {
          const body = Buffer.concat(chunks).toString('utf8');
          const seen = recogniseWordPress(res.headers, body, host);
          probe.wordpress = seen.wordpress;
          probe.thisInstall = seen.wordpress && seen.hosts.some((h) => installHosts.has(h));
          finish(null);
          req.destroy();
        };
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          size += chunk.length;
          if (size >= BODY_LIMIT) conclude();
        });
        res.on('end', conclude);
        res.on('error', (err) => {
          finish(err.message);
        });
      },
    );
    req.on('timeout', () => {
      req.destroy(new Error(`no answer within ${timeoutMs} ms`));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      finish(
        err.code !== undefined && !err.message.includes(err.code)
          ? `${err.code}: ${err.message}`
          : err.message,
      );
    });
    req.end();
  });
}

function nameField(value: unknown): string {
  if (Array.isArray(value)) return value.map(String).join(', ');
  return typeof value === 'string' ? value : '';
}

function distinguishedName(dn: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (dn === null || typeof dn !== 'object') return out;
  for (const [k, v] of Object.entries(dn)) out[k] = nameField(v);
  return out;
}

function iso(date: string): string {
  const ms = Date.parse(date);
  return Number.isNaN(ms) ? date : new Date(ms).toISOString();
}

/** The certificate's facts, judged for `name` at `now`. */
export function tlsFactsOf(
  cert: tls.PeerCertificate,
  name: string,
  authorized: boolean,
  authorizationError: string | null,
  now: Date,
): TlsFacts {
  const facts = noTls('unverified');
  const subject = distinguishedName(cert.subject);
  const issuer = distinguishedName(cert.issuer);
  facts.subject = subject;
  facts.commonName = subject.CN ?? '';
  facts.issuer = issuer.CN ?? issuer.O ?? '';
  facts.validFrom = iso(cert.valid_from);
  facts.validUntil = iso(cert.valid_to);
  facts.serialNumber = cert.serialNumber;
  facts.altNames = (cert.subjectaltname ?? '')
    .split(/,\s*/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  facts.dnsNames = facts.altNames.filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4));
  const notAfter = Date.parse(cert.valid_to);
  const notBefore = Date.parse(cert.valid_from);
  facts.daysLeft = Number.isNaN(notAfter) ? null : Math.floor((notAfter - now.getTime()) / DAY_MS);
  facts.nameMatches = tls.checkServerIdentity(name, cert) === undefined;
  const current = !(now.getTime() > notAfter) && !(now.getTime() < notBefore);
  if (!current)
    facts.problem = now.getTime() > notAfter ? 'CERT_HAS_EXPIRED' : 'CERT_NOT_YET_VALID';
  else if (!authorized) facts.problem = authorizationError ?? 'the certificate is not trusted';
  else if (!facts.nameMatches) facts.problem = `the certificate does not name ${name}`;
  facts.status = facts.problem === '' ? 'verified' : 'unverified';
  return facts;
}

/** Opens TLS to one address with the domain as SNI and reads the certificate's facts. */
export function probeTls(
  address: string,
  port: number,
  name: string,
  timeoutMs: number,
  now: () => Date,
): Promise<TlsFacts> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (facts: TlsFacts): void => {
      if (done) return;
      done = true;
      facts.address = address;
      facts.port = port;
      socket.destroy();
      resolve(facts);
    };
    const socket = tls.connect({
      host: address,
      port,
      ...(net.isIP(name) === 0 ? { servername: name } : {}),
      rejectUnauthorized: false,
      timeout: timeoutMs,
    });
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate(false);
      if (Object.keys(cert).length === 0) {
        finish(noTls('unavailable', 'the server sent no certificate'));
        return;
      }
      const authError = socket.authorizationError as
        (Error & { code?: string }) | string | null | undefined;
      const authMessage =
        authError === null || authError === undefined
          ? null
          : typeof authError === 'string'
            ? authError
            : authError.code !== undefined
              ? `${authError.code}: ${authError.message}`
              : authError.message;
      finish(tlsFactsOf(cert, name, socket.authorized, authMessage, now()));
    });
    socket.once('timeout', () => {
      finish(noTls('unavailable', `no TLS answer within ${timeoutMs} ms`));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      finish(noTls('unavailable', err.code ?? err.message));
    });
  });
}
