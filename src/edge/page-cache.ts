import type { IncomingMessage } from 'node:http';
import type { PhpResponse } from '../runtime/php/types.js';

interface Entry {
  at: number;
  response: PhpResponse;
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

/**
 * Full pages for anonymous GET and HEAD requests, kept in memory per install: never wp-admin,
 * the login page, logged-in or commenter visitors, or what WordPress marks private or
 * uncacheable (`Cache-Control`, `Set-Cookie`).
 */
export class PageCache {
  private readonly installs = new Map<string, Map<string, Entry>>();

  /** The cache key for a request, or null when the request must not use the cache. */
  keyOf(req: IncomingMessage, host: string, url: string): string | null {
    if (req.method !== 'GET' && req.method !== 'HEAD') return null;
    if (NEVER.test(url)) return null;
    if (SESSION_COOKIE.test(req.headers.cookie ?? '')) return null;
    if (noStore(req.headers['cache-control']) || noStore(req.headers.pragma)) return null;
    return `${host}${url}`;
  }

  get(installId: string, key: string): PhpResponse | undefined {
    const entry = this.installs.get(installId)?.get(key);
    if (entry === undefined) return undefined;
    if (Date.now() - entry.at > TTL_MS) {
      this.installs.get(installId)?.delete(key);
      return undefined;
    }
    return entry.response;
  }

  put(installId: string, key: string, response: PhpResponse): void {
    if (response.status !== 200) return;
    const h = response.headers;
    if (h['set-cookie'] !== undefined || noStore(h['cache-control'])) return;
    let pages = this.installs.get(installId);
    if (pages === undefined) {
      pages = new Map();
      this.installs.set(installId, pages);
    }
    if (pages.size >= MAX_PER_INSTALL) {
      const oldest = pages.keys().next().value;
      if (oldest !== undefined) pages.delete(oldest);
    }
    pages.set(key, { at: Date.now(), response });
  }

  purge(installId: string): number {
    const n = this.installs.get(installId)?.size ?? 0;
    this.installs.delete(installId);
    return n;
  }
}
