/**
 * Plugins, themes and translations inside one WordPress, through its agent
 * (agent/wpfleet-agent/plugins.php and themes.php). Every change answers the state before and
 * after, for the activity log; a failure is an AgentError carrying WordPress's own text
 * (codes: `invalid`, `not_found`, `conflict`, `failed`). Packages are zips handed over with
 * withPackageInInstall() (runtime/sites/packages-handoff.ts): calls take the name it gives.
 */
import type {
  PluginEntry,
  ThemeEntry,
  PluginChange,
  ThemeChange,
  PluginRef,
  InstallPackageOptions,
  TranslationUpdate,
  TranslationsResult,
} from '../../core/site-agent/operations.types.js';
import { Reader, type AgentClient, type Json } from './client.js';

export async function listPlugins(agent: AgentClient): Promise<PluginEntry[]> {
  const r = new Reader(await agent.call('GET', 'plugins'));
  return r.list('plugins').map(readPluginEntry);
}

/** A plugin as the agent lists it (here and in the inventory). */
export function readPluginEntry(p: Reader): PluginEntry {
  return {
    file: p.string('file'),
    slug: p.string('slug'),
    name: p.string('name'),
    version: p.string('version'),
    active: p.boolean('active'),
    networkActive: p.boolean('network_active'),
    autoUpdate: p.boolean('auto_update'),
  };
}

/** Plugin_Upgrader::install(); a folder that exists without `overwrite` is a `conflict`. */
export async function installPlugin(
  agent: AgentClient,
  options: InstallPackageOptions,
): Promise<PluginChange> {
  return pluginChange(await agent.call('POST', 'plugins/install', packageBody(options)));
}

/** activate_plugin(); a plugin that fails while it loads stays inactive (`failed`). */
export async function activatePlugin(
  agent: AgentClient,
  plugin: PluginRef,
  options: { networkWide?: boolean } = {},
): Promise<PluginChange> {
  const body: Json = { ...plugin };
  if (options.networkWide !== undefined) body.network_wide = options.networkWide;
  return pluginChange(await agent.call('POST', 'plugins/activate', body));
}

export async function deactivatePlugin(
  agent: AgentClient,
  plugin: PluginRef,
): Promise<PluginChange> {
  return pluginChange(await agent.call('POST', 'plugins/deactivate', { ...plugin }));
}

/**
 * delete_plugins() on the plugin's folder (its uninstall code runs). An active plugin is a
 * `conflict` unless `deactivate` is true.
 */
export async function deletePlugin(
  agent: AgentClient,
  plugin: PluginRef,
  options: { deactivate?: boolean } = {},
): Promise<PluginChange> {
  const body: Json = { ...plugin };
  if (options.deactivate !== undefined) body.deactivate = options.deactivate;
  return pluginChange(await agent.call('POST', 'plugins/delete', body));
}

/** Plugin_Upgrader::upgrade() from a package (any version: downgrades too); stays active. */
export async function updatePlugin(
  agent: AgentClient,
  options: { slug: string; package: string },
): Promise<PluginChange> {
  return pluginChange(
    await agent.call('POST', 'plugins/update', { slug: options.slug, package: options.package }),
  );
}

export async function setPluginAutoUpdate(
  agent: AgentClient,
  plugin: PluginRef,
  enabled: boolean,
): Promise<PluginChange> {
  return pluginChange(await agent.call('POST', 'plugins/auto-update', { ...plugin, enabled }));
}

export async function listThemes(agent: AgentClient): Promise<ThemeEntry[]> {
  const r = new Reader(await agent.call('GET', 'themes'));
  return r.list('themes').map(readThemeEntry);
}

/** A theme as the agent lists it (here and in the inventory). */
export function readThemeEntry(t: Reader): ThemeEntry {
  return {
    stylesheet: t.string('stylesheet'),
    name: t.string('name'),
    version: t.string('version'),
    active: t.boolean('active'),
    parent: t.nullableString('parent'),
    autoUpdate: t.boolean('auto_update'),
  };
}

/** Theme_Upgrader::install(); `activate` switches to it. */
export async function installTheme(
  agent: AgentClient,
  options: InstallPackageOptions,
): Promise<ThemeChange> {
  return themeChange(await agent.call('POST', 'themes/install', packageBody(options)));
}

/** switch_theme(); a broken theme is refused with WordPress's description of what is wrong. */
export async function activateTheme(agent: AgentClient, stylesheet: string): Promise<ThemeChange> {
  return themeChange(await agent.call('POST', 'themes/activate', { stylesheet }));
}

/** delete_theme(); the active theme and its parent are a `conflict`. */
export async function deleteTheme(agent: AgentClient, stylesheet: string): Promise<ThemeChange> {
  return themeChange(await agent.call('POST', 'themes/delete', { stylesheet }));
}

/** Theme_Upgrader::upgrade() from a package; the active theme stays active. */
export async function updateTheme(
  agent: AgentClient,
  options: { stylesheet: string; package: string },
): Promise<ThemeChange> {
  return themeChange(
    await agent.call('POST', 'themes/update', {
      stylesheet: options.stylesheet,
      package: options.package,
    }),
  );
}

export async function setThemeAutoUpdate(
  agent: AgentClient,
  stylesheet: string,
  enabled: boolean,
): Promise<ThemeChange> {
  return themeChange(await agent.call('POST', 'themes/auto-update', { stylesheet, enabled }));
}

/** Language_Pack_Upgrader over the updates WordPress knows of (none, offline). */
export async function updateTranslations(agent: AgentClient): Promise<TranslationsResult> {
  const r = new Reader(await agent.call('POST', 'translations/update', {}));
  return {
    updated: r.list('updated').map(translation),
    failed: r.list('failed').map((f) => ({ ...translation(f), message: f.string('message') })),
  };
}

function packageBody(options: InstallPackageOptions): Json {
  const body: Json = { package: options.package };
  if (options.activate !== undefined) body.activate = options.activate;
  if (options.overwrite !== undefined) body.overwrite = options.overwrite;
  return body;
}

function pluginChange(answer: Json): PluginChange {
  const r = new Reader(answer);
  return {
    file: r.string('file'),
    slug: r.string('slug'),
    name: r.string('name'),
    versionBefore: r.nullableString('version_before'),
    versionAfter: r.nullableString('version_after'),
    activeBefore: r.boolean('active_before'),
    active: r.boolean('active'),
    networkActive: r.boolean('network_active'),
    autoUpdateBefore: r.boolean('auto_update_before'),
    autoUpdate: r.boolean('auto_update'),
    warnings: r.strings('warnings'),
  };
}

function themeChange(answer: Json): ThemeChange {
  const r = new Reader(answer);
  return {
    stylesheet: r.string('stylesheet'),
    name: r.string('name'),
    versionBefore: r.nullableString('version_before'),
    versionAfter: r.nullableString('version_after'),
    activeBefore: r.boolean('active_before'),
    active: r.boolean('active'),
    parent: r.nullableString('parent'),
    autoUpdateBefore: r.boolean('auto_update_before'),
    autoUpdate: r.boolean('auto_update'),
    warnings: r.strings('warnings'),
  };
}

function translation(r: Reader): TranslationUpdate {
  return {
    type: r.string('type'),
    slug: r.string('slug'),
    language: r.string('language'),
    version: r.string('version'),
  };
}
