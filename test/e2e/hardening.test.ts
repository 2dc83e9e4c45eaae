import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstallSettings } from '../../src/core/installs/install-settings.js';
import { withChanges } from '../../src/core/installs/install-settings.js';
import { InstallSettingsRepository } from '../../src/core/installs/install-settings.repository.js';
import { AgentClient } from '../../src/runtime/agent/client.js';
import { verifyInstallCore } from '../../src/runtime/releases/install-core.js';
import { applySettings } from '../../src/runtime/sites/settings.js';
import { siteLayout, type SiteLayout } from '../../src/runtime/sites/site-files.js';
import { MARIADB_URL, SHARED_CACHE, startHosted, type Hosted } from '../helpers/hosted.js';
import { cookiesOf, edgeAgentTransport, siteRequest, type SiteResponse } from '../helpers/site.js';
import { inspectStore, type StoreInspector } from '../helpers/snapshot.js';
import { writeWpScript } from '../helpers/wp-script.js';

/**
 * Hardening on real WordPress (Debian's 6.1.9) behind the edge: WP_DEBUG and DISALLOW_FILE_EDIT
 * written into wp-config.php and seen by the running PHP, file protection at the edge, the custom
 * login path, and core checksum verification. Settings are stored and applied as the core
 * service will (repository, then applySettings); the edge picks up stored settings with its host
 * lookup, within two seconds.
 */
const EDGE_LOOKUP_MS = 2100;
const TEST_COOKIE = 'wordpress_test_cookie=WP%20Cookie%20check';
// What WordPress 6.1 answers: the editors' menu entries are gone, so wp-admin's page check
// refuses before theme-editor.php's own "Sorry, you are not allowed to edit templates…".
const NOT_ALLOWED = 'Sorry, you are not allowed to access this page.';
const FORM = 'application/x-www-form-urlencoded';

interface Site {
  hosted: Hosted;
  inspector: StoreInspector;
  id: string;
  host: string;
  origin: string;
  layout: SiteLayout;
  releaseDir: string;
  agent: AgentClient;
  get(p: string, headers?: Record<string, string>): Promise<SiteResponse>;
  post(p: string, body: string, headers?: Record<string, string>): Promise<SiteResponse>;
  change(change: Partial<InstallSettings>): Promise<void>;
}

async function hostedSite(name: string, env: Record<string, string>): Promise<Site> {
  const hosted = await startHosted(env);
  const created = await hosted.api<{ id: string }>('POST', '/v1/installs', {
    name,
    account_id: hosted.accountId,
  });
  expect(created.status).toBe(201);
  const install = await hosted.waitActive(created.body.id);
  const inspector = inspectStore(hosted.store);
  const row = await inspector.db
    .selectFrom('installs')
    .select(['agent_secret', 'release_version'])
    .where('id', '=', install.id)
    .executeTakeFirstOrThrow();
  const dataDir = hosted.store.config.dataDir;
  const host = `${name}.localhost`;
  const url = hosted.serve.url;
  const get = (p: string, headers: Record<string, string> = {}) =>
    siteRequest(url, host, p, { headers });
  const post = (p: string, body: string, headers: Record<string, string> = {}) =>
    siteRequest(url, host, p, {
      method: 'POST',
      headers: { 'content-type': FORM, ...headers },
      body,
    });
  const repo = new InstallSettingsRepository(inspector.db);
  const layout = siteLayout(dataDir, install.id);
  return {
    hosted,
    inspector,
    id: install.id,
    host,
    origin: `http://${host}:${hosted.port}`,
    layout,
    releaseDir: path.join(dataDir, 'releases', row.release_version ?? '', 'wordpress'),
    agent: new AgentClient(edgeAgentTransport(url, host), row.agent_secret ?? ''),
    get,
    post,
    async change(change) {
      const next = withChanges(await repo.get(install.id), change);
      await repo.put(install.id, next);
      await applySettings(layout, next);
      if (change.fileProtection !== undefined || change.loginPath !== undefined) {
        await new Promise((resolve) => setTimeout(resolve, EDGE_LOOKUP_MS));
      }
    },
  };
}

/** A wp-admin session of the first administrator, through the agent's single-use login link. */
async function adminCookie(site: Site): Promise<string> {
  const link = new URL((await site.agent.loginLink()).url);
  const enter = await site.get(link.pathname + link.search);
  expect(enter.status).toBe(302);
  const cookie = cookiesOf(enter);
  expect(cookie).toContain('wordpress_logged_in_');
  return cookie;
}

/** WordPress's debugging state as a request sees it, after raising a notice with `marker`. */
async function debugState(site: Site, marker: string): Promise<Record<string, unknown>> {
  const script = writeWpScript(
    site.layout.contentDir,
    `trigger_error('${marker}', E_USER_NOTICE);
echo json_encode(array(
  'WP_DEBUG' => WP_DEBUG,
  'WP_DEBUG_LOG' => defined('WP_DEBUG_LOG') ? WP_DEBUG_LOG : null,
  'WP_DEBUG_DISPLAY' => WP_DEBUG_DISPLAY,
  'display_errors' => ini_get('display_errors'),
  'DISALLOW_FILE_EDIT' => defined('DISALLOW_FILE_EDIT') ? DISALLOW_FILE_EDIT : null,
));`,
  );
  try {
    const res = await site.get(script.url, { 'cache-control': 'no-cache' });
    expect(res.status).toBe(200);
    expect(res.body).not.toContain(marker);
    return JSON.parse(res.body) as Record<string, unknown>;
  } finally {
    script.remove();
  }
}

function debugLog(site: Site): string {
  const file = path.join(site.layout.contentDir, 'debug.log');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
}

/** WP_DEBUG and DISALLOW_FILE_EDIT, toggled in wp-config.php under a running PHP. */
function wpConfigTests(getSite: () => Site): void {
  it('turns WP_DEBUG on and off: logged to wp-content/debug.log, never shown', async () => {
    const site = getSite();
    const off = await debugState(site, 'wpfleet-notice-before');
    expect(off).toMatchObject({ WP_DEBUG: false, WP_DEBUG_LOG: false });
    expect(debugLog(site)).not.toContain('wpfleet-notice-before');

    // PHP stays loaded: it reads the rewritten wp-config.php on its next request.
    await site.change({ wpDebug: true });
    const on = await debugState(site, 'wpfleet-notice-on');
    expect(on).toMatchObject({
      WP_DEBUG: true,
      WP_DEBUG_LOG: true,
      WP_DEBUG_DISPLAY: false,
      display_errors: '0',
    });
    expect(debugLog(site)).toContain('wpfleet-notice-on');
    // The log is the install's; visitors never get it.
    expect((await site.get('/wp-content/debug.log')).status).toBe(403);

    await site.change({ wpDebug: false });
    expect(await debugState(site, 'wpfleet-notice-after')).toMatchObject({ WP_DEBUG: false });
    expect(debugLog(site)).not.toContain('wpfleet-notice-after');
  });

  it("turns DISALLOW_FILE_EDIT on and off: WordPress's theme editor says so", async () => {
    const site = getSite();
    const cookie = await adminCookie(site);
    const allowed = await site.get('/wp-admin/theme-editor.php', { cookie });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toContain('id="template"');
    expect(allowed.body).not.toContain(NOT_ALLOWED);
    expect((await site.get('/wp-admin/', { cookie })).body).toContain('theme-editor.php');

    await site.change({ disallowFileEdit: true });
    for (const editor of ['/wp-admin/theme-editor.php', '/wp-admin/plugin-editor.php']) {
      const refused = await site.get(editor, { cookie });
      expect(refused.status).toBe(403);
      expect(refused.body).toContain(NOT_ALLOWED);
      expect(refused.body).not.toContain('id="template"');
    }
    const menu = await site.get('/wp-admin/', { cookie });
    expect(menu.status).toBe(200);
    expect(menu.body).not.toContain('theme-editor.php');
    expect(await debugState(site, 'wpfleet-notice-edit')).toMatchObject({
      DISALLOW_FILE_EDIT: true,
    });

    await site.change({ disallowFileEdit: false });
    expect((await site.get('/wp-admin/theme-editor.php', { cookie })).body).not.toContain(
      NOT_ALLOWED,
    );
  });
}

describe('hardening on SQLite', () => {
  let site: Site | undefined;
  const s = (): Site => {
    if (site === undefined) throw new Error('the install did not start');
    return site;
  };

  beforeAll(async () => {
    site = await hostedSite('hardsq', {});
  });

  afterAll(async () => {
    await site?.inspector.close();
    await site?.hosted.stop();
  });

  wpConfigTests(s);

  it('never runs PHP from uploads and refuses secrets and leftovers', async () => {
    const site = s();
    const uploads = path.join(site.layout.contentDir, 'uploads');
    const ran = path.join(uploads, 'ran.txt');
    fs.writeFileSync(
      path.join(uploads, 'marker.php'),
      `<?php file_put_contents(__DIR__ . '/ran.txt', 'ran'); echo 'wpfleet-marker-ran';`,
    );
    fs.writeFileSync(path.join(site.layout.contentDir, 'backup.sql'), 'INSERT INTO secrets;');
    fs.writeFileSync(path.join(site.layout.contentDir, '.env'), 'DB_PASSWORD=secret');
    for (const p of [
      '/wp-content/uploads/marker.php',
      '/wp-content/uploads/marker.php/x',
      '/wp-content/uploads/marker.php#?',
      '/wp-content/themes/x/%2e%2e/%2e%2e/uploads/marker.php',
      '/wp-content/uploads%2Fmarker.php',
    ]) {
      const res = await site.get(p);
      expect(`${res.status} ${p}`).toBe(`403 ${p}`);
      expect(res.body).not.toContain('wpfleet-marker-ran');
    }
    const post = await site.post('/wp-content/uploads/marker.php', 'a=1');
    expect(post.status).toBe(403);
    expect(fs.existsSync(ran)).toBe(false);

    const refused = [
      '/wp-config.php',
      '/wp-config.php.bak',
      '/.env',
      '/wp-content/.env',
      '/.env.local',
      '/.git/config',
      '/.htaccess',
      '/.user.ini',
      '/wp-content/backup.sql',
      '/backup.sql.gz',
      '/index.php.old',
      '/wp-login.php~',
    ];
    for (const p of refused) {
      expect(`${(await site.get(p)).status} ${p}`).toBe(`403 ${p}`);
    }

    // Off, WordPress answers what is not a file, and php-wasm serves the dump: the edge's rule
    // is what kept it back.
    await site.change({ fileProtection: false });
    expect((await site.get('/wp-config.php')).status).toBe(404);
    const dump = await site.get('/wp-content/backup.sql');
    expect(dump.status).toBe(200);
    expect(dump.body).toContain('INSERT INTO secrets');
    // Always refused, whatever the setting.
    expect((await site.get('/wp-content/uploads/marker.php')).status).toBe(403);
    expect((await site.get('/wp-content/.env')).status).toBe(403);
    expect(fs.existsSync(ran)).toBe(false);

    await site.change({ fileProtection: true });
    expect((await site.get('/wp-content/backup.sql')).status).toBe(403);
    fs.mkdirSync(path.join(uploads, '2024'), { recursive: true });
    fs.writeFileSync(path.join(uploads, '2024', 'logo.png'), 'png bytes');
    expect((await site.get('/wp-content/uploads/2024/logo.png')).status).toBe(200);
    expect((await site.get('/')).status).toBe(200);
  });

  it('moves the login page to a custom path and keeps wp-admin from telling it', async () => {
    const site = s();
    const password = 'wpfleet-Pa55-door';
    const script = writeWpScript(
      site.layout.contentDir,
      `$id = wp_insert_user(array('user_login' => 'doorkeeper', 'user_pass' => '${password}', 'role' => 'administrator', 'user_email' => 'door@example.com'));
echo json_encode(array('id' => is_wp_error($id) ? $id->get_error_message() : $id));`,
    );
    const made = await site.get(script.url, { 'cache-control': 'no-cache' });
    script.remove();
    expect(made.status).toBe(200);
    expect(JSON.parse(made.body)).toMatchObject({ id: expect.any(Number) as number });

    await site.change({ loginPath: 'hidden-door' });
    const door = `${site.origin}/hidden-door`;

    // wp-login.php and the pages that link to it answer 404, GET and POST.
    for (const p of ['/wp-login.php', '/wp-login.php?action=lostpassword', '/wp-signup.php']) {
      const res = await site.get(p);
      expect(`${res.status} ${p}`).toBe(`404 ${p}`);
      expect(res.body).not.toContain('hidden-door');
    }
    const direct = await site.post('/wp-login.php', `log=doorkeeper&pwd=${password}&testcookie=1`, {
      cookie: TEST_COOKIE,
    });
    expect(direct.status).toBe(404);
    expect(cookiesOf(direct)).not.toContain('wordpress_logged_in_');

    // wp-admin and WordPress's /login shortcut do not lead a logged-out visitor to it.
    for (const p of ['/wp-admin/', '/wp-admin/options-general.php', '/login', '/admin']) {
      const res = await site.get(p);
      expect(`${res.status} ${p}`).toBe(`404 ${p}`);
      expect(res.headers.location ?? '').not.toContain('hidden-door');
      expect(res.body).not.toContain('hidden-door');
    }

    // The custom path is WordPress's login page, with its links on the custom path.
    const page = await site.get('/hidden-door');
    expect(page.status).toBe(200);
    expect(page.body).toContain(`<form name="loginform" id="loginform" action="${door}"`);
    expect(page.body).toContain(`${door}?action=lostpassword`);
    expect(page.body).not.toContain('wp-login.php');
    const lost = await site.get('/hidden-door?action=lostpassword');
    expect(lost.status).toBe(200);
    expect(lost.body).toContain(`action="${door}?action=lostpassword"`);

    // Logging in through it.
    const login = await site.post(
      '/hidden-door',
      `log=doorkeeper&pwd=${password}&testcookie=1&redirect_to=${encodeURIComponent(`${site.origin}/wp-admin/`)}`,
      { cookie: TEST_COOKIE },
    );
    expect(login.status).toBe(302);
    expect(login.headers.location).toBe(`${site.origin}/wp-admin/`);
    const cookie = cookiesOf(login);
    expect(cookie).toContain('wordpress_logged_in_');
    const admin = await site.get('/wp-admin/', { cookie });
    expect(admin.status).toBe(200);
    // Its log-out link is on the custom path too, and leads back to it.
    const logoutHref = /href="([^"]*hidden-door\?action=logout[^"]*)"/.exec(admin.body)?.[1];
    expect(logoutHref).toBeDefined();
    const logoutUrl = new URL((logoutHref ?? '').replace(/&amp;|&#038;/g, '&'));
    const logout = await site.get(logoutUrl.pathname + logoutUrl.search, { cookie });
    expect(logout.status).toBe(302);
    expect(logout.headers.location).toBe(`${door}?loggedout=true&wp_lang=en_US`);

    // The agent's single-use login links go through the custom path and still work.
    const link = await site.agent.loginLink();
    expect(link.url).toMatch(new RegExp(`^${door}\\?wpfleet_login=[0-9a-f]{64}$`));
    const entered = await site.get(new URL(link.url).pathname + new URL(link.url).search);
    expect(entered.status).toBe(302);
    expect(entered.headers.location).toBe(`${site.origin}/wp-admin/`);
    expect(cookiesOf(entered)).toContain('wordpress_logged_in_');

    // Without a login path, wp-login.php is back and the custom path is WordPress's 404.
    await site.change({ loginPath: null });
    const back = await site.get('/wp-login.php');
    expect(back.status).toBe(200);
    expect(back.body).toContain(`action="${site.origin}/wp-login.php"`);
    expect((await site.get('/hidden-door')).status).toBe(404);
    expect((await site.get('/wp-admin/')).status).toBe(302);
  });

  it("verifies core against the release's checksums: changed, missing and extra files", async () => {
    const site = s();
    // A copy in this run's data directory, never the machine's shared cache.
    expect(fs.realpathSync(site.releaseDir).startsWith(fs.realpathSync(SHARED_CACHE))).toBe(false);
    const clean = await verifyInstallCore({ releaseDir: site.releaseDir });
    expect(clean).toMatchObject({ ok: true, missing: [], changed: [], extra: [] });
    expect(clean.checked).toBeGreaterThan(1000);

    const changedFile = path.join(site.releaseDir, 'wp-links-opml.php');
    const missingFile = path.join(site.releaseDir, 'readme.html');
    const extraFile = path.join(site.releaseDir, 'wp-includes', 'wpfleet-extra.php');
    // Files of their own, not hard links into another tree.
    expect([changedFile, missingFile].map((f) => fs.statSync(f).nlink)).toEqual([1, 1]);
    const original = fs.readFileSync(changedFile);
    const readme = fs.readFileSync(missingFile);
    try {
      fs.appendFileSync(changedFile, '\n<?php // changed');
      fs.rmSync(missingFile);
      fs.writeFileSync(extraFile, '<?php');
      expect(await verifyInstallCore({ releaseDir: site.releaseDir })).toMatchObject({
        ok: false,
        changed: ['wp-links-opml.php'],
        missing: ['readme.html'],
        extra: ['wp-includes/wpfleet-extra.php'],
      });
      // The install's own files are not core: a plugin added to its wp-content changes nothing.
      fs.writeFileSync(path.join(site.layout.contentDir, 'plugins', 'mine.php'), '<?php');
      fs.rmSync(extraFile);
      expect(await verifyInstallCore({ releaseDir: site.releaseDir })).toMatchObject({
        ok: false,
        extra: [],
      });
    } finally {
      fs.writeFileSync(changedFile, original);
      fs.writeFileSync(missingFile, readme);
      fs.rmSync(extraFile, { force: true });
    }
    expect((await verifyInstallCore({ releaseDir: site.releaseDir })).ok).toBe(true);
  });
});

describe('hardening on MariaDB: wp-config.php settings', () => {
  let site: Site | undefined;

  beforeAll(async () => {
    site = await hostedSite('hardmy', { WPFLEET_WP_DATABASE_URL: MARIADB_URL });
  });

  afterAll(async () => {
    await site?.inspector.close();
    await site?.hosted.stop();
  });

  wpConfigTests(() => {
    if (site === undefined) throw new Error('the install did not start');
    return site;
  });
});
