import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { encodeZip } from '@php-wasm/stream-compression';
import { expect } from 'vitest';
import { ReleaseError, type ReleaseSettings } from '../../src/runtime/releases/index.js';
import { ownCache, SHARED_CACHE } from '../helpers/engines.js';

export { ownCache, SHARED_CACHE };

export async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `wpfleet-${prefix}-`));
}

export function settings(
  dataDir: string,
  releaseSources: ReleaseSettings['releaseSources'] = [],
): ReleaseSettings {
  return { dataDir, cacheDir: ownCache(dataDir), releaseSources };
}

/**
 * A tiny stand-in for WordPress with the files a release must have; real enough for sources
 * and verification, which look at files and checksums, not at PHP.
 */
export function fakeWordPress(version: string): Record<string, string> {
  return {
    'index.php': '<?php require __DIR__ . "/wp-blog-header.php";\n',
    'wp-settings.php': '<?php // settings\n',
    'wp-login.php': '<?php // login\n',
    'wp-config-sample.php': "<?php define('DB_NAME', 'database_name_here');\n",
    'wp-admin/index.php': '<?php // dashboard\n',
    'wp-admin/css/login.min.css': 'body{background:#f0f0f1}\n',
    'wp-includes/version.php': `<?php\n$wp_version = '${version}';\n$wp_db_version = 57155;\n`,
    'wp-includes/js/jquery/jquery.min.js': '/*! jQuery v3.7.1 */\n',
    'wp-content/index.php': '<?php\n// Silence is golden.\n',
    'wp-content/themes/twentytwentyfour/style.css': '/* Theme Name: Twenty Twenty-Four */\n',
  };
}

export async function writeTree(dir: string, files: Record<string, string>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await fs.writeFile(path.join(dir, rel), content);
  }
}

/** wordpress.org's checksums response for these files. */
export function checksumsOf(files: Record<string, string>): { checksums: Record<string, string> } {
  const checksums: Record<string, string> = {};
  for (const [rel, content] of Object.entries(files)) {
    checksums[rel] = createHash('md5').update(content).digest('hex');
  }
  return { checksums };
}

/** A zip laid out like wordpress.org's: everything under `wordpress/`. */
export async function zipOf(files: Record<string, string>, file: string): Promise<void> {
  const entries = Object.entries(files).map(
    ([rel, content]) => new File([content], `wordpress/${rel}`),
  );
  await pipeline(Readable.fromWeb(encodeZip(entries)), createWriteStream(file));
}

export interface FakeWordPressOrg {
  api: string;
  downloads: string;
  /** Paths requested, in order. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * wordpress.org's three endpoints on 127.0.0.1: version-check naming `latest`, checksums of
 * `files` for `latest` (false for other versions, as the real API answers), and the zip at
 * `/release/wordpress-<latest>.zip`, built from `served` (default `files`) so a test can serve a
 * tampered zip.
 */
export async function fakeWordPressOrg(
  latest: string,
  files: Record<string, string>,
  served: Record<string, string> = files,
): Promise<FakeWordPressOrg> {
  const dir = await tempDir('wporg');
  const zip = path.join(dir, `wordpress-${latest}.zip`);
  await zipOf(served, zip);
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(url.pathname);
    const json = (body: unknown): void => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/core/version-check/1.7/') {
      json({
        offers: [{ response: 'upgrade', current: latest, version: latest, locale: 'en_US' }],
      });
    } else if (url.pathname === '/core/checksums/1.0/') {
      json(url.searchParams.get('version') === latest ? checksumsOf(files) : { checksums: false });
    } else if (url.pathname === `/release/wordpress-${latest}.zip`) {
      void fs.readFile(zip).then((bytes) => res.end(bytes));
    } else {
      res.statusCode = 404;
      res.end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    api: base,
    downloads: base,
    requests,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** Endpoints on a loopback port nothing listens on: wordpress.org "unreachable", at once. */
export async function closedEndpoints(): Promise<{
  api: string;
  downloads: string;
  timeoutMs: number;
}> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  const base = `http://127.0.0.1:${port}`;
  return { api: base, downloads: base, timeoutMs: 5_000 };
}

/** The error `promise` rejects with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  const err = await promise.then(
    () => new Error('expected a rejection, got a result'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as Error;
}

/** The ReleaseError `promise` rejects with; fails the test on anything else. */
export async function releaseRejection(promise: Promise<unknown>): Promise<ReleaseError> {
  const err = await rejection(promise);
  if (!(err instanceof ReleaseError)) throw err;
  return err;
}
