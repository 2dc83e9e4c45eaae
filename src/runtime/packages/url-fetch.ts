import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import dns from 'node:dns/promises';
import net, { type LookupFunction } from 'node:net';
import { RefusedUrlError } from '../../core/packages/package-errors.js';
import { NetworkPolicy, parseCidr } from '../php/network-policy.js';

export interface UrlFetchOptions {
  /** CIDR blocks opened although private (`WPFLEET_FETCH_ALLOW`); http:// only for these. */
  allow: readonly string[];
  /** Largest zip taken (bytes). */
  maxBytes?: number;
  /** No bytes for this long ends the download. */
  idleTimeoutMs?: number;
  /** The whole download, redirects included. */
  totalTimeoutMs?: number;
  /** This machine's addresses (closed like loopback); default: its interfaces'. */
  ownAddresses?: readonly string[];
  /** Resolves a host name to every address it has; default the system's (dns.lookup). */
  resolve?: (host: string) => Promise<{ address: string; family: number }[]>;
}

export const DEFAULT_MAX_BYTES = 100 * 1024 * 1024;
const MAX_REDIRECTS = 5;
const LOOKUP_TIMEOUT_MS = 10_000;

/** A URL that passed the policy, and the address it was checked at (the one connected to). */
export interface CheckedUrl {
  url: URL;
  address: string;
  family: 4 | 6;
}

export interface Downloaded {
  /** The URL the zip came from after redirects. */
  url: string;
  bytes: number;
  sha256: string;
}

/**
 * Fetches package zips a client names by URL. Only `https://` (plain `http://` only to
 * addresses listed in `allow`); the host is resolved and every address it has must be public
 * by the PHP network policy's classification (loopback, private, link-local and metadata,
 * reserved and this machine's own addresses are refused) unless listed in `allow`; the
 * connection goes to the address that was checked, so a second DNS answer cannot swap it
 * (no rebinding). Each redirect is checked the same way. Never a path on this machine's disk.
 */
export class UrlFetcher {
  private readonly policy: NetworkPolicy;
  private readonly allowed = new net.BlockList();
  private readonly maxBytes: number;
  private readonly idleTimeoutMs: number;
  private readonly totalTimeoutMs: number;
  private readonly resolve: (host: string) => Promise<{ address: string; family: number }[]>;

  constructor(options: UrlFetchOptions) {
    this.resolve = options.resolve ?? ((host) => dns.lookup(host, { all: true, verbatim: true }));
    this.policy =
      options.ownAddresses === undefined
        ? new NetworkPolicy(options.allow)
        : new NetworkPolicy(options.allow, options.ownAddresses);
    for (const block of options.allow) {
      const { address, prefix, family } = parseCidr(block);
      this.allowed.addSubnet(address, prefix, family);
    }
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    this.totalTimeoutMs = options.totalTimeoutMs ?? 10 * 60_000;
  }

  /** Parses and checks `raw`; RefusedUrlError saying why when the policy does not take it. */
  async check(raw: string): Promise<CheckedUrl> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new RefusedUrlError(raw, `"${raw}" is not a URL; give the https:// URL of a zip`);
    }
    const shown = url.origin === 'null' ? `${url.protocol}…` : `${url.origin}${url.pathname}`;
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new RefusedUrlError(
        raw,
        `${url.protocol} URLs are not taken: only the https:// URL of a zip (a path on the server's disk never is)`,
      );
    }
    if (url.username !== '' || url.password !== '') {
      throw new RefusedUrlError(raw, `${shown}: URLs with a user name or password are not taken`);
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
    let addresses: { address: string; family: number }[];
    if (net.isIP(host) !== 0) {
      addresses = [{ address: host, family: net.isIP(host) }];
    } else {
      try {
        addresses = await withTimeout(this.resolve(host), LOOKUP_TIMEOUT_MS);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'failed';
        throw new RefusedUrlError(raw, `${shown}: the host ${host} does not resolve (${code})`);
      }
    }
    const first = addresses[0];
    if (first === undefined) {
      throw new RefusedUrlError(raw, `${shown}: the host ${host} has no address`);
    }
    for (const { address } of addresses) {
      const verdict = this.policy.decide(address, port, null);
      if (verdict.kind !== 'allow') {
        throw new RefusedUrlError(
          raw,
          `${shown}: ${host === address ? address : `${host} resolves to ${address}, which`} is a loopback, private, link-local or reserved address; ` +
            'package URLs must be public unless the address is listed in WPFLEET_FETCH_ALLOW',
        );
      }
      if (url.protocol === 'http:' && !this.isListed(address)) {
        throw new RefusedUrlError(
          raw,
          `${shown}: plain http:// is taken only for addresses listed in WPFLEET_FETCH_ALLOW; use https://`,
        );
      }
    }
    return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
  }

  private isListed(address: string): boolean {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] ?? address;
    return this.allowed.check(mapped, net.isIPv6(mapped) ? 'ipv6' : 'ipv4');
  }

  /** Downloads `raw` to `file` (created), following up to 5 redirects, each checked. */
  async download(raw: string, file: string): Promise<Downloaded> {
    const deadline = Date.now() + this.totalTimeoutMs;
    let current = raw;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const target = await this.check(current);
      const result = await this.get(raw, target, file, deadline);
      if (result.kind === 'done') return { url: target.url.toString(), ...result.downloaded };
      current = new URL(result.location, target.url).toString();
    }
    throw new RefusedUrlError(raw, `${raw}: more than ${MAX_REDIRECTS} redirects`);
  }

  private get(
    raw: string,
    target: CheckedUrl,
    file: string,
    deadline: number,
  ): Promise<
    { kind: 'done'; downloaded: Omit<Downloaded, 'url'> } | { kind: 'redirect'; location: string }
  > {
    const shown = `${target.url.origin}${target.url.pathname}`;
    const lookup: LookupFunction = (_hostname, options, callback) => {
      if (options.all === true) {
        callback(null, [{ address: target.address, family: target.family }]);
      } else {
        callback(null, target.address, target.family);
      }
    };
    const client = target.url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const fail = (message: string): void => {
        request.destroy();
        reject(new RefusedUrlError(raw, `${shown}: ${message}`));
      };
      const total = setTimeout(
        () => {
          fail('the download took too long');
        },
        Math.max(0, deadline - Date.now()),
      );
      const request = client.get(
        target.url,
        // No pooled sockets: each request connects to the address checked for it.
        { lookup, agent: false, headers: { 'user-agent': 'wpfleet', accept: '*/*' } },
        (response) => {
          const status = response.statusCode ?? 0;
          const location = response.headers.location;
          if (status >= 300 && status < 400 && location !== undefined) {
            response.resume();
            clearTimeout(total);
            resolve({ kind: 'redirect', location });
            return;
          }
          if (status !== 200) {
            response.resume();
            clearTimeout(total);
            fail(`the server answered HTTP ${status}`);
            return;
          }
          const declared = Number(response.headers['content-length'] ?? NaN);
          if (declared > this.maxBytes) {
            clearTimeout(total);
            fail(`the zip is ${declared} bytes, more than the ${this.maxBytes} allowed`);
            return;
          }
          const hash = createHash('sha256');
          const out = createWriteStream(file, { flags: 'wx' });
          let bytes = 0;
          const stop = (message: string): void => {
            clearTimeout(total);
            out.destroy();
            void fs.rm(file, { force: true });
            fail(message);
          };
          response.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            if (bytes > this.maxBytes) {
              stop(`the zip is larger than the ${this.maxBytes} bytes allowed`);
              return;
            }
            hash.update(chunk);
            if (!out.write(chunk)) {
              response.pause();
              out.once('drain', () => response.resume());
            }
          });
          response.on('error', (err) => {
            stop(`the download broke off (${err.message})`);
          });
          response.on('end', () => {
            out.end(() => {
              clearTimeout(total);
              resolve({ kind: 'done', downloaded: { bytes, sha256: hash.digest('hex') } });
            });
          });
          out.on('error', (err) => {
            stop(`cannot write the download (${err.message})`);
          });
        },
      );
      request.setTimeout(this.idleTimeoutMs, () => {
        clearTimeout(total);
        fail(`no answer for ${Math.round(this.idleTimeoutMs / 1000)} s`);
      });
      request.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(total);
        reject(
          new RefusedUrlError(raw, `${shown}: cannot be downloaded (${err.code ?? err.message})`),
        );
      });
    });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(Object.assign(new Error('timed out'), { code: 'ETIMEOUT' }));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => {
    clearTimeout(timer);
  });
}
