import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import {
  BrokenPackageError,
  PackageSourceUnavailableError,
  UnknownPackageError,
  UnknownPackageVersionError,
} from '../../src/core/packages/package-errors.js';
import type { PackageSources } from '../../src/core/packages/package-source.js';
import { PackageMirror, packageSourcesFor } from '../../src/runtime/packages/index.js';
import { sha256File } from '../../src/runtime/packages/mirror.js';
import { helloPlugin, writeTestPackages, zipFiles } from '../helpers/package-fixtures.js';

const FIXTURES = new URL('../fixtures/wordpress-org/', import.meta.url);

interface FakeDirectory {
  base: string;
  /** Path and query of every request, in order. */
  requests: string[];
  close(): Promise<void>;
}

async function fixture(name: string, base: string): Promise<string | null> {
  const text = await fs.readFile(new URL(name, FIXTURES), 'utf8').catch(() => null);
  return text?.replaceAll('https://downloads.wordpress.org', base) ?? null;
}

/**
 * wordpress.org's info API, version check and downloads on 127.0.0.1, answering with the
 * recorded-shape fixtures and serving the zips in `zips` at /plugin/… and /theme/….
 */
async function fakeDirectory(zips: string, status?: number): Promise<FakeDirectory> {
  const requests: string[] = [];
  let base = '';
  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      requests.push(`${url.pathname}${url.search}`);
      if (status !== undefined) {
        res.statusCode = status;
        res.end('down for maintenance');
        return;
      }
      const json = (code: number, body: string): void => {
        res.statusCode = code;
        res.setHeader('content-type', 'application/json; charset=utf-8');
        res.end(body);
      };
      const info = /^\/(plugins|themes)\/info\/1\.2\/$/.exec(url.pathname);
      if (info !== null) {
        const kind = info[1] === 'plugins' ? 'plugin' : 'theme';
        const slug = url.searchParams.get('request[slug]') ?? '';
        const found = /^[a-z0-9-]+$/.test(slug)
          ? await fixture(`${kind}-${slug}.json`, base)
          : null;
        if (found !== null) json(found.includes('"closed"') ? 404 : 200, found);
        else json(404, (await fixture(`${kind}-not-found.json`, base)) ?? '');
        return;
      }
      if (url.pathname === '/core/version-check/1.7/') {
        json(200, (await fixture('core-version-check.json', base)) ?? '');
        return;
      }
      const download = /^\/(plugin|theme)\/([a-z0-9.-]+\.zip)$/.exec(url.pathname);
      const bytes =
        download === null
          ? null
          : await fs.readFile(path.join(zips, download[2] ?? '')).catch(() => null);
      if (bytes !== null) {
        res.setHeader('content-type', 'application/zip');
        res.end(bytes);
        return;
      }
      res.statusCode = 404;
      res.end('not found');
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}

let root: string;
let zips: string;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'wpfleet-wporg-pkg-'));
  zips = path.join(root, 'zips');
  await writeTestPackages(zips);
  // ghost-version 1.0.0 is served with the wrong folder; 0.9.0 is listed but not served.
  await zipFiles(
    { 'not-ghost/not-ghost.php': '<?php\n/* Plugin Name: Not Ghost\nVersion: 1.0.0 */' },
    path.join(zips, 'ghost-version.1.0.0.zip'),
  );
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

interface Setup {
  sources: PackageSources;
  data: string;
  warnings: string[];
}

async function setup(
  api: string,
  env: Record<string, string> = {},
  knownRelease?: string,
): Promise<Setup> {
  const data = await fs.mkdtemp(path.join(root, 'data-'));
  if (knownRelease !== undefined) {
    await fs.mkdir(path.join(data, 'releases', knownRelease), { recursive: true });
    await fs.writeFile(path.join(data, 'releases', knownRelease, 'manifest.json'), '{}');
  }
  const warnings: string[] = [];
  const config = loadConfig(
    { data },
    { WPFLEET_WORDPRESS_ORG_API: api, WPFLEET_CACHE_DIR: path.join(data, 'cache'), ...env },
  );
  const log = {
    warn: (message: string) => {
      warnings.push(message);
    },
    info: () => undefined,
  };
  const sources = packageSourcesFor(config, log, { wordpressOrg: { timeoutMs: 2_000 } });
  return { sources, data, warnings };
}

async function rejection<T extends Error>(
  promise: Promise<unknown>,
  type: new (...args: never[]) => T,
): Promise<T> {
  const err = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(type);
  return err as T;
}

describe('wordpress.org as a package source (a local stand-in serving recorded-shape answers)', () => {
  let wporg: FakeDirectory;

  beforeAll(async () => {
    wporg = await fakeDirectory(zips);
  });
  afterAll(async () => {
    await wporg.close();
  });

  it("reads a plugin's information: name, newest version, every released version", async () => {
    const { sources } = await setup(wporg.base);
    wporg.requests.length = 0;
    expect(await sources.latest('plugin', 'wpfleet-hello')).toEqual({
      kind: 'plugin',
      slug: 'wpfleet-hello',
      name: 'wpfleet Hello – a test plugin',
      version: '2.0.0',
      versions: ['2.0.0', '1.1.0', '1.0.0'],
    });
    expect(wporg.requests).toEqual([
      '/plugins/info/1.2/?action=plugin_information&request[slug]=wpfleet-hello&request[fields][versions]=1&request[fields][sections]=0',
    ]);
    expect(await sources.latest('theme', 'wpfleet-plain')).toMatchObject({
      name: 'wpfleet Plain',
      version: '1.1.0',
      versions: ['1.1.0', '1.0.0'],
    });
    expect(await sources.latest('plugin', 'no-such-plugin')).toBeNull();
    expect(await sources.latest('theme', 'no-such-theme')).toBeNull();
  });

  it('downloads a given version, checks it, and keeps it under the data directory', async () => {
    const { sources, data } = await setup(wporg.base);
    wporg.requests.length = 0;
    const got = await sources.fetch('plugin', 'wpfleet-hello', '1.1.0');
    expect(wporg.requests.at(-1)).toBe('/plugin/wpfleet-hello.1.1.0.zip');
    expect(got).toMatchObject({ kind: 'plugin', slug: 'wpfleet-hello', version: '1.1.0' });
    expect(got.sha256).toBe(await sha256File(path.join(zips, 'wpfleet-hello.1.1.0.zip')));
    expect(got.file).toBe(
      path.join(
        data,
        'packages/downloads',
        `plugin-wpfleet-hello-1.1.0-${got.sha256.slice(0, 16)}.zip`,
      ),
    );
    expect(await sha256File(got.file)).toBe(got.sha256);
    const theme = await sources.fetch('theme', 'wpfleet-plain');
    expect(theme.version).toBe('1.1.0');
    expect(await fs.readdir(path.join(data, 'packages/downloads'))).toHaveLength(2);
  });

  it('an unknown version names the versions there are, before any download', async () => {
    const { sources } = await setup(wporg.base);
    wporg.requests.length = 0;
    const err = await rejection(
      sources.fetch('plugin', 'wpfleet-hello', '9.9.9'),
      UnknownPackageVersionError,
    );
    expect(err.message).toBe(
      "Can't find the requested plugin's version 9.9.9 in the WordPress.org plugin repository. Available versions: 2.0.0, 1.1.0, 1.0.0.",
    );
    expect(wporg.requests.some((r) => r.endsWith('.zip'))).toBe(false);
    const listedButGone = await rejection(
      sources.fetch('plugin', 'ghost-version', '0.9.0'),
      UnknownPackageVersionError,
    );
    expect(listedButGone.message).toBe(
      "Can't find the requested plugin's version 0.9.0 in the WordPress.org plugin repository (HTTP code 404).",
    );
  });

  it("an unknown or closed slug gets wordpress.org's own words", async () => {
    const { sources } = await setup(wporg.base);
    const unknown = await rejection(sources.fetch('plugin', 'no-such-plugin'), UnknownPackageError);
    expect(unknown.message).toBe(
      "Couldn't find 'no-such-plugin' in the WordPress.org plugin directory (Plugin not found.), nor in the mirror.",
    );
    const theme = await rejection(sources.fetch('theme', 'no-such-theme'), UnknownPackageError);
    expect(theme.message).toBe(
      "Couldn't find 'no-such-theme' in the WordPress.org theme directory (Theme not found), nor in the mirror.",
    );
    const closed = await rejection(sources.fetch('plugin', 'closed'), UnknownPackageError);
    expect(closed.message).toBe(
      "Couldn't find 'closed' in the WordPress.org plugin directory (This plugin has been closed as of March 4, 2024 and is not available for download. Reason: Security Issue.), nor in the mirror.",
    );
  });

  it('refuses a download whose folder is not the slug, and keeps nothing of it', async () => {
    const { sources, data } = await setup(wporg.base);
    const err = await rejection(sources.fetch('plugin', 'ghost-version'), BrokenPackageError);
    expect(err.message).toBe(
      `${wporg.base}/plugin/ghost-version.1.0.0.zip: The package could not be installed. It holds the folder "not-ghost", not "ghost-version".`,
    );
    expect(await fs.readdir(path.join(data, 'packages/downloads'))).toEqual([]);
  });

  it('asks the mirror first: a slug it has is never looked up on wordpress.org', async () => {
    const { sources, data } = await setup(wporg.base);
    await new PackageMirror(path.join(data, 'mirror')).add(
      path.join(zips, 'wpfleet-hello.1.0.0.zip'),
    );
    wporg.requests.length = 0;
    expect(await sources.latest('plugin', 'wpfleet-hello')).toMatchObject({
      name: 'wpfleet Hello',
      version: '1.0.0',
      versions: ['1.0.0'],
    });
    const err = await rejection(
      sources.fetch('plugin', 'wpfleet-hello', '2.0.0'),
      UnknownPackageVersionError,
    );
    expect(err.message).toBe(
      "Can't find the requested plugin's version 2.0.0 in the plugin mirror. Available versions: 1.0.0.",
    );
    expect(wporg.requests).toEqual([]);
    // The theme of the same name is another slug: not in the mirror, so wordpress.org answers.
    expect((await sources.latest('theme', 'wpfleet-plain'))?.version).toBe('1.1.0');
  });

  it("reads core versions from wordpress.org's version check", async () => {
    const { sources } = await setup(wporg.base);
    expect(await sources.coreVersions()).toEqual({ latest: '6.6.2', versions: ['6.6.2', '6.5.5'] });
  });

  it('never asks wordpress.org when WPFLEET_WPORG is off', async () => {
    const { sources } = await setup(wporg.base, { WPFLEET_WPORG: 'off' }, '6.1.9');
    wporg.requests.length = 0;
    expect(await sources.latest('plugin', 'wpfleet-hello')).toBeNull();
    expect(await sources.coreVersions()).toEqual({ latest: '6.1.9', versions: ['6.1.9'] });
    expect(wporg.requests).toEqual([]);
  });
});

describe('wordpress.org unreachable', () => {
  it('fails fast with a clear message, falls back for core versions, and waits before asking again', async () => {
    const down = await fakeDirectory(zips, 503);
    try {
      const { sources, data, warnings } = await setup(down.base, {}, '6.1.9');
      const started = Date.now();
      const err = await rejection(
        sources.latest('plugin', 'akismet'),
        PackageSourceUnavailableError,
      );
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(err.message).toBe("wordpress.org answered 503; the mirror has no plugin 'akismet'");
      expect(warnings).toEqual(['wordpress.org answered 503; using the mirror alone for a minute']);
      expect(down.requests).toHaveLength(1);

      // Within the minute: not asked again, and the mirror still serves what it has.
      const again = await rejection(sources.fetch('theme', 'x'), PackageSourceUnavailableError);
      expect(again.message).toBe("wordpress.org answered 503; the mirror has no theme 'x'");
      expect(await sources.coreVersions()).toEqual({ latest: '6.1.9', versions: ['6.1.9'] });
      await new PackageMirror(path.join(data, 'mirror')).add(
        path.join(zips, 'wpfleet-hello.1.1.0.zip'),
      );
      expect((await sources.fetch('plugin', 'wpfleet-hello')).version).toBe('1.1.0');
      expect(down.requests).toHaveLength(1);
    } finally {
      await down.close();
    }
  });

  it('a port nothing listens on: "not reachable", and core versions need a release', async () => {
    const closed = await fakeDirectory(zips);
    const base = closed.base;
    await closed.close();
    const { sources } = await setup(base);
    const err = await rejection(
      sources.latest('theme', 'twentytwentyfour'),
      PackageSourceUnavailableError,
    );
    expect(err.message).toBe(
      "wordpress.org is not reachable (ECONNREFUSED); the mirror has no theme 'twentytwentyfour'",
    );
    const core = await rejection(sources.coreVersions(), PackageSourceUnavailableError);
    expect(core.message).toBe(
      'No WordPress versions are known: wordpress.org is not reachable (ECONNREFUSED), and this server has no release; add one with `wpfleet releases add`',
    );
  });

  it('keeps a mirror-only plugin working with wordpress.org down', async () => {
    const closed = await fakeDirectory(zips);
    const base = closed.base;
    await closed.close();
    const { sources, data } = await setup(base);
    const mirror = new PackageMirror(path.join(data, 'mirror'));
    await mirror.add(await zipFiles(helloPlugin('1.0.0'), path.join(data, 'in', 'h.zip')));
    expect(await sources.latest('plugin', 'wpfleet-hello')).toMatchObject({ version: '1.0.0' });
  });
});
