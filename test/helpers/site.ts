import http from 'node:http';
import type { AgentTransport } from '../../src/runtime/agent/client.js';

export interface SiteResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface SiteRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * One request to the server at `base` with the given Host, as a browser visiting that name would
 * send it (fetch cannot set Host). Redirects are not followed.
 */
export function siteRequest(
  base: string,
  host: string,
  path: string,
  options: SiteRequest = {},
): Promise<SiteResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: options.method ?? 'GET',
        headers: { host: `${host}:${url.port}`, ...options.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The cookies a response sets, as a Cookie header value. */
export function cookiesOf(res: SiteResponse): string {
  return (res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0] ?? '').join('; ');
}

/** Same-site stylesheets, scripts and images a page links to, as paths. */
export function assetPaths(html: string, origin: string): string[] {
  const found = new Set<string>();
  const attr = /(?:href|src)=["']([^"']+)["']/g;
  for (const m of html.matchAll(attr)) {
    const raw = (m[1] ?? '').replace(/&#038;|&amp;/g, '&');
    if (!/\.(css|js|png|jpe?g|gif|svg|webp|ico|woff2?)(\?|$)|load-(styles|scripts)\.php/.test(raw))
      continue;
    let u: URL;
    try {
      u = new URL(raw, origin);
    } catch {
      continue;
    }
    if (u.origin !== origin) continue;
    found.add(u.pathname + u.search);
  }
  return [...found];
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * An agent transport over real HTTP to the edge, with the install's Host: the tests call an
 * install's agent the way a connected dashboard would, through the front door.
 */
export function edgeAgentTransport(base: string, host: string): AgentTransport {
  return async (call) => {
    const res = await siteRequest(base, host, call.path, {
      method: call.method,
      headers: call.headers,
      body: call.body,
    });
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(res.headers)) {
      if (value !== undefined) headers[name] = value;
    }
    return { status: res.status, headers, body: res.body };
  };
}
