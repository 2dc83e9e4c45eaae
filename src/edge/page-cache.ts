import type { IncomingMessage } from 'node:http';
import type { PhpResponse } from '../runtime/php/types.js';
import { CachedPage } from './cached-page.js';

interface Entry {
  at: number;
  page: CachedPage;
}

interface Render {
  generation: number;
  response: Promise<PhpResponse>;
}

const TTL_MS = 10 * 60_000;
const MAX_PER_INSTALL = 500;
const SESSION_COOKIE =
  /(^|;\s*)(wordpress_logged_in_|wordpress_sec_|wp-postpass_|comment_author_|woocommerce_)/;
const NEVER = /^\/(wp-admin|wp-login\.php|wp-cron\.php|xmlrpc\.php|wp-json|wp-comments-post\.php)/;

function noStore(value: string | string[] | undefined): boolean {
  const v = Array.isArray(value) ? value.join(',') : (value ?? '');
  return /no-store|private|no-cache/i.test(v);
}

/** Whether WordPress let this response be kept and shared between visitors. */
function shareable(response: PhpResponse): boolean {
  const h = response.headers;
  return response.status === 200 && h['set-cookie'] === undefined && !noStore(h['cache-control']);
}

/**
 * Full pages for anonymous GET and HEAD requests, kept in memory per install: never wp-admin,
 * the login page, logged-in or commenter visitors, or what WordPress marks private or
 * uncacheable (`Cache-Control`, `Set-Cookie`).
 */
export class PageCache {
  private readonly installs = new Map<string, Map<string, Entry>>();
  /** Misses being rendered now, by install and key: the same page is rendered once at a time. */
  private readonly rendering = new Map<string, Render>();
  /** Bumped by each purge, so that a page rendered before it is not stored after it. */
  private readonly generations = new Map<string, number>();
  /** The install's purge count in the store (`pages_generation`) as last seen here. */
  private readonly stored = new Map<string, number>();

  /**
   * Catches up with purges: `generation` is the install's `pages_generation` as this process
   * learned it, from the purge itself or from the install's row (at most a couple of seconds
   * old, so it may lag behind what a purge already told). Only a newer count purges, once.
   */
  sync(installId: string, generation: number): void {
    const seen = this.stored.get(installId);
    if (seen !== undefined && generation <= seen) return;
    this.stored.set(installId, generation);
    if (seen !== undefined) this.purge(installId);
  }

  /** A purge this process made: its pages go now, and the count it brought is known. */
  purgedTo(installId: string, generation: number): void {
    const seen = this.stored.get(installId);
    if (seen === undefined || generation > seen) this.stored.set(installId, generation);
    this.purge(installId);
  }

  /** The cache key for a request, or null when the request must not use the cache. */
  keyOf(req: IncomingMessage, host: string, url: string): string | null {
    if (req.method !== 'GET' && req.method !== 'HEAD') return null;
    // Each test runs only when it can matter: this is on every cached hit.
    if ((url.startsWith('/wp-') || url.startsWith('/xmlrpc')) && NEVER.test(url)) return null;
    const { cookie, pragma } = req.headers;
    const cacheControl = req.headers['cache-control'];
    if (cookie !== undefined && SESSION_COOKIE.test(cookie)) return null;
    if (cacheControl !== undefined && noStore(cacheControl)) return null;
    if (pragma !== undefined && noStore(pragma)) return null;
    return host + url;
  }

  get(installId: string, key: string): CachedPage | undefined {
    const pages = this.installs.get(installId);
    const entry = pages?.get(key);
    if (entry === undefined) return undefined;
    if (Date.now() - entry.at > TTL_MS) {
      pages?.delete(key);
      return undefined;
    }
    return entry.page;
  }

  /**
   * Renders a missed page with `run` and keeps it if it may be shared. Visitors who miss the
   * same page while it renders wait for that render instead of starting their own (as nginx's
   * proxy_cache_lock does), and get its response if it may be shared: `shared` is then true.
   */
  async render(
    installId: string,
    key: string,
    run: () => Promise<PhpResponse>,
  ): Promise<{ response: PhpResponse; page: CachedPage | undefined; shared: boolean }> {
    const id = `${installId}\n${key}`;
    const generation = this.generations.get(installId) ?? 0;
    const current = this.rendering.get(id);
    if (current !== undefined && current.generation === generation) {
      const response = await current.response.catch(() => undefined);
      if (response !== undefined && shareable(response)) {
        return { response, page: this.get(installId, key), shared: true };
      }
    }
    const render: Render = { generation, response: run() };
    this.rendering.set(id, render);
    try {
      const response = await render.response;
      const page =
        (this.generations.get(installId) ?? 0) === generation
          ? this.put(installId, key, response)
          : undefined;
      return { response, page, shared: false };
    } finally {
      if (this.rendering.get(id) === render) this.rendering.delete(id);
    }
  }

  put(installId: string, key: string, response: PhpResponse): CachedPage | undefined {
    if (!shareable(response)) return undefined;
    let pages = this.installs.get(installId);
    if (pages === undefined) {
      pages = new Map();
      this.installs.set(installId, pages);
    }
    if (pages.size >= MAX_PER_INSTALL) {
      const oldest = pages.keys().next().value;
      if (oldest !== undefined) pages.delete(oldest);
    }
    const page = new CachedPage(response);
    pages.set(key, { at: Date.now(), page });
    return page;
  }

  purge(installId: string): number {
    const n = this.installs.get(installId)?.size ?? 0;
    this.installs.delete(installId);
    this.generations.set(installId, (this.generations.get(installId) ?? 0) + 1);
    return n;
  }
}
