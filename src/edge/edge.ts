import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import {
  PhpBusyError,
  type PhpResponse,
  type PhpRuntime,
  type SiteMount,
} from '../runtime/php/types.js';
import type { InstallRow } from '../core/installs/installs.repository.js';
import { AccessLogs } from './access-log.js';
import { acceptedEncodings, HOP_BY_HOP, type CachedPage } from './cached-page.js';
import { HostResolver, hostnameOf, type HostRoute } from './hosts.js';
import { PageCache } from './page-cache.js';
import { classifyPath } from './path-rules.js';
import { fileUnder, isStaticPath, sendFile } from './static-files.js';
import type { Store } from '../core/store.js';
import { siteLayout } from '../runtime/sites/site-files.js';

const MAX_BODY = 128 * 1024 * 1024;
const TEXT = 'text/plain; charset=utf-8';

export { isForbiddenPath } from './path-rules.js';

export interface EdgeDeps {
  store: Store;
  runtime: PhpRuntime;
  dataDir: string;
  /** The mount a live install runs with (null until it has files). */
  siteMount(install: InstallRow): SiteMount | null;
  log: Pick<Logger, 'warn' | 'error'>;
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
 *
 * A cached page is the hot path: with the host's route remembered, it is answered synchronously
 * with a header list built when the page was stored, and its log line is batched (see
 * docs/benchmarks.md for what each of these saved).
 */
export class Edge {
  readonly hosts: HostResolver;
  readonly pageCache = new PageCache();
  private readonly logs: AccessLogs;

  constructor(private readonly deps: EdgeDeps) {
    this.hosts = new HostResolver(deps.store, (install) => deps.siteMount(install));
    this.logs = new AccessLogs((id) => siteLayout(deps.dataDir, id).accessLog);
  }

  /** Serves the request if its Host is an install's; otherwise calls `next`. */
  route(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    const host = hostnameOf(req.headers.host);
    const known = this.hosts.cached(host);
    if (known !== undefined) {
      if (known === null) next();
      else this.serve(req, res, host, known);
      return;
    }
    this.hosts.resolve(host).then(
      (route) => {
        if (route === null) next();
        else this.serve(req, res, host, route);
      },
      (err: unknown) => {
        this.deps.log.error({ err }, 'host lookup failed');
        next();
      },
    );
  }

  /**
   * The install's hardening settings changed (file protection, login path): its hosts are
   * looked up again on their next request, and its pages, which may link the old login path, go.
   * Other processes see the change within the host lookup's two seconds.
   */
  settingsChanged(installId: string): void {
    this.hosts.forgetInstall(installId);
    this.pageCache.purge(installId);
  }

  /** A purge committed in this process: the install's pages go now, not at the next lookup. */
  pagesPurged(installId: string, generation: number): void {
    this.pageCache.purgedTo(installId, generation);
  }

  /**
   * Lets go of a deleted install: its log is closed and never reopened (a request may still
   * arrive while the host lookup remembers it), its cached pages are dropped.
   */
  forgetInstall(installId: string): void {
    this.logs.forget(installId);
    this.pageCache.purge(installId);
  }

  close(): Promise<void> {
    return this.logs.close();
  }

  private serve(req: IncomingMessage, res: ServerResponse, host: string, route: HostRoute): void {
    const started = Date.now();
    try {
      this.answerFor(req, res, host, route, started);
    } catch (err) {
      this.failed(req, res, route.install.id, started, err);
    }
  }

  private answerFor(
    req: IncomingMessage,
    res: ServerResponse,
    host: string,
    route: HostRoute,
    started: number,
  ): void {
    const url = req.url ?? '/';
    const method = req.method ?? 'GET';
    const installId = route.install.id;
    if (route.redirectTo !== null) {
      const port = /:\d+$/.exec(req.headers.host ?? '')?.[0] ?? '';
      res.writeHead(301, { location: `http://${route.redirectTo}${port}${url}` });
      res.end();
      this.log(installId, req, 301, started);
      return;
    }
    const site = route.site;
    if (site === null) {
      this.answer(res, 503, 'This site is being set up.\n', { 'retry-after': '5' });
      this.log(installId, req, 503, started);
      return;
    }
    const query = url.indexOf('?');
    const pathname = query < 0 ? url : url.slice(0, query);
    const verdict = classifyPath(url, pathname, route.settings);
    if (verdict.kind === 'forbidden' || verdict.kind === 'hidden') {
      const status = verdict.kind === 'forbidden' ? 403 : 404;
      this.answer(res, status, status === 403 ? 'Forbidden\n' : 'Not Found\n');
      this.log(installId, req, status, started);
      return;
    }
    // The custom login path is WordPress's wp-login.php, never a static file or a cached page.
    const phpUrl = verdict.kind === 'login' ? verdict.url : url;
    if (
      verdict.kind === 'pass' &&
      (method === 'GET' || method === 'HEAD') &&
      isStaticPath(pathname) &&
      this.serveStatic(req, res, site, pathname)
    ) {
      this.logWhenDone(installId, req, res, started);
      return;
    }
    // Null for what the cache never keeps (any method but GET and HEAD among it).
    const key = this.pageCache.keyOf(req, host, phpUrl);
    if (key !== null) {
      this.pageCache.sync(installId, route.install.pages_generation);
      const page = this.pageCache.get(installId, key);
      if (page !== undefined && this.sendPage(req, res, page, method)) {
        this.log(installId, req, page.status, started);
        return;
      }
    }
    this.servePhp(req, res, site, phpUrl, key).then(
      () => {
        this.logWhenDone(installId, req, res, started);
      },
      (err: unknown) => {
        this.failed(req, res, installId, started, err);
      },
    );
  }

  private failed(
    req: IncomingMessage,
    res: ServerResponse,
    installId: string,
    started: number,
    err: unknown,
  ): void {
    // Every PHP instance stayed busy: the request never ran, so the visitor may send it again.
    if (err instanceof PhpBusyError) {
      this.deps.log.warn({ install: installId }, err.message);
      if (!res.headersSent) res.writeHead(503, { 'content-type': TEXT, 'retry-after': '5' });
      res.end('This site is busy: try again in a few seconds.\n');
      this.logWhenDone(installId, req, res, started);
      return;
    }
    this.deps.log.error({ err, install: installId }, 'edge request failed');
    if (!res.headersSent) res.writeHead(502, { 'content-type': TEXT });
    res.end('Bad gateway: the site could not answer.\n');
    this.logWhenDone(installId, req, res, started);
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

  /**
   * Answers from a cached page in the encoding the client takes best that is ready; false when
   * none can be sent yet (a page PHP sent compressed, not decoded yet): the caller renders it.
   */
  private sendPage(
    req: IncomingMessage,
    res: ServerResponse,
    page: CachedPage,
    method: string,
  ): boolean {
    const variant = page.variantFor(acceptedEncodings(req.headers['accept-encoding']));
    if (variant === null) return false;
    res.writeHead(page.status, variant.headers);
    res.end(method === 'HEAD' ? undefined : variant.body);
    return true;
  }

  /** Renders with PHP; `key` is the page's cache key, null when it is not to be kept. */
  private async servePhp(
    req: IncomingMessage,
    res: ServerResponse,
    site: SiteMount,
    url: string,
    key: string | null,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    const body = method === 'GET' || method === 'HEAD' ? undefined : await readBody(req);
    if (body === null) {
      this.answer(res, 413, 'Request body too large.\n');
      return;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const render = () =>
      this.deps.runtime.request(site, {
        method,
        url,
        headers,
        ...(body === undefined ? {} : { body }),
      });
    // A HEAD is answered from a cached GET, but its own render (with no body, or a body PHP
    // may leave out) is neither kept nor shared with GETs.
    if (key === null || method === 'HEAD') {
      this.write(res, method, await render(), key === null ? null : 'MISS');
      return;
    }
    const { response, page, shared } = await this.pageCache.render(site.installId, key, render);
    if (shared && page !== undefined) {
      await page.ready();
      if (this.sendPage(req, res, page, method)) return;
    }
    this.write(res, method, response, shared ? 'HIT' : 'MISS');
  }

  /** Answers with what PHP gave (a miss, or a page that is not kept). */
  private write(
    res: ServerResponse,
    method: string,
    response: PhpResponse,
    cache: 'HIT' | 'MISS' | null,
  ): void {
    const headers: string[] = [];
    for (const [name, values] of Object.entries(response.headers)) {
      if (HOP_BY_HOP.has(name.toLowerCase())) continue;
      for (const value of values) headers.push(name, value);
    }
    if (cache !== null) headers.push('x-cache', cache);
    const body = response.body;
    headers.push('content-length', String(body.byteLength));
    res.writeHead(response.status, headers);
    // A Buffer (a view, no copy), as the cached path sends: Node's write path, shared by both,
    // stays fast only while it sees one kind of chunk.
    res.end(method === 'HEAD' ? undefined : Buffer.from(body.buffer, body.byteOffset, body.length));
  }

  private answer(
    res: ServerResponse,
    status: number,
    text: string,
    extra: Record<string, string> = {},
  ): void {
    res.writeHead(status, { 'content-type': TEXT, ...extra });
    res.end(text);
  }

  /** Logs once the response is out (a file or a PHP answer may still be streaming). */
  private logWhenDone(
    installId: string,
    req: IncomingMessage,
    res: ServerResponse,
    started: number,
  ): void {
    if (res.writableFinished) this.log(installId, req, res.statusCode, started);
    else {
      res.once('finish', () => {
        this.log(installId, req, res.statusCode, started);
      });
    }
  }

  /** One line per request in `<data>/logs/<install>.access.log` (common log format, plus ms). */
  private log(installId: string, req: IncomingMessage, status: number, started: number): void {
    const now = Date.now();
    const agent = req.headers['user-agent'];
    const ua = agent === undefined ? '-' : agent.includes('"') ? agent.replaceAll('"', "'") : agent;
    this.logs.write(
      installId,
      `${req.socket.remoteAddress ?? '-'} - - [${isoTime(now)}] "${req.method ?? '-'} ${req.url ?? '-'} HTTP/${req.httpVersion}" ${status} - "${req.headers.host ?? '-'}" "${ua}" ${now - started}ms\n`,
    );
  }
}

let lastTime = 0;
let lastIso = '';

/** The time as ISO 8601, formatted once per millisecond however many requests share it. */
function isoTime(now: number): string {
  if (now !== lastTime) {
    lastTime = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}
