import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { Logger } from 'pino';
import { PhpBusyError, type PhpRuntime, type SiteMount } from '../runtime/php/types.js';
import type { InstallRow } from '../core/installs/installs.repository.js';
import { HostResolver, hostnameOf, type HostRoute } from './hosts.js';
import { PageCache } from './page-cache.js';
import { fileUnder, isStaticPath, sendFile } from './static-files.js';
import type { Store } from '../core/store.js';

const MAX_BODY = 128 * 1024 * 1024;
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'content-length',
]);

export interface EdgeDeps {
  store: Store;
  runtime: PhpRuntime;
  dataDir: string;
  /** The mount a live install runs with (null until it has files). */
  siteMount(install: InstallRow): SiteMount | null;
  log: Pick<Logger, 'warn' | 'error'>;
}

/**
 * Paths no visitor may fetch, whoever would serve them (php-wasm's handler serves any file):
 * hidden files such as `.ht.sqlite` and `.htaccess`, and the SQLite database folder.
 */
export function isForbiddenPath(pathname: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return true;
  }
  const parts = decoded.split(/[\\/]+/);
  if (parts.some((p) => p.startsWith('.') && p !== '.well-known')) return true;
  if (/^\/+wp-content\/+database(\/|$)/i.test(decoded)) return true;
  // Uploaded files are data: a PHP file among them is never run.
  return /^\/+wp-content\/+uploads\/.*\.ph(p\d?|tml|ar)$/i.test(decoded);
}

function readBody(req: IncomingMessage): Promise<Uint8Array | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      resolve(new Uint8Array(Buffer.concat(chunks)));
    });
    req.on('error', reject);
  });
}

/**
 * The front for installs: requests whose Host is an install's cname or domain are answered
 * here (redirects, static files, the page cache, then WordPress); all others go to the APIs.
 */
export class Edge {
  readonly hosts: HostResolver;
  readonly pageCache = new PageCache();
  private readonly logs = new Map<string, fs.WriteStream>();

  constructor(private readonly deps: EdgeDeps) {
    this.hosts = new HostResolver(deps.store);
  }

  /** Serves the request if its Host is an install's; otherwise calls `next`. */
  route(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    const host = hostnameOf(req.headers.host);
    this.hosts.resolve(host).then(
      (route) => {
        if (route === null) next();
        else void this.serve(req, res, host, route);
      },
      (err: unknown) => {
        this.deps.log.error({ err }, 'host lookup failed');
        next();
      },
    );
  }

  purgePages(installId: string): number {
    return this.pageCache.purge(installId);
  }

  close(): void {
    for (const stream of this.logs.values()) stream.end();
    this.logs.clear();
  }

  private async serve(
    req: IncomingMessage,
    res: ServerResponse,
    host: string,
    route: HostRoute,
  ): Promise<void> {
    const started = Date.now();
    res.on('finish', () => {
      this.accessLog(route.install.id, req, res.statusCode, Date.now() - started);
    });
    const url = req.url ?? '/';
    try {
      if (route.redirectTo !== null) {
        const port = /:\d+$/.exec(req.headers.host ?? '')?.[0] ?? '';
        res.writeHead(301, { location: `http://${route.redirectTo}${port}${url}` });
        res.end();
        return;
      }
      // Until WordPress's installer has run, its setup page would let a visitor claim the site.
      const site = route.install.wp_version === null ? null : this.deps.siteMount(route.install);
      if (site === null) {
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '5' });
        res.end('This site is being set up.\n');
        return;
      }
      const pathname = url.split('?')[0] ?? '/';
      if (isForbiddenPath(pathname)) {
        res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('Forbidden\n');
        return;
      }
      if (
        (req.method === 'GET' || req.method === 'HEAD') &&
        isStaticPath(pathname) &&
        this.serveStatic(req, res, site, pathname)
      ) {
        return;
      }
      await this.servePhp(req, res, host, site, url);
    } catch (err) {
      // Every PHP instance stayed busy: the request never ran, so the visitor may send it again.
      if (err instanceof PhpBusyError) {
        this.deps.log.warn({ install: route.install.id }, err.message);
        if (!res.headersSent) {
          res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '5' });
        }
        res.end('This site is busy: try again in a few seconds.\n');
        return;
      }
      this.deps.log.error({ err, install: route.install.id }, 'edge request failed');
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Bad gateway: the site could not answer.\n');
    }
  }

  private serveStatic(
    req: IncomingMessage,
    res: ServerResponse,
    site: SiteMount,
    pathname: string,
  ): boolean {
    const underContent = pathname.startsWith('/wp-content/');
    const file = underContent
      ? fileUnder(site.contentDir, pathname.slice('/wp-content'.length))
      : fileUnder(site.releaseDir, pathname);
    if (file === null) return false;
    return sendFile(res, file, req.method ?? 'GET', req.headers['if-modified-since']);
  }

  private async servePhp(
    req: IncomingMessage,
    res: ServerResponse,
    host: string,
    site: SiteMount,
    url: string,
  ): Promise<void> {
    const key = this.pageCache.keyOf(req, host, url);
    const cached = key === null ? undefined : this.pageCache.get(site.installId, key);
    if (cached !== undefined) {
      this.write(res, req.method ?? 'GET', cached.status, cached.headers, cached.body, 'HIT');
      return;
    }
    const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await readBody(req);
    if (body === null) {
      res.writeHead(413, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Request body too large.\n');
      return;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const render = () =>
      this.deps.runtime.request(site, {
        method: req.method ?? 'GET',
        url,
        headers,
        ...(body === undefined ? {} : { body }),
      });
    // A HEAD is answered from a cached GET, but its own render (with no body, or a body PHP
    // may leave out) is neither kept nor shared with GETs.
    if (key === null || req.method === 'HEAD') {
      const response = await render();
      const status = key === null ? null : 'MISS';
      this.write(
        res,
        req.method ?? 'GET',
        response.status,
        response.headers,
        response.body,
        status,
      );
      return;
    }
    const { response, shared } = await this.pageCache.render(site.installId, key, render);
    const status = shared ? 'HIT' : 'MISS';
    this.write(res, req.method ?? 'GET', response.status, response.headers, response.body, status);
  }

  private write(
    res: ServerResponse,
    method: string,
    status: number,
    headers: Record<string, string[]>,
    body: Uint8Array,
    cache: 'HIT' | 'MISS' | null,
  ): void {
    for (const [name, values] of Object.entries(headers)) {
      if (!HOP_BY_HOP.has(name.toLowerCase())) res.setHeader(name, values);
    }
    if (cache !== null) res.setHeader('x-cache', cache);
    res.setHeader('content-length', String(body.byteLength));
    res.writeHead(status);
    res.end(method === 'HEAD' ? undefined : body);
  }

  /** One line per request in `<data>/logs/<install>.access.log` (common log format, plus ms). */
  private accessLog(installId: string, req: IncomingMessage, status: number, ms: number): void {
    let stream = this.logs.get(installId);
    if (stream === undefined) {
      const dir = path.join(this.deps.dataDir, 'logs');
      fs.mkdirSync(dir, { recursive: true });
      stream = fs.createWriteStream(path.join(dir, `${installId}.access.log`), { flags: 'a' });
      this.logs.set(installId, stream);
    }
    const when = new Date().toISOString();
    const ua = (req.headers['user-agent'] ?? '-').replace(/"/g, "'");
    stream.write(
      `${req.socket.remoteAddress ?? '-'} - - [${when}] "${req.method ?? '-'} ${req.url ?? '-'} HTTP/${req.httpVersion}" ${status} - "${req.headers.host ?? '-'}" "${ua}" ${ms}ms\n`,
    );
  }
}
