import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { parseChecksums, type Checksums } from '../checksums.js';
import { ReleaseError } from '../errors.js';
import { INSTALL_OWNED, type FetchedRelease, type ReleaseSource } from '../source.js';
import { checkVersion, readWordPressVersion } from '../version.js';
import { findWordPressRoot, unzipTo } from '../zip.js';

export interface WordPressOrgEndpoints {
  /** https://api.wordpress.org: version-check and checksums. */
  api: string;
  /** https://downloads.wordpress.org: the release zips. */
  downloads: string;
  /** For the small API calls; a download gets this long between chunks. */
  timeoutMs: number;
}

export const WORDPRESS_ORG: WordPressOrgEndpoints = {
  api: 'https://api.wordpress.org',
  downloads: 'https://downloads.wordpress.org',
  timeoutMs: 10_000,
};

const LOCALE = 'en_US';

/** wordpress.org's API: the newest version, a version's checksums, its zip. */
export class WordPressOrgClient {
  constructor(readonly endpoints: WordPressOrgEndpoints = WORDPRESS_ORG) {}

  private async get(url: string): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(this.endpoints.timeoutMs) });
    } catch (err) {
      throw new ReleaseError('unreachable', `wordpress.org is not reachable (${cause(err)})`);
    }
    if (response.status >= 500) {
      throw new ReleaseError('unreachable', `wordpress.org answered ${response.status} for ${url}`);
    }
    return response;
  }

  async latestVersion(): Promise<string> {
    const response = await this.get(`${this.endpoints.api}/core/version-check/1.7/`);
    const body: unknown = await response.json().catch(() => null);
    const offer =
      typeof body === 'object' && body !== null && 'offers' in body && Array.isArray(body.offers)
        ? (body.offers[0] as unknown)
        : undefined;
    const version =
      typeof offer === 'object' && offer !== null && 'version' in offer ? offer.version : undefined;
    if (!response.ok || typeof version !== 'string') {
      throw new ReleaseError('unreachable', 'wordpress.org did not say which version is newest');
    }
    return checkVersion(version);
  }

  async checksums(version: string): Promise<Checksums> {
    const url = `${this.endpoints.api}/core/checksums/1.0/?version=${encodeURIComponent(version)}&locale=${LOCALE}`;
    const response = await this.get(url);
    const text = response.ok ? await response.text() : '';
    // The API answers `{"checksums": false}` for a version it does not know.
    if (!response.ok || /"checksums"\s*:\s*false/.test(text)) {
      throw new ReleaseError(
        'not_offered',
        `wordpress.org has no checksums for WordPress ${version}`,
      );
    }
    return parseChecksums(text, version, `wordpress.org's checksums`);
  }

  /** Streams the release zip to `file`; gives up when no bytes came for `timeoutMs`. */
  async downloadZip(version: string, file: string): Promise<string> {
    const url = `${this.endpoints.downloads}/release/wordpress-${version}.zip`;
    const controller = new AbortController();
    const idle = setTimeout(() => {
      controller.abort();
    }, this.endpoints.timeoutMs);
    try {
      let response: Response;
      try {
        response = await fetch(url, { signal: controller.signal });
      } catch (err) {
        throw new ReleaseError('unreachable', `wordpress.org is not reachable (${cause(err)})`);
      }
      if (response.status === 404) {
        throw new ReleaseError('not_offered', `wordpress.org has no WordPress ${version}`);
      }
      if (!response.ok || response.body === null) {
        throw new ReleaseError(
          'unreachable',
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
          createWriteStream(file),
        );
      } catch (err) {
        throw new ReleaseError('unreachable', `downloading ${url} failed (${cause(err)})`);
      }
      return url;
    } finally {
      clearTimeout(idle);
    }
  }
}

function cause(err: unknown): string {
  if (err instanceof Error) {
    const inner: unknown = err.cause;
    if (inner instanceof Error) return 'code' in inner ? String(inner.code) : inner.message;
    return err.name === 'TimeoutError' ? 'timed out' : err.message;
  }
  return String(err);
}

export class WordPressOrgSource implements ReleaseSource {
  readonly name = 'wordpress.org';
  private reason = '';
  /** What available() learnt, so fetch() need not ask again. */
  private latest: string | undefined;

  constructor(private readonly client = new WordPressOrgClient()) {}

  async available(): Promise<boolean> {
    try {
      this.latest = await this.client.latestVersion();
      return true;
    } catch (err) {
      this.reason = err instanceof Error ? err.message : String(err);
      return false;
    }
  }

  unavailableReason(): string {
    return this.reason;
  }

  async newestVersion(): Promise<string> {
    this.latest ??= await this.client.latestVersion();
    return this.latest;
  }

  /** wordpress.org publishes checksums for every version it has. */
  async offers(version: string): Promise<boolean> {
    try {
      await this.client.checksums(version);
      return true;
    } catch (err) {
      if (err instanceof ReleaseError && err.code === 'not_offered') return false;
      throw err;
    }
  }

  async fetch(version: string | undefined, into: string): Promise<FetchedRelease> {
    const wanted = version === undefined ? await this.newestVersion() : checkVersion(version);
    // Checksums first: an unknown version fails before a download.
    const checksums = await this.client.checksums(wanted);
    const scratch = path.dirname(into);
    const zip = path.join(scratch, `wordpress-${wanted}.zip`);
    const url = await this.client.downloadZip(wanted, zip);
    const unpacked = path.join(scratch, 'unzipped');
    await unzipTo(zip, unpacked);
    const root = await findWordPressRoot(unpacked, url);
    for (const name of INSTALL_OWNED) await fs.rm(path.join(root, name), { force: true });
    await fs.rename(root, into);
    const found = await readWordPressVersion(into);
    if (found !== wanted) {
      throw new ReleaseError('invalid', `${url} holds WordPress ${found}, not ${wanted}`);
    }
    return {
      version: wanted,
      origin: url,
      checksums,
      against: `wordpress.org's checksums for ${wanted} (${LOCALE})`,
      notes: [],
    };
  }
}
