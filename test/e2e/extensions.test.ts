import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient, AgentError } from '../../src/runtime/agent/client.js';
import {
  activatePlugin,
  activateTheme,
  deactivatePlugin,
  deletePlugin,
  deleteTheme,
  installPlugin,
  installTheme,
  listPlugins,
  listThemes,
  setPluginAutoUpdate,
  setThemeAutoUpdate,
  updatePlugin,
  updateTheme,
  updateTranslations,
} from '../../src/runtime/agent/extensions.js';
import type { PluginEntry } from '../../src/core/site-agent/operations.types.js';
import { siteLayout } from '../../src/runtime/sites/site-files.js';
import { PACKAGES_FOLDER, withPackageInInstall } from '../../src/runtime/sites/packages-handoff.js';
import {
  helloMarker,
  plainMarker,
  writeExtensionZips,
  type ExtensionZips,
} from '../helpers/package-fixtures.js';
import { MARIADB_URL, startHosted, type Hosted, type HostedInstall } from '../helpers/hosted.js';
import { edgeAgentTransport, siteRequest } from '../helpers/site.js';

/**
 * Plugins, themes and translations through the agent on real WordPress (Debian's 6.1.9) served
 * by `wpfleet serve`: packages handed over into the install, WordPress's upgrader, activation
 * through its sandbox, and WordPress's own error texts when something is refused.
 */
const DATABASES: [string, Record<string, string>][] = [
  ['SQLite', {}],
  ['MariaDB', { WPFLEET_WP_DATABASE_URL: MARIADB_URL }],
];

describe.each(DATABASES)('plugins and themes through the agent on %s', (_db, env) => {
  let hosted: Hosted | undefined;
  let install: HostedInstall;
  let agent: AgentClient;
  let contentDir: string;
  let zips: ExtensionZips;
  let baseline: PluginEntry[];
  const host = 'e2eext.localhost';

  const page = async (p = '/'): Promise<{ status: number; body: string }> => {
    if (hosted === undefined) throw new Error('wpfleet serve did not start');
    return siteRequest(
      hosted.serve.url,
      host,
      `${p}${p.includes('?') ? '&' : '?'}t=${Date.now()}`,
      {
        headers: { 'cache-control': 'no-cache' },
      },
    );
  };
  /** Runs an agent call with a package handed over into the install. */
  const withPackage = <T>(zip: string, work: (name: string) => Promise<T>): Promise<T> =>
    withPackageInInstall(contentDir, zip, work);
  /** The AgentError a call fails with. */
  const failure = async (call: Promise<unknown>): Promise<AgentError> => {
    try {
      await call;
    } catch (error) {
      if (error instanceof AgentError) return error;
      throw error;
    }
    throw new Error('the call succeeded');
  };

  beforeAll(async () => {
    zips = await writeExtensionZips(fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-ext-zips-')));
    hosted = await startHosted(env);
    const created = await hosted.api<HostedInstall>('POST', '/v1/installs', {
      name: 'e2eext',
      account_id: hosted.accountId,
    });
    expect(created.status).toBe(201);
    install = await hosted.waitActive(created.body.id);
    const layout = siteLayout(hosted.store.config.dataDir, install.id);
    contentDir = layout.contentDir;
    const config = fs.readFileSync(layout.configFile, 'utf8');
    const secret = /define\(\s*'WPFLEET_AGENT_SECRET',\s*'([^']+)'/.exec(config)?.[1];
    if (secret === undefined) throw new Error('no agent secret in wp-config.php');
    agent = new AgentClient(edgeAgentTransport(hosted.serve.url, host), secret);
    baseline = await listPlugins(agent);
  });

  afterAll(async () => {
    await hosted?.stop();
  });

  it('lists plugins and themes as WordPress sees them', async () => {
    expect(baseline.find((p) => p.slug === 'wpfleet-hello')).toBeUndefined();
    for (const plugin of baseline) {
      expect(
        plugin.file.startsWith(`${plugin.slug}/`) || plugin.file === `${plugin.slug}.php`,
      ).toBe(true);
    }
    const themes = await listThemes(agent);
    expect(themes.filter((t) => t.active)).toHaveLength(1);
  });

  it('installs, activates, updates, deactivates and deletes a plugin', async () => {
    const installed = await withPackage(zips.hello100, (name) =>
      installPlugin(agent, { package: name }),
    );
    expect(installed).toMatchObject({
      file: 'wpfleet-hello/wpfleet-hello.php',
      slug: 'wpfleet-hello',
      name: 'wpfleet Hello',
      versionBefore: null,
      versionAfter: '1.0.0',
      active: false,
    });
    expect((await page()).body).not.toContain('wpfleet-hello');

    const active = await activatePlugin(agent, { slug: 'wpfleet-hello' });
    expect(active).toMatchObject({ activeBefore: false, active: true, versionAfter: '1.0.0' });
    expect((await page()).body).toContain(helloMarker('1.0.0'));

    const updated = await withPackage(zips.hello110, (name) =>
      updatePlugin(agent, { slug: 'wpfleet-hello', package: name }),
    );
    expect(updated).toMatchObject({
      versionBefore: '1.0.0',
      versionAfter: '1.1.0',
      activeBefore: true,
      active: true,
    });
    const home = await page();
    expect(home.body).toContain(helloMarker('1.1.0'));
    expect(home.body).not.toContain(helloMarker('1.0.0'));

    const auto = await setPluginAutoUpdate(agent, { slug: 'wpfleet-hello' }, true);
    expect(auto).toMatchObject({ autoUpdateBefore: false, autoUpdate: true });
    expect((await listPlugins(agent)).find((p) => p.slug === 'wpfleet-hello')).toMatchObject({
      version: '1.1.0',
      active: true,
      autoUpdate: true,
    });

    const refused = await failure(deletePlugin(agent, { slug: 'wpfleet-hello' }));
    expect(refused.code).toBe('conflict');
    expect(refused.message).toBe('You cannot delete a plugin while it is active on the main site.');

    const inactive = await deactivatePlugin(agent, { file: 'wpfleet-hello/wpfleet-hello.php' });
    expect(inactive).toMatchObject({ activeBefore: true, active: false, versionAfter: '1.1.0' });
    expect((await page()).body).not.toContain('wpfleet-hello');

    const deleted = await deletePlugin(agent, { slug: 'wpfleet-hello' });
    expect(deleted).toMatchObject({ versionBefore: '1.1.0', versionAfter: null, active: false });
    expect(await listPlugins(agent)).toEqual(baseline);
    expect(fs.existsSync(path.join(contentDir, 'plugins', 'wpfleet-hello'))).toBe(false);
    // The handed-over packages are gone.
    expect(fs.readdirSync(path.join(contentDir, PACKAGES_FOLDER))).toEqual([]);
  });

  it('deletes an active plugin when asked to deactivate it first', async () => {
    await withPackage(zips.hello100, (name) =>
      installPlugin(agent, { package: name, activate: true }),
    );
    const deleted = await deletePlugin(agent, { slug: 'wpfleet-hello' }, { deactivate: true });
    expect(deleted).toMatchObject({ activeBefore: true, active: false, versionAfter: null });
    expect(await listPlugins(agent)).toEqual(baseline);
  });

  it("refuses bad packages and unknown plugins with WordPress's own words, changing nothing", async () => {
    await withPackage(zips.hello100, (name) =>
      installPlugin(agent, { package: name, activate: true }),
    );
    const before = await listPlugins(agent);

    const exists = await failure(
      withPackage(zips.hello110, (name) => installPlugin(agent, { package: name })),
    );
    expect(exists.code).toBe('conflict');
    expect(exists.message).toMatch(/^Destination folder already exists\. .*wpfleet-hello\/$/);

    const broken = await failure(
      withPackage(zips.notZip, (name) => installPlugin(agent, { package: name })),
    );
    expect(broken.code).toBe('failed');
    // WordPress's text, and what PclZip (its fallback after ZipArchive) said of the file.
    expect(broken.message).toMatch(/^The package could not be installed\. PCLZIP_ERR_BAD_FORMAT/);

    const headerless = await failure(
      withPackage(zips.headerless, (name) => installPlugin(agent, { package: name })),
    );
    expect(headerless.message).toBe(
      'The package could not be installed. No valid plugins were found.',
    );

    // An update whose package is another plugin, or no zip at all: refused before any file moves.
    const wrong = await failure(
      withPackage(zips.crash, (name) =>
        updatePlugin(agent, { slug: 'wpfleet-hello', package: name }),
      ),
    );
    expect(wrong.message).toBe('The package holds wpfleet-crash, not wpfleet-hello.');
    const brokenUpdate = await failure(
      withPackage(zips.notZip, (name) =>
        updatePlugin(agent, { slug: 'wpfleet-hello', package: name }),
      ),
    );
    expect(brokenUpdate.message).toMatch(/^The package could not be installed\. PCLZIP_ERR/);

    const unknown = await failure(activatePlugin(agent, { slug: 'wpfleet-nothing' }));
    expect(unknown.code).toBe('not_found');
    expect(unknown.message).toBe('Plugin file does not exist.');
    const unknownFile = await failure(deactivatePlugin(agent, { file: 'nothing/nothing.php' }));
    expect(unknownFile.code).toBe('not_found');
    const path_ = await failure(activatePlugin(agent, { file: '../../wp-config.php' }));
    expect(path_.code).toBe('invalid');

    const noPackage = await failure(installPlugin(agent, { package: 'missing.zip' }));
    expect(noPackage.code).toBe('invalid');
    const traversal = await failure(installPlugin(agent, { package: '../../wp-config.php' }));
    expect(traversal.code).toBe('invalid');

    expect(await listPlugins(agent)).toEqual(before);
    expect((await page()).body).toContain(helloMarker('1.0.0'));
  });

  it('leaves a plugin that dies while it loads inactive, and the site up', async () => {
    const before = await listPlugins(agent);
    const crash = await withPackage(zips.crash, (name) => installPlugin(agent, { package: name }));
    expect(crash.active).toBe(false);

    const refused = await failure(activatePlugin(agent, { slug: 'wpfleet-crash' }));
    expect(refused.code).toBe('failed');
    expect(refused.message).toMatch(
      /^Plugin could not be activated because it triggered a fatal error\. Cannot redeclare (function )?wp_die\(\)/,
    );
    expect((await listPlugins(agent)).find((p) => p.slug === 'wpfleet-crash')?.active).toBe(false);
    expect((await page()).status).toBe(200);
    await deletePlugin(agent, { slug: 'wpfleet-crash' });

    // An update to a version that throws while it loads: installed, but left inactive.
    const update = await failure(
      withPackage(zips.hello200Throws, (name) =>
        updatePlugin(agent, { slug: 'wpfleet-hello', package: name }),
      ),
    );
    expect(update.code).toBe('failed');
    expect(update.message).toMatch(
      /^The plugin wpfleet-hello\/wpfleet-hello\.php was updated but is now inactive: Plugin failed to reactivate due to a fatal error\. Call to undefined function wpfleet_hello_function_that_does_not_exist\(\)/,
    );
    const home = await page();
    expect(home.status).toBe(200);
    expect(home.body).not.toContain('wpfleet-hello');
    expect((await listPlugins(agent)).find((p) => p.slug === 'wpfleet-hello')).toMatchObject({
      version: '2.0.0',
      active: false,
    });
    const thrown = await failure(activatePlugin(agent, { slug: 'wpfleet-hello' }));
    expect(thrown.message).toMatch(
      /^Plugin could not be activated because it triggered a fatal error\. Call to undefined function/,
    );

    // Back to 1.0.0 (a downgrade is an update too), then active again.
    const back = await withPackage(zips.hello100, (name) =>
      updatePlugin(agent, { slug: 'wpfleet-hello', package: name }),
    );
    expect(back).toMatchObject({ versionBefore: '2.0.0', versionAfter: '1.0.0', active: false });
    await activatePlugin(agent, { slug: 'wpfleet-hello' });
    expect(await listPlugins(agent)).toEqual(before);
    await deletePlugin(agent, { slug: 'wpfleet-hello' }, { deactivate: true });
    expect(await listPlugins(agent)).toEqual(baseline);
  });

  it('installs, activates, updates and deletes a theme', async () => {
    const themesBefore = await listThemes(agent);
    const previous = themesBefore.find((t) => t.active)?.stylesheet ?? '';

    const installed = await withPackage(zips.plain100, (name) =>
      installTheme(agent, { package: name }),
    );
    expect(installed).toMatchObject({
      stylesheet: 'wpfleet-plain',
      name: 'wpfleet Plain',
      versionBefore: null,
      versionAfter: '1.0.0',
      active: false,
      parent: null,
    });
    const activated = await activateTheme(agent, 'wpfleet-plain');
    expect(activated).toMatchObject({ activeBefore: false, active: true });
    expect((await page()).body).toContain(plainMarker('1.0.0'));

    const updated = await withPackage(zips.plain110, (name) =>
      updateTheme(agent, { stylesheet: 'wpfleet-plain', package: name }),
    );
    expect(updated).toMatchObject({ versionBefore: '1.0.0', versionAfter: '1.1.0', active: true });
    const home = await page();
    expect(home.status).toBe(200);
    expect(home.body).toContain(plainMarker('1.1.0'));
    // The upgrader's maintenance mode was the install's own, and it is over.
    expect(fs.existsSync(path.join(contentDir, '.wpfleet-maintenance'))).toBe(false);

    const auto = await setThemeAutoUpdate(agent, 'wpfleet-plain', true);
    expect(auto).toMatchObject({ autoUpdateBefore: false, autoUpdate: true });

    const refused = await failure(deleteTheme(agent, 'wpfleet-plain'));
    expect(refused.code).toBe('conflict');
    expect(refused.message).toBe('You cannot delete a theme while it is active on the main site.');
    const exists = await failure(
      withPackage(zips.plain100, (name) => installTheme(agent, { package: name })),
    );
    expect(exists.message).toMatch(/^Destination folder already exists\./);
    const unknown = await failure(activateTheme(agent, 'wpfleet-nothing'));
    expect(unknown.code).toBe('not_found');
    expect(unknown.message).toBe('The requested theme does not exist.');
    const notATheme = await failure(
      withPackage(zips.hello100, (name) => installTheme(agent, { package: name })),
    );
    expect(notATheme.message).toMatch(
      /^The package could not be installed\. The theme is missing the style\.css stylesheet\./,
    );

    // A theme WordPress finds broken (no template file) is refused with WordPress's words.
    const broken = path.join(contentDir, 'themes', 'wpfleet-broken');
    fs.mkdirSync(broken);
    fs.writeFileSync(path.join(broken, 'style.css'), '/*\nTheme Name: wpfleet broken\n*/\n');
    const brokenTheme = await failure(activateTheme(agent, 'wpfleet-broken'));
    expect(brokenTheme.code).toBe('failed');
    expect(brokenTheme.message).toMatch(
      /^Template is missing\. Standalone themes need to have a .*index\.php template file\./,
    );
    expect((await listThemes(agent)).find((t) => t.active)?.stylesheet).toBe('wpfleet-plain');
    fs.rmSync(broken, { recursive: true });

    await activateTheme(agent, previous);
    expect((await page()).body).not.toContain('wpfleet-plain');
    const deleted = await deleteTheme(agent, 'wpfleet-plain');
    expect(deleted).toMatchObject({ versionBefore: '1.1.0', versionAfter: null });
    expect(await listThemes(agent)).toEqual(themesBefore);
  });

  it('updates translations: offline WordPress knows of none', async () => {
    expect(await updateTranslations(agent)).toEqual({ updated: [], failed: [] });
  });
});
