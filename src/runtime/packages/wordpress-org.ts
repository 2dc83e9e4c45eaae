import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import {
  PackageSourceUnavailableError,
  UnknownPackageVersionError,
} from '../../core/packages/package-errors.js';
import type { CoreVersions, PackageInfo, PackageKind } from '../../core/packages/package-source.js';
import { newestFirst } from '../../core/packages/version-compare.js';

export interface WordPressOrgPackageEndpoints {
  /** https://api.wordpress.org (WPFLEET_WORDPRESS_ORG_API): plugin and theme information. */
  api: string;
  /** For the API calls; a download gets this long between chunks, times four. */
  timeoutMs: number;
}

/** What wordpress.org says about a slug. */
export type WordPressOrgLookup =
  | {
      found: true;
      info: PackageInfo;
      /** Download URL per version (the `versions` map plus the newest's download_link). */
      downloads: Map<string, string>;
    }
  /** Its own error text, e.g. "Plugin not found." or a closed plugin's notice. */
  | { found: false; message: string };

/**
 * wordpress.org's plugin and theme directories (info API 1.2) and core version check, with the
 * releases source's conventions: a short timeout, and "unreachable" (any network failure or
 * 5xx) told apart from "not there" (the API's own error).
 */
export class WordPressOrgPackages {
  constructor(readonly endpoints: WordPressOrgPackageEndpoints) {}

  private async getJson(url: string): Promise<{ status: number; body: unknown }> {
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(this.endpoints.timeoutMs) });
    } catch (err) {
      throw new PackageSourceUnavailableError(`wordpress.org is not reachable (${cause(err)})`);
    }
    if (response.status >= 500) {
      throw new PackageSourceUnavailableError(`wordpress.org answered ${response.status}`);
    }
    const text = await response.text().catch(() => '');
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
    return { status: response.status, body };
  }

  async lookup(kind: PackageKind, slug: string): Promise<WordPressOrgLookup> {
    const action = kind === 'plugin' ? 'plugin_information' : 'theme_information';
    const url =
      `${this.endpoints.api}/${kind}s/info/1.2/?action=${action}` +
      `&request[slug]=${encodeURIComponent(slug)}` +
      '&request[fields][versions]=1&request[fields][sections]=0';
    const { status, body } = await this.getJson(url);
    return parseInformation(kind, slug, status, body);
  }

  async coreVersions(): Promise<CoreVersions> {
    const { status, body } = await this.getJson(`${this.endpoints.api}/core/version-check/1.7/`);
    const offers = isRecord(body) && Array.isArray(body.offers) ? body.offers : [];
    const versions = offers.flatMap((offer: unknown) =>
      isRecord(offer) && typeof offer.version === 'string' && /^\d+\.\d+/.test(offer.version)
        ? [offer.version]
        : [],
    );
    const latest = versions[0];
    if (status !== 200 || latest === undefined) {
      throw new PackageSourceUnavailableError(
        'wordpress.org did not say which WordPress version is newest',
      );
    }
    return { latest, versions: newestFirst(versions) };
  }

  /**
   * Streams `url` (a download link the API gave) to `file`; a 404 is the version missing, as
   * WP-CLI reports it.
   */
  async download(
    kind: PackageKind,
    slug: string,
    version: string,
    url: string,
    file: string,
  ): Promise<void> {
    const controller = new AbortController();
    const idleMs = this.endpoints.timeoutMs * 4;
    const idle = setTimeout(() => {
      controller.abort();
    }, idleMs);
    try {
      let response: Response;
      try {
        response = await fetch(url, { signal: controller.signal });
      } catch (err) {
        throw new PackageSourceUnavailableError(`wordpress.org is not reachable (${cause(err)})`);
      }
      if (response.status === 404) {
        throw new UnknownPackageVersionError(
          kind,
          slug,
          version,
          [],
          `Can't find the requested ${kind}'s version ${version} in the WordPress.org ${kind} repository (HTTP code 404).`,
        );
      }
      if (!response.ok || response.body === null) {
        throw new PackageSourceUnavailableError(
          `wordpress.org answered ${response.status} for ${url}`,
        );
      }
      const body = Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>);
      try {
        await pipeline(
          body,
          async function* (chunks: AsyncIterable<Buffer>) {
            for await (const chunk of chunks) {
              idle.refresh();
              yield chunk;
            }
          },
          createWriteStream(file, { flags: 'wx' }),
        );
      } catch (err) {
        throw new PackageSourceUnavailableError(`downloading ${url} failed (${cause(err)})`);
      }
    } finally {
      clearTimeout(idle);
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The info API's answer. Found: an object with `slug`, `version` and `download_link`. Not found:
 * `{"error": "Plugin not found."}` (404) or a closed plugin (`error: "closed"` with a
 * `description`); older APIs answered `null` or `false`.
 */
export function parseInformation(
  kind: PackageKind,
  slug: string,
  status: number,
  body: unknown,
): WordPressOrgLookup {
  const label = kind === 'plugin' ? 'Plugin' : 'Theme';
  if (body === null || body === false) return { found: false, message: `${label} not found.` };
  if (!isRecord(body)) {
    throw new PackageSourceUnavailableError(`wordpress.org answered ${status} without JSON`);
  }
  if (typeof body.error === 'string') {
    const closed = body.error === 'closed' || body.closed === true;
    const text = closed && typeof body.description === 'string' ? body.description : body.error;
    return { found: false, message: text };
  }
  const version = body.version;
  const link = body.download_link;
  if (status !== 200 || typeof version !== 'string' || typeof link !== 'string') {
    throw new PackageSourceUnavailableError(
      `wordpress.org answered ${status} for ${kind} ${slug} without a version and download link`,
    );
  }
  const downloads = new Map<string, string>();
  if (isRecord(body.versions)) {
    for (const [v, url] of Object.entries(body.versions)) {
      // "trunk" is the development copy, not a release (WP-CLI calls it "dev").
      if (v !== 'trunk' && typeof url === 'string') downloads.set(v, httpsOf(url));
    }
  }
  downloads.set(version, httpsOf(link));
  const name = typeof body.name === 'string' ? decodeEntities(body.name) : slug;
  return {
    found: true,
    info: {
      kind,
      slug: typeof body.slug === 'string' ? body.slug : slug,
      name,
      version,
      versions: newestFirst(downloads.keys()),
    },
    downloads,
  };
}

/** "WordPress.org forces https, but still sometimes returns http" (WP-CLI). */
function httpsOf(url: string): string {
  return url.replace(/^http:\/\/downloads\.wordpress\.org\//, 'https://downloads.wordpress.org/');
}

const NAMED: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
};

/** The API's names carry HTML entities ("Hello Dolly &#8211; …"). */
function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]+);/gi, (whole, code: string) => {
    if (!code.startsWith('#')) return NAMED[code.toLowerCase()] ?? whole;
    const point = /^#x/i.test(code) ? parseInt(code.slice(2), 16) : Number(code.slice(1));
    return point > 0 && point <= 0x10ffff ? String.fromCodePoint(point) : whole;
  });
}

export function cause(err: unknown): string {
  if (err instanceof Error) {
    const inner: unknown = err.cause;
    if (inner instanceof Error) return 'code' in inner ? String(inner.code) : inner.message;
    return err.name === 'TimeoutError' ? 'timed out' : err.message;
  }
  return String(err);
}
