import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from './cli.js';
import { MARIADB_URL, startHosted, type Hosted } from './hosted.js';
import {
  helloMarker,
  writeDebianPackages,
  writeTestPackages,
  zipFiles,
  type FixtureZip,
} from './package-fixtures.js';
import { cookiesOf, siteRequest, waitFor, type SiteResponse } from './site.js';
import { inspectStore } from './snapshot.js';

/**
 * The CLI's operations inside WordPress as a user runs them: `wpfleet …` as a child process on
 * the data directory and store of a running `wpfleet serve`, each answer (--json) checked against
 * what WordPress itself then shows through the edge, and every refusal with WordPress's (or the
 * package sources') own words, exit code 1, and nothing changed.
 */
export const CLI_DATABASES: Record<'SQLite' | 'MariaDB', Record<string, string>> = {
  SQLite: {},
  MariaDB: { WPFLEET_WP_DATABASE_URL: MARIADB_URL },
};

interface PluginRow {
  slug: string;
  name: string;
  version: string;
  active: boolean;
  auto_update: boolean;
  update: string | null;
}

interface Change {
  version_before: string | null;
  version_after: string | null;
  active_before: boolean;
  active: boolean;
}

interface WpUser {
  id: number;
  login: string;
  email: string;
  roles: string[];
}

const TEST_COOKIE = 'wordpress_test_cookie=WP%20Cookie%20check';

/** The whole suite on installs whose WordPress database is `database`'s. */
export function describeCliOperations(database: keyof typeof CLI_DATABASES): void {
  describe(`the CLI on real WordPress on ${database}`, () => {
    cliOperations(CLI_DATABASES[database]);
  });
}

function cliOperations(env: Record<string, string>): void {
  let hosted: Hosted | undefined;
  let cliEnv: Record<string, string>;
  let zips: FixtureZip[];
  let scratch: string;
  const name = 'e2ecli';
  const host = `${name}.localhost`;
  /** Every password this test gives or is given: none may reach the activity log. */
  const passwords: string[] = [];

  const h = (): Hosted => {
    if (hosted === undefined) throw new Error('wpfleet serve did not start');
    return hosted;
  };
  const cli = (args: string[], extra: Record<string, string> = {}): Promise<CliResult> =>
    runCli(args, { ...cliEnv, ...extra });
  /** A command that must succeed; its stdout is one JSON value. */
  const json = async <T>(args: string[], extra: Record<string, string> = {}): Promise<T> => {
    const r = await cli([...args, '--json'], extra);
    if (r.code !== 0) throw new Error(`wpfleet ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    return JSON.parse(r.stdout) as T;
  };
  /** A command that must be refused: exit 1, nothing on stdout, the reason on stderr. */
  const refused = async (args: string[], extra: Record<string, string> = {}): Promise<string> => {
    const r = await cli([...args, '--json'], extra);
    expect(`${r.code} ${r.stderr}`).toMatch(/^1 wpfleet: /);
    expect(r.stdout).toBe('');
    return r.stderr.replace(/^wpfleet: /, '').trim();
  };
  let visits = 0;
  /**
   * A page as WordPress renders it now. Each visit has a query of its own, so the edge's page
   * cache never answers it: a change made by a CLI process reaches the serving process's cache
   * only within its two-second host lookup (test/e2e/page-purge.test.ts covers that).
   */
  const page = (p = '/', headers: Record<string, string> = {}): Promise<SiteResponse> => {
    visits += 1;
    const fresh = `${p}${p.includes('?') ? '&' : '?'}visit=${visits}`;
    return siteRequest(h().serve.url, host, fresh, { headers });
  };
  const plugins = (): Promise<PluginRow[]> => json<PluginRow[]>(['plugins', 'list', name]);
  const themes = (): Promise<PluginRow[]> => json<PluginRow[]>(['themes', 'list', name]);
  const zip = (slug: string, version: string): string => {
    const found = zips.find((z) => z.slug === slug && z.version === version);
    if (found === undefined) throw new Error(`no fixture zip ${slug} ${version}`);
    return found.file;
  };
  /** wp-login.php's form, as a browser posts it; true when WordPress logged the user in. */
  const logsIn = async (login: string, password: string): Promise<boolean> => {
    const body = new URLSearchParams({ log: login, pwd: password, testcookie: '1' });
    const res = await siteRequest(h().serve.url, host, '/wp-login.php', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: TEST_COOKIE },
      body: body.toString(),
    });
    const inside = cookiesOf(res).includes('wordpress_logged_in_');
    expect(res.status).toBe(inside ? 302 : 200);
    return inside;
  };

  beforeAll(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-cli-e2e-'));
    zips = [...(await writeTestPackages(scratch)), ...(await writeDebianPackages(scratch))];
    hosted = await startHosted(env);
    // The store, data directory and port of the running server; wordpress.org is off, so that
    // what the mirror lacks is refused the same way on a machine with or without a network.
    cliEnv = { ...hosted.store.env, WPFLEET_PORT: hosted.port, WPFLEET_WPORG: 'off' };
    // The mirror gets wpfleet-hello 2.0.0 (the one that fatals) only when a test wants it.
    const first = zips.filter((z) => !(z.slug === 'wpfleet-hello' && z.version === '2.0.0'));
    const added = await json<{ status: string; slug: string; version: string }[]>([
      'mirror',
      'add',
      ...first.map((z) => z.file),
    ]);
    expect(added.map((a) => `${a.status} ${a.slug} ${a.version}`)).toEqual(
      first.map((z) => `added ${z.slug} ${z.version}`),
    );
  }, 240_000);

  afterAll(async () => {
    await hosted?.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('creates an install: its URL answers with WordPress, its login link logs in once', async () => {
    const r = await cli(['installs', 'create', name, '--json']);
    expect(`${r.code} ${r.stderr}`).toMatch(/^0 /);
    // Progress on stderr, one line per step; stdout is one JSON object.
    expect(r.stderr).toMatch(new RegExp(`^provisioning ${name}: .+ \\(\\d+/\\d+\\)$`, 'm'));
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const created = JSON.parse(r.stdout) as {
      id: string;
      name: string;
      status: string;
      url: string;
      login_url: string;
      wp_version: string;
    };
    expect(created).toMatchObject({ name, status: 'active', wp_version: '6.1.9' });
    expect(created.url).toBe(`http://${host}:${h().port}`);

    const home = await page();
    expect(home.status).toBe(200);
    expect(home.body).toContain('<meta name="generator" content="WordPress 6.1.9"');

    const link = new URL(created.login_url);
    expect(link.origin).toBe(created.url);
    const enter = await page(link.pathname + link.search);
    expect(enter.status).toBe(302);
    expect(enter.headers.location).toBe(`${created.url}/wp-admin/`);
    const cookie = cookiesOf(enter);
    expect(cookie).toContain('wordpress_logged_in_');
    const admin = await page('/wp-admin/', { cookie });
    expect(admin.status).toBe(200);
    expect(admin.body).toContain('Dashboard');
    expect((await page(link.pathname + link.search)).status).toBe(403);

    const listed = await json<{ id: string; name: string; status: string }[]>(['installs', 'list']);
    expect(listed).toEqual([
      expect.objectContaining({ id: created.id, name, status: 'active' }) as unknown,
    ]);
  });

  it('installs, updates, deactivates and deletes a plugin from the mirror', async () => {
    const baseline = await plugins();
    expect(baseline.find((p) => p.slug === 'wpfleet-hello')).toBeUndefined();
    // Akismet in the mirror is the release's own: no update.
    expect(baseline.find((p) => p.slug === 'akismet')).toMatchObject({ update: null });

    const installed = await json<Change>([
      'plugins',
      'install',
      name,
      'wpfleet-hello',
      '--version',
      '1.0.0',
      '--activate',
    ]);
    expect(installed).toMatchObject({
      slug: 'wpfleet-hello',
      version_before: null,
      version_after: '1.0.0',
      active: true,
    });
    expect((await page()).body).toContain(helloMarker('1.0.0'));
    expect((await plugins()).find((p) => p.slug === 'wpfleet-hello')).toEqual({
      slug: 'wpfleet-hello',
      name: 'wpfleet Hello',
      version: '1.0.0',
      active: true,
      auto_update: false,
      update: '1.1.0',
    });

    const updated = await json<Change>(['plugins', 'update', name, 'wpfleet-hello']);
    expect(updated).toMatchObject({
      version_before: '1.0.0',
      version_after: '1.1.0',
      active_before: true,
      active: true,
    });
    const home = await page();
    expect(home.body).toContain(helloMarker('1.1.0'));
    expect(home.body).not.toContain(helloMarker('1.0.0'));
    const current = await plugins();
    expect(current.find((p) => p.slug === 'wpfleet-hello')).toMatchObject({
      version: '1.1.0',
      active: true,
      update: null,
    });

    // An active plugin is not deleted: WordPress's words.
    expect(await refused(['plugins', 'delete', name, 'wpfleet-hello'])).toBe(
      'You cannot delete a plugin while it is active on the main site.',
    );

    const off = await json<Change>(['plugins', 'deactivate', name, 'wpfleet-hello']);
    expect(off).toMatchObject({ active_before: true, active: false, version_after: '1.1.0' });
    expect((await page()).body).not.toContain('wpfleet-hello');
    const on = await json<Change>(['plugins', 'activate', name, 'wpfleet-hello']);
    expect(on).toMatchObject({ active_before: false, active: true });
    expect((await page()).body).toContain(helloMarker('1.1.0'));
    expect(await plugins()).toEqual(current);

    const deleted = await json<Change>([
      'plugins',
      'delete',
      name,
      'wpfleet-hello',
      '--deactivate',
    ]);
    expect(deleted).toMatchObject({
      version_before: '1.1.0',
      version_after: null,
      active_before: true,
    });
    expect((await page()).body).not.toContain('wpfleet-hello');
    expect(await plugins()).toEqual(baseline);
  });

  it("refuses bad plugin requests with WordPress's or the sources' words, changing nothing", async () => {
    await json<Change>(['plugins', 'install', name, 'wpfleet-hello', '--version', '1.0.0']);
    await json<Change>(['plugins', 'activate', name, 'wpfleet-hello']);
    const before = await plugins();

    expect(await refused(['plugins', 'install', name, 'wpfleet-nothing'])).toBe(
      "Couldn't find 'wpfleet-nothing' in the plugin mirror; wordpress.org is off (WPFLEET_WPORG=off).",
    );
    expect(await refused(['plugins', 'install', name, 'wpfleet-hello', '--version', '9.9.9'])).toBe(
      "version: Can't find the requested plugin's version 9.9.9 in the plugin mirror. Available versions: 1.1.0, 1.0.0.",
    );
    expect(await refused(['plugins', 'update', name, 'wpfleet-nothing'])).toBe(
      'The plugin wpfleet-nothing is not installed.',
    );
    // Installing what is there without --force: WordPress's upgrader refuses.
    expect(
      await refused(['plugins', 'install', name, 'wpfleet-hello', '--version', '1.1.0']),
    ).toMatch(/^Destination folder already exists\. .*wpfleet-hello\/$/);

    // URLs: a loopback address only when listed, plain http only then too.
    const broken = path.join(scratch, 'broken.zip');
    fs.writeFileSync(broken, 'This is not a zip archive.\n');
    const fetched = await zipFiles(
      {
        'wpfleet-fetched/wpfleet-fetched.php':
          "<?php\n/**\n * Plugin Name: wpfleet Fetched\n * Version: 3.0.0\n */\nadd_action( 'wp_footer', function () { echo '<p id=\"wpfleet-fetched\">fetched</p>'; } );\n",
      },
      path.join(scratch, 'wpfleet-fetched.zip'),
    );
    const server = http.createServer((req, res) => {
      const file = req.url === '/good.zip' ? fetched : req.url === '/broken.zip' ? broken : null;
      if (file === null) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/zip' }).end(fs.readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no port');
      const base = `http://127.0.0.1:${address.port}`;
      const allow = { WPFLEET_FETCH_ALLOW: '127.0.0.1/32' };
      expect(await refused(['plugins', 'install', name, `${base}/good.zip`])).toMatch(
        /^url: http:\/\/127\.0\.0\.1:\d+\/good\.zip: 127\.0\.0\.1 is a loopback, private, link-local or reserved address; package URLs must be public unless the address is listed in WPFLEET_FETCH_ALLOW$/,
      );
      expect(await plugins()).toEqual(before);
      expect(await refused(['plugins', 'install', name, `${base}/broken.zip`], allow)).toMatch(
        /^package: .*broken\.zip.*: Incompatible Archive\. \(/,
      );
      expect(await plugins()).toEqual(before);

      const got = await json<Change>(
        ['plugins', 'install', name, `${base}/good.zip`, '--activate'],
        allow,
      );
      expect(got).toMatchObject({ slug: 'wpfleet-fetched', version_after: '3.0.0', active: true });
      expect((await page()).body).toContain('<p id="wpfleet-fetched">fetched</p>');
      await json<Change>(['plugins', 'delete', name, 'wpfleet-fetched', '--deactivate']);
    } finally {
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    }
    expect(await plugins()).toEqual(before);

    // 2.0.0 fatals as it loads: WordPress updates it but leaves it inactive; the site stays up.
    const added = await json<{ status: string }[]>([
      'mirror',
      'add',
      zip('wpfleet-hello', '2.0.0'),
    ]);
    expect(added).toMatchObject([{ status: 'added' }]);
    expect((await plugins()).find((p) => p.slug === 'wpfleet-hello')).toMatchObject({
      version: '1.0.0',
      update: '2.0.0',
    });
    expect(await refused(['plugins', 'update', name, 'wpfleet-hello'])).toMatch(
      /^The plugin wpfleet-hello\/wpfleet-hello\.php was updated but is now inactive: Plugin failed to reactivate due to a fatal error\. Call to undefined function wpfleet_hello_function_that_does_not_exist\(\)/,
    );
    const home = await page();
    expect(home.status).toBe(200);
    expect(home.body).not.toContain('wpfleet-hello');
    expect((await plugins()).find((p) => p.slug === 'wpfleet-hello')).toMatchObject({
      version: '2.0.0',
      active: false,
    });
    // Back to 1.1.0 (a downgrade is an update too), then gone.
    const back = await json<Change>([
      'plugins',
      'update',
      name,
      'wpfleet-hello',
      '--version',
      '1.1.0',
    ]);
    expect(back).toMatchObject({ version_before: '2.0.0', version_after: '1.1.0' });
    await json<Change>(['plugins', 'delete', name, 'wpfleet-hello']);
    expect((await plugins()).find((p) => p.slug === 'wpfleet-hello')).toBeUndefined();
  });

  it('installs, activates and updates a theme; the active theme is not deleted', async () => {
    const baseline = await themes();
    const previous = baseline.find((t) => t.active)?.slug ?? '';
    expect(previous).not.toBe('');

    const installed = await json<Change>([
      'themes',
      'install',
      name,
      'wpfleet-plain',
      '--version',
      '1.0.0',
    ]);
    expect(installed).toMatchObject({
      stylesheet: 'wpfleet-plain',
      version_after: '1.0.0',
      active: false,
    });
    const activated = await json<Change>(['themes', 'activate', name, 'wpfleet-plain']);
    expect(activated).toMatchObject({ active_before: false, active: true });
    let home = await page();
    expect(home.body).toContain('data-theme-version="1.0.0"');
    expect(home.body).not.toContain('wpfleet-plain-banner');
    expect((await themes()).find((t) => t.slug === 'wpfleet-plain')).toMatchObject({
      version: '1.0.0',
      active: true,
      update: '1.1.0',
    });

    const updated = await json<Change>(['themes', 'update', name, 'wpfleet-plain']);
    expect(updated).toMatchObject({
      version_before: '1.0.0',
      version_after: '1.1.0',
      active: true,
    });
    home = await page();
    expect(home.status).toBe(200);
    expect(home.body).toContain('data-theme-version="1.1.0"');
    expect(home.body).toContain('<div id="wpfleet-plain-banner"');

    const now = await themes();
    expect(await refused(['themes', 'delete', name, 'wpfleet-plain'])).toBe(
      'You cannot delete a theme while it is active on the main site.',
    );
    expect(await refused(['themes', 'activate', name, 'wpfleet-nothing'])).toBe(
      'The requested theme does not exist.',
    );
    expect(await themes()).toEqual(now);

    // A default theme from Debian's packages, through the mirror.
    const debian = await json<Change>(['themes', 'install', name, 'twentytwentytwo', '--activate']);
    expect(debian).toMatchObject({ stylesheet: 'twentytwentytwo', active: true });
    expect((await page()).body).toContain('/wp-content/themes/twentytwentytwo/');

    await json<Change>(['themes', 'activate', name, previous]);
    await json<Change>(['themes', 'delete', name, 'wpfleet-plain']);
    await json<Change>(['themes', 'delete', name, 'twentytwentytwo']);
    expect(await themes()).toEqual(baseline);
    expect((await page()).body).not.toContain('wpfleet-plain');
  });

  it('creates users who log in, refuses a taken login, changes roles and passwords, deletes', async () => {
    const list = async (): Promise<WpUser[]> =>
      (await json<{ users: WpUser[] }>(['users', 'list', name])).users;
    const before = await list();
    const admin = before.find((u) => u.roles.includes('administrator'));
    if (admin === undefined) throw new Error('no administrator');

    const first = 'Fleet "pass" 1';
    passwords.push(first);
    const created = await json<{ user: WpUser; password: string | null }>([
      'users',
      'create',
      name,
      'fleetuser',
      'fleet@example.com',
      '--role',
      'editor',
      '--password',
      first,
    ]);
    expect(created.user).toMatchObject({ login: 'fleetuser', roles: ['editor'] });
    expect(await logsIn('fleetuser', first)).toBe(true);
    const withUser = await list();
    expect(withUser).toHaveLength(before.length + 1);

    expect(
      await refused(['users', 'create', name, 'fleetuser', 'other@example.com', '--password', 'x']),
    ).toBe('Sorry, that username already exists!');
    expect(await list()).toEqual(withUser);

    const role = await json<{ user: WpUser; previous_roles: string[] }>([
      'users',
      'set-role',
      name,
      'fleetuser',
      'author',
    ]);
    expect(role).toMatchObject({ user: { roles: ['author'] }, previous_roles: ['editor'] });

    const reset = await json<{ user: WpUser; password: string | null }>([
      'users',
      'reset-password',
      name,
      'fleetuser',
    ]);
    if (reset.password === null) throw new Error('no generated password');
    passwords.push(reset.password);
    expect(await logsIn('fleetuser', first)).toBe(false);
    expect(await logsIn('fleetuser', reset.password)).toBe(true);

    const gone = await json<{ deleted: WpUser; reassigned_to: number | null }>([
      'users',
      'delete',
      name,
      'fleetuser',
      '--reassign',
      String(admin.id),
    ]);
    expect(gone).toMatchObject({ deleted: { login: 'fleetuser' }, reassigned_to: admin.id });
    expect(await list()).toEqual(before);
    expect(await logsIn('fleetuser', reset.password)).toBe(false);
  });

  it('search-replace: the dry run counts what the run changes, and the page shows it', async () => {
    expect((await page()).body).toContain('Hello world!');
    const dry = await json<{ total: number }>([
      'search-replace',
      name,
      'Hello world!',
      'Hello fleet!',
      '--dry-run',
    ]);
    expect(dry.total).toBeGreaterThan(0);
    expect((await page()).body).toContain('Hello world!');
    const run = await json<{ total: number }>([
      'search-replace',
      name,
      'Hello world!',
      'Hello fleet!',
    ]);
    expect(run.total).toBe(dry.total);
    const home = await page();
    expect(home.body).toContain('Hello fleet!');
    expect(home.body).not.toContain('Hello world!');

    expect(await refused(['search-replace', name, '(unclosed', 'x', '--regex'])).toMatch(
      /regex|regular expression/i,
    );
    const again = await json<{ total: number }>([
      'search-replace',
      name,
      'Hello fleet!',
      'x',
      '--dry-run',
    ]);
    expect(again.total).toBe(run.total);
  });

  it('maintenance on answers 503, off answers the site again', async () => {
    expect(await json<{ maintenance: boolean }>(['maintenance', 'on', name])).toEqual({
      maintenance: true,
    });
    expect((await page()).status).toBe(503);
    expect(await json<{ maintenance: boolean }>(['maintenance', 'off', name])).toEqual({
      maintenance: false,
    });
    expect((await page()).status).toBe(200);
  });

  it('settings: a login path and WP_DEBUG, a bad slug refused', async () => {
    const before = await json<Record<string, unknown>>(['settings', name]);
    expect(before).toMatchObject({ wp_debug: false, login_path: null });
    expect(await refused(['settings', name, '--login-path', 'Not A Slug'])).toMatch(
      /^login_path: login_path must be 3 to 64 lowercase letters/,
    );
    expect(await json<Record<string, unknown>>(['settings', name])).toEqual(before);
    expect((await page('/wp-login.php')).status).toBe(200);

    const changed = await json<Record<string, unknown>>([
      'settings',
      name,
      '--login-path',
      'fleet-door',
      '--wp-debug',
      'on',
    ]);
    expect(changed).toMatchObject({ wp_debug: true, login_path: 'fleet-door' });
    // The server's edge reads an install's settings with its host, remembered for 2 s.
    await waitFor(
      'wp-login.php to answer 404',
      async () => ((await page('/wp-login.php')).status === 404 ? true : undefined),
      5_000,
    );
    const door = await page('/fleet-door');
    expect(door.status).toBe(200);
    expect(door.body).toContain('id="loginform"');
    const installs = await json<{ id: string; name: string }[]>(['installs', 'list']);
    const id = installs.find((i) => i.name === name)?.id ?? '';
    const config = fs.readFileSync(
      path.join(h().store.config.dataDir, 'installs', id, 'wp-config.php'),
      'utf8',
    );
    expect(config).toContain("define( 'WP_DEBUG', true );");
  });

  it('logs every change with versions, and refusals with WordPress’s message, never a password', async () => {
    const inspector = inspectStore(h().store);
    try {
      const rows = await inspector.db.selectFrom('activity').selectAll().orderBy('id').execute();
      const of = (action: string): Record<string, unknown>[] =>
        rows
          .filter((r) => r.action === action)
          .map((r) => JSON.parse(r.details) as Record<string, unknown>);
      expect(of('plugin.update')).toContainEqual(
        expect.objectContaining({
          slug: 'wpfleet-hello',
          version_before: '1.0.0',
          version_after: '1.1.0',
        }),
      );
      expect(of('theme.update')).toContainEqual(
        expect.objectContaining({ version_before: '1.0.0', version_after: '1.1.0' }),
      );
      expect(of('plugin.delete.refused')).toContainEqual(
        expect.objectContaining({
          error: {
            code: 'conflict',
            message: 'You cannot delete a plugin while it is active on the main site.',
          },
        }),
      );
      expect(of('wp_user.create.refused')).toContainEqual(
        expect.objectContaining({
          error: expect.objectContaining({
            message: 'Sorry, that username already exists!',
          }) as unknown,
        }),
      );
      expect(of('plugin.update.refused')).toContainEqual(
        expect.objectContaining({
          error: expect.objectContaining({
            message: expect.stringMatching(/was updated but is now inactive/) as unknown,
          }) as unknown,
        }),
      );
      for (const action of [
        'plugin.install',
        'plugin.activate',
        'plugin.deactivate',
        'plugin.delete',
        'theme.install',
        'theme.activate',
        'theme.delete',
        'wp_user.create',
        'wp_user.role',
        'wp_user.reset_password',
        'wp_user.delete',
        'site.search_replace',
        'site.maintenance',
        'site.login_link',
      ]) {
        expect(`${action}: ${of(action).length > 0}`).toBe(`${action}: true`);
      }
      expect(passwords.length).toBe(2);
      for (const row of rows) {
        for (const password of passwords) {
          expect(row.details).not.toContain(password);
          expect(row.details).not.toContain(JSON.stringify(password).slice(1, -1));
        }
      }
    } finally {
      await inspector.close();
    }
  });
}
