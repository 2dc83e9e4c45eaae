import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type ServeProcess } from '../helpers/cli.js';
import type { TestStore } from '../helpers/engines.js';
import { MysqlAdmin, databaseNameFor } from '../../src/runtime/databases/mysql-admin.js';
import { MARIADB_URL, startHosted, type Hosted, type HostedInstall } from '../helpers/hosted.js';
import { assetPaths, cookiesOf, siteRequest, waitFor } from '../helpers/site.js';

/**
 * The whole path on real WordPress (Debian's 6.1.9, unpacked by the release source) served by
 * `wpfleet serve` on php-wasm, through the edge, over real HTTP.
 */
const DATABASES: [string, Record<string, string>][] = [
  ['SQLite', {}],
  ['MariaDB', { WPFLEET_WP_DATABASE_URL: MARIADB_URL }],
];

describe.each(DATABASES)('a hosted WordPress install on %s', (database, env) => {
  let hosted: Hosted | undefined;
  let store: TestStore;
  let serve: ServeProcess;
  let install: HostedInstall;
  let port: string;
  const host = 'e2eblog.localhost';
  let origin: string;

  const api = <T>(method: string, p: string, body?: unknown) => {
    if (hosted === undefined) throw new Error('wpfleet serve did not start');
    return hosted.api<T>(method, p, body);
  };
  const get = (p: string, headers: Record<string, string> = {}, h = host) =>
    siteRequest(serve.url, h, p, { headers });

  beforeAll(async () => {
    hosted = await startHosted(env);
    ({ store, serve, port } = hosted);
    origin = `http://${host}:${port}`;

    const created = await api<HostedInstall>('POST', '/v1/installs', {
      name: 'e2eblog',
      account_id: hosted.accountId,
    });
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('pending');
    install = await hosted.waitActive(created.body.id);
  });

  afterAll(async () => {
    await hosted?.stop();
  });

  it('serves WordPress with its generator meta and REST API', async () => {
    expect(install.wp_version).toBe('6.1.9');
    const home = await get('/');
    expect(home.status).toBe(200);
    expect(home.body).toContain('<meta name="generator" content="WordPress 6.1.9"');
    const rest = await get('/wp-json/');
    expect(rest.status).toBe(200);
    expect((JSON.parse(rest.body) as { name: string }).name).toBe('e2eblog');
    expect((await get('/hello-world/')).status).toBe(200);
    // Each request is in the install's own access log.
    const log = path.join(store.config.dataDir, 'logs', `${install.id}.access.log`);
    const lines = await waitFor(
      'the access log',
      () => {
        const text = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
        return Promise.resolve(
          text.includes('"GET /hello-world/ HTTP/1.1" 200') ? text : undefined,
        );
      },
      5_000,
    );
    expect(lines).toContain(`"GET /wp-json/ HTTP/1.1" 200`);
  });

  it('answers every stylesheet, script and image of the home and login pages', async () => {
    for (const page of ['/', '/wp-login.php']) {
      const res = await get(page, { 'cache-control': 'no-cache' });
      const assets = assetPaths(res.body, origin);
      expect(assets.length).toBeGreaterThan(page === '/' ? 0 : 2);
      for (const asset of assets) {
        expect(`${(await get(asset)).status} ${asset}`).toBe(`200 ${asset}`);
      }
    }
  });

  it('refuses the default password and never serves the database or hidden files', async () => {
    const login = await siteRequest(serve.url, host, '/wp-login.php', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: 'wordpress_test_cookie=WP%20Cookie%20check',
      },
      body: 'log=admin&pwd=password&testcookie=1',
    });
    expect(login.status).toBe(200);
    expect(cookiesOf(login)).not.toContain('wordpress_logged_in_');
    for (const p of [
      '/wp-content/database/.ht.sqlite',
      '/.htaccess',
      '/wp-content/uploads/x.php',
    ]) {
      expect((await get(p)).status).toBe(403);
    }
    // File protection is on by default: refused whether or not the file exists.
    expect((await get('/wp-config.php')).status).toBe(403);
  });

  it('opens wp-admin through a single-use login link with every asset', async () => {
    const cli = await runCli(['installs', 'login', 'e2eblog', '--port', port], store.env);
    expect(cli.code).toBe(0);
    const link = new URL(cli.stdout.trim());
    expect(link.host).toBe(`${host}:${port}`);
    const enter = await get(link.pathname + link.search);
    expect(enter.status).toBe(302);
    expect(enter.headers.location).toBe(`${origin}/wp-admin/`);
    const cookie = cookiesOf(enter);
    expect(cookie).toContain('wordpress_logged_in_');
    const admin = await get('/wp-admin/', { cookie });
    expect(admin.status).toBe(200);
    expect(admin.body).toContain('Dashboard');
    const assets = assetPaths(admin.body, origin);
    expect(assets.length).toBeGreaterThan(3);
    for (const asset of assets) {
      expect(`${(await get(asset, { cookie })).status} ${asset}`).toBe(`200 ${asset}`);
    }
    // The link works once.
    expect((await get(link.pathname + link.search)).status).toBe(403);
  });

  it('serves added domains and redirects redirect domains with path and query', async () => {
    const domain = await api<{ id: string }>('POST', `/v1/installs/${install.id}/domains`, {
      name: 'e2e.example.com',
    });
    expect(domain.status).toBe(201);
    const home = await waitFor(
      'the new domain to route',
      async () => {
        const r = await get('/', {}, 'e2e.example.com');
        return r.status === 200 ? r : undefined;
      },
      10_000,
    );
    expect(home.body).toContain('content="WordPress 6.1.9"');
    const redirect = await api('POST', `/v1/installs/${install.id}/domains`, {
      name: 'old.example.com',
      redirect_to: domain.body.id,
    });
    expect(redirect.status).toBe(201);
    const moved = await waitFor(
      'the redirect domain to route',
      async () => {
        const r = await get('/some/path?x=1&y=2', {}, 'old.example.com');
        return r.status === 301 ? r : undefined;
      },
      10_000,
    );
    expect(moved.headers.location).toBe(`http://e2e.example.com:${port}/some/path?x=1&y=2`);

    // Making it primary points WordPress's home and siteurl at it, and back again.
    const primary = await api<{ primary: boolean }>(
      'PATCH',
      `/v1/installs/${install.id}/domains/${domain.body.id}`,
      {
        primary: true,
      },
    );
    expect(primary.body.primary).toBe(true);
    await waitFor(
      'WordPress to use the primary domain',
      async () => {
        const r = await get('/?p=home', { 'cache-control': 'no-cache' }, 'e2e.example.com');
        return r.body.includes(`href="http://e2e.example.com:${port}/`) ? true : undefined;
      },
      20_000,
    );
    const domains = await api<{ results: { id: string; name: string }[] }>(
      'GET',
      `/v1/installs/${install.id}/domains`,
    );
    const cname = domains.body.results.find((d) => d.name === host);
    await api('PATCH', `/v1/installs/${install.id}/domains/${cname?.id ?? ''}`, { primary: true });
    await waitFor(
      'WordPress to use its cname again',
      async () => {
        const r = await get('/?p=back', { 'cache-control': 'no-cache' });
        return r.status === 200 && r.body.includes(`href="${origin}/`) ? true : undefined;
      },
      20_000,
    );
  });

  it('caches anonymous pages and empties the cache on a page purge', async () => {
    await get('/');
    expect((await get('/')).headers['x-cache']).toBe('HIT');
    expect((await get('/wp-login.php')).headers['x-cache']).toBeUndefined();
    expect(
      (await get('/', { cookie: 'wordpress_logged_in_x=1' })).headers['x-cache'],
    ).toBeUndefined();
    const purge = await api('POST', `/v1/installs/${install.id}/purge_cache`, { type: 'page' });
    expect(purge.status).toBe(202);
    // The purge is in effect when the API answers: the very next request renders afresh.
    expect((await get('/')).headers['x-cache']).toBe('MISS');
    expect((await get('/')).headers['x-cache']).toBe('HIT');
    // A HEAD is answered from a cached GET; its own render is never served to a GET.
    const headHit = await siteRequest(serve.url, host, '/', { method: 'HEAD' });
    expect([headHit.status, headHit.headers['x-cache'], headHit.body]).toEqual([200, 'HIT', '']);
    // A browser gets the cached page brotli-compressed, made once, with Vary; curl gets it plain.
    const br = await waitFor(
      'the brotli copy of the page',
      async () => {
        const r = await get('/', { 'accept-encoding': 'gzip, deflate, br' });
        return r.headers['content-encoding'] === 'br' ? r : undefined;
      },
      5_000,
      50,
    );
    expect([br.headers['x-cache'], br.headers.vary]).toEqual(['HIT', 'Accept-Encoding']);
    const plain = await get('/');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(Number(br.headers['content-length'])).toBeLessThan(plain.body.length / 3);
    const headMiss = await siteRequest(serve.url, host, '/?head', { method: 'HEAD' });
    expect(headMiss.headers['x-cache']).toBe('MISS');
    const after = await get('/?head');
    expect(after.headers['x-cache']).toBe('MISS');
    expect(after.body).toContain('</html>');
  });

  it('keeps serving after the PHP version changes', async () => {
    const cli = await runCli(['installs', 'php', 'e2eblog', '8.2'], store.env);
    expect(cli.code).toBe(0);
    const refused = await runCli(['installs', 'php', 'e2eblog', '5.6'], store.env);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('8.3');
    const res = await waitFor(
      'PHP 8.2 to answer',
      async () => {
        const r = await get('/?v=php82', { 'cache-control': 'no-cache' });
        return String(r.headers['x-powered-by']).startsWith('PHP/8.2') ? r : undefined;
      },
      30_000,
      500,
    );
    expect(res.status).toBe(200);
    expect((await api<HostedInstall>('GET', `/v1/installs/${install.id}`)).body.php_version).toBe(
      '8.2',
    );
  });

  it('keeps its data where the server was told to', async () => {
    const dir = path.join(store.config.dataDir, 'installs', install.id);
    const sqlite = path.join(dir, 'wp-content', 'database', '.ht.sqlite');
    const config = fs.readFileSync(path.join(dir, 'wp-config.php'), 'utf8');
    const db = databaseNameFor(install.id);
    const mysql = await new MysqlAdmin(MARIADB_URL).exists({ name: db, user: db });
    if (database === 'SQLite') {
      expect(fs.existsSync(sqlite)).toBe(true);
      expect(mysql).toEqual({ database: false, user: false });
    } else {
      expect(fs.existsSync(sqlite)).toBe(false);
      expect(config).toContain(`define( 'DB_NAME', '${db}' );`);
      expect(mysql).toEqual({ database: true, user: true });
    }
    // Fresh salts and a random table prefix of its own.
    expect(config).toMatch(/\$table_prefix = 'wp_[a-z0-9]{6}_';/);
    expect(config).not.toContain('put your unique phrase here');
  });

  it('removes the install files (and its database) when the install is deleted', async () => {
    const dir = path.join(store.config.dataDir, 'installs', install.id);
    expect(fs.existsSync(dir)).toBe(true);
    expect((await api('DELETE', `/v1/installs/${install.id}`)).status).toBe(204);
    await waitFor(
      'the files to go',
      () => Promise.resolve(fs.existsSync(dir) ? undefined : true),
      30_000,
    );
    const gone = await waitFor(
      'the host to stop routing',
      async () => {
        const r = await get('/');
        return r.status === 404 ? r : undefined;
      },
      10_000,
    );
    expect(gone.body).toContain('Not Found');
    // Its access log goes with it, and the edge does not open it again.
    const log = path.join(store.config.dataDir, 'logs', `${install.id}.access.log`);
    expect(fs.existsSync(log)).toBe(false);
    const db = databaseNameFor(install.id);
    await waitFor(
      'the database and its user to go',
      async () => {
        const left = await new MysqlAdmin(MARIADB_URL).exists({ name: db, user: db });
        return left.database || left.user ? undefined : true;
      },
      10_000,
    );
  });
});
