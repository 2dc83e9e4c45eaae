import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { BrokenPackageError, RefusedUrlError } from '../../src/core/packages/package-errors.js';
import type { PackageSources } from '../../src/core/packages/package-source.js';
import { packageSourcesFor, UrlFetcher } from '../../src/runtime/packages/index.js';
import { sha256File } from '../../src/runtime/packages/mirror.js';
import { writeTestPackages } from '../helpers/package-fixtures.js';

let root: string;
let zips: string;
let server: http.Server;
let base: string;
/** Requests that reached the server: a refused URL must reach nothing. */
const seen: string[] = [];

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'wpfleet-url-'));
  zips = path.join(root, 'zips');
  await writeTestPackages(zips);
  await fs.writeFile(path.join(zips, 'not-a-zip.zip'), 'hello');
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    seen.push(url.pathname);
    const redirect = /^\/redirect\/(.+)$/.exec(url.pathname)?.[1];
    if (redirect !== undefined) {
      res.writeHead(302, { location: decodeURIComponent(redirect) });
      res.end();
      return;
    }
    const chunked = url.pathname.startsWith('/chunked/');
    const name = path.basename(url.pathname);
    void fs.readFile(path.join(zips, name)).then(
      (bytes) => {
        if (chunked) {
          res.write(bytes.subarray(0, 10));
          res.end(bytes.subarray(10));
        } else {
          res.setHeader('content-length', bytes.length);
          res.end(bytes);
        }
      },
      () => {
        res.statusCode = 404;
        res.end('not found');
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  await fs.rm(root, { recursive: true, force: true });
});

async function sources(allow?: string, maxBytes?: number): Promise<PackageSources> {
  const data = await fs.mkdtemp(path.join(root, 'data-'));
  const env: Record<string, string> = { WPFLEET_WPORG: 'off' };
  if (allow !== undefined) env.WPFLEET_FETCH_ALLOW = allow;
  return packageSourcesFor(
    loadConfig({ data }, env),
    { warn: () => undefined, info: () => undefined },
    maxBytes === undefined ? {} : { urls: { maxBytes } },
  );
}

async function refusal(promise: Promise<unknown>): Promise<RefusedUrlError> {
  const err = await promise.then(
    () => new Error('expected a refusal'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RefusedUrlError);
  return err as RefusedUrlError;
}

const PRIVATE =
  'is a loopback, private, link-local or reserved address; package URLs must be public unless the address is listed in WPFLEET_FETCH_ALLOW';

describe('the URL policy refuses, before connecting', () => {
  const cases: [string, () => string, string | RegExp][] = [
    [
      'loopback 127.0.0.1',
      () => `https://127.0.0.1:${new URL(base).port}/wpfleet-hello.1.0.0.zip`,
      `127.0.0.1 ${PRIVATE}`,
    ],
    ['plain http to loopback', () => `${base}/wpfleet-hello.1.0.0.zip`, `127.0.0.1 ${PRIVATE}`],
    [
      'a private 10.x address',
      () => 'https://10.1.2.3/plugin.zip',
      `https://10.1.2.3/plugin.zip: 10.1.2.3 ${PRIVATE}`,
    ],
    [
      'the cloud metadata address',
      () => 'https://169.254.169.254/latest/meta-data/',
      `https://169.254.169.254/latest/meta-data/: 169.254.169.254 ${PRIVATE}`,
    ],
    ['IPv6 loopback [::1]', () => 'https://[::1]/x.zip', `https://[::1]/x.zip: ::1 ${PRIVATE}`],
    [
      'IPv4-mapped loopback',
      () => 'https://[::ffff:127.0.0.1]/x.zip',
      new RegExp(`^https://\\[::ffff:7f00:1\\]/x\\.zip: ::ffff:7f00:1 ${PRIVATE}$`),
    ],
    [
      'a hostname resolving to loopback',
      () => 'https://localhost/x.zip',
      new RegExp(
        `^https://localhost/x\\.zip: localhost resolves to (127\\.0\\.0\\.1|::1), which ${PRIVATE}$`,
      ),
    ],
    [
      'a file: URL',
      () => 'file:///etc/passwd',
      "file: URLs are not taken: only the https:// URL of a zip (a path on the server's disk never is)",
    ],
    [
      'an ftp: URL',
      () => 'ftp://ftp.example.com/plugin.zip',
      "ftp: URLs are not taken: only the https:// URL of a zip (a path on the server's disk never is)",
    ],
    [
      'a data: URL',
      () => 'data:application/zip;base64,UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==',
      "data: URLs are not taken: only the https:// URL of a zip (a path on the server's disk never is)",
    ],
    [
      'a path on disk',
      () => '/etc/passwd',
      '"/etc/passwd" is not a URL; give the https:// URL of a zip',
    ],
    [
      'credentials in the URL',
      () => 'https://user:secret@example.com/x.zip',
      'https://example.com/x.zip: URLs with a user name or password are not taken',
    ],
    [
      'plain http to a public address',
      () => 'http://93.184.216.34/x.zip',
      'http://93.184.216.34/x.zip: plain http:// is taken only for addresses listed in WPFLEET_FETCH_ALLOW; use https://',
    ],
  ];

  it.each(cases)('%s', async (_name, url, message) => {
    seen.length = 0;
    const err = await refusal((await sources()).fromUrl('plugin', url()));
    if (typeof message === 'string') expect(err.message.endsWith(message)).toBe(true);
    else expect(err.message).toMatch(message);
    expect(err.message).not.toContain('secret');
    expect(err.code).toBe('refused_url');
    expect(seen).toEqual([]);
  });

  it('a listed block opens only itself: 127.0.0.1 listed does not open 10.x', async () => {
    const err = await refusal(
      (await sources('127.0.0.1/32')).fromUrl('plugin', 'https://10.0.0.1/x.zip'),
    );
    expect(err.message).toBe(`https://10.0.0.1/x.zip: 10.0.0.1 ${PRIVATE}`);
  });

  it('every address a name resolves to is checked, not only the first', async () => {
    const fetcher = new UrlFetcher({
      allow: ['127.0.0.1/32'],
      resolve: () =>
        Promise.resolve([
          { address: '127.0.0.1', family: 4 },
          { address: '10.9.8.7', family: 4 },
        ]),
    });
    const err = await refusal(fetcher.check('http://packages.example/x.zip'));
    expect(err.message).toBe(
      `http://packages.example/x.zip: packages.example resolves to 10.9.8.7, which ${PRIVATE}`,
    );
  });
});

describe('the connection goes to the address that was checked', () => {
  it('a second DNS answer (rebinding) is never used', async () => {
    const port = new URL(base).port;
    const answers = [[{ address: '127.0.0.1', family: 4 }]];
    let lookups = 0;
    const fetcher = new UrlFetcher({
      allow: ['127.0.0.1/32'],
      // First answer: the listed test server. Any later one: an address that would hang.
      resolve: () => {
        lookups++;
        return Promise.resolve(answers[lookups - 1] ?? [{ address: '192.0.2.1', family: 4 }]);
      },
      idleTimeoutMs: 2_000,
    });
    const file = path.join(root, 'pinned.zip');
    const got = await fetcher.download(
      `http://packages.example:${port}/wpfleet-hello.1.0.0.zip`,
      file,
    );
    expect(lookups).toBe(1);
    expect(got.sha256).toBe(await sha256File(path.join(zips, 'wpfleet-hello.1.0.0.zip')));
  });
});

describe('with the test server listed in WPFLEET_FETCH_ALLOW', () => {
  it('downloads a plugin zip over http from the listed address and checks it', async () => {
    const got = await (
      await sources('127.0.0.1/32')
    ).fromUrl('plugin', `${base}/wpfleet-hello.1.1.0.zip`);
    expect(got).toMatchObject({ kind: 'plugin', slug: 'wpfleet-hello', version: '1.1.0' });
    expect(got.sha256).toBe(await sha256File(path.join(zips, 'wpfleet-hello.1.1.0.zip')));
    expect(path.isAbsolute(got.file)).toBe(true);
    expect(await sha256File(got.file)).toBe(got.sha256);
  });

  it('follows a redirect on the listed address, and checks where it leads', async () => {
    const s = await sources('127.0.0.1/32');
    const ok = await s.fromUrl(
      'theme',
      `${base}/redirect/${encodeURIComponent('/wpfleet-plain.1.1.0.zip')}`,
    );
    expect(ok).toMatchObject({ kind: 'theme', slug: 'wpfleet-plain', version: '1.1.0' });
    for (const target of [
      'http://10.0.0.1/x.zip',
      'https://169.254.169.254/latest/meta-data/',
      'file:///etc/passwd',
    ]) {
      const err = await refusal(
        s.fromUrl('plugin', `${base}/redirect/${encodeURIComponent(target)}`),
      );
      expect(err.message).not.toContain(base.replace('http://', 'https://'));
      expect(err.message).toMatch(/is a loopback, private|URLs are not taken/);
    }
  });

  it('refuses what is too large, with or without a Content-Length', async () => {
    const s = await sources('127.0.0.1/32', 300);
    const declared = await refusal(s.fromUrl('plugin', `${base}/wpfleet-hello.1.0.0.zip`));
    expect(declared.message).toMatch(/: the zip is \d+ bytes, more than the 300 allowed$/);
    const streamed = await refusal(s.fromUrl('plugin', `${base}/chunked/wpfleet-hello.1.0.0.zip`));
    expect(streamed.message).toMatch(/: the zip is larger than the 300 bytes allowed$/);
  });

  it('a 404 is refused with the status', async () => {
    const err = await refusal(
      (await sources('127.0.0.1/32')).fromUrl('plugin', `${base}/missing.zip`),
    );
    expect(err.message).toBe(`${base}/missing.zip: the server answered HTTP 404`);
  });

  it('a download that is not a plugin is a broken package', async () => {
    const s = await sources('127.0.0.1/32');
    const theme = await s
      .fromUrl('plugin', `${base}/wpfleet-plain.1.0.0.zip`)
      .catch((e: unknown) => e);
    expect(theme).toBeInstanceOf(BrokenPackageError);
    expect((theme as Error).message).toBe(
      `${base}/wpfleet-plain.1.0.0.zip: The package could not be installed. No valid plugins were found. (no PHP file at the top of wpfleet-plain/ has a "Plugin Name:" header)`,
    );
    const notZip = await s.fromUrl('plugin', `${base}/not-a-zip.zip`).catch((e: unknown) => e);
    expect(notZip).toBeInstanceOf(BrokenPackageError);
  });
});

describe('settings', () => {
  it('defaults: mirror in the data directory, wordpress.org on, nothing opened', () => {
    const config = loadConfig({ data: '/srv/wpfleet' }, {});
    expect(config.packages).toEqual({
      mirrorDir: '/srv/wpfleet/mirror',
      wordpressOrg: true,
      fetchAllow: [],
    });
  });

  it('reads WPFLEET_MIRROR_DIR, WPFLEET_WPORG and WPFLEET_FETCH_ALLOW', () => {
    const config = loadConfig(
      { data: '/srv/wpfleet' },
      {
        WPFLEET_MIRROR_DIR: '/srv/mirror',
        WPFLEET_WPORG: 'off',
        WPFLEET_FETCH_ALLOW: '10.0.5.0/24, 127.0.0.1',
      },
    );
    expect(config.packages).toEqual({
      mirrorDir: '/srv/mirror',
      wordpressOrg: false,
      fetchAllow: ['10.0.5.0/24', '127.0.0.1'],
    });
  });

  it('refuses bad values, naming the setting', () => {
    expect(() => loadConfig({}, { WPFLEET_FETCH_ALLOW: 'intranet' })).toThrow(
      new ConfigError('WPFLEET_FETCH_ALLOW', '"intranet" is not an address or CIDR block'),
    );
    expect(() => loadConfig({}, { WPFLEET_WPORG: 'sometimes' })).toThrow(
      new ConfigError('WPFLEET_WPORG', '"sometimes" is not true or false'),
    );
  });
});
