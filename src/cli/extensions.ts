import type { Command } from 'commander';
import type { ExtensionKind } from '../core/site-agent/site-agent.js';
import type { PluginChange, ThemeChange } from '../core/site-agent/operations.types.js';
import type { PackageRequest } from '../core/site-agent/site-operations.service.js';
import { print, table, withSite, withSiteOptions, type SiteFlags } from './site-context.js';

interface InstallFlags extends SiteFlags {
  version?: string;
  activate?: boolean;
  force?: boolean;
}

interface DeleteFlags extends SiteFlags {
  deactivate?: boolean;
}

type Change = PluginChange | ThemeChange;

function changeJson(change: Change): Record<string, unknown> {
  return {
    ...('slug' in change ? { slug: change.slug } : { stylesheet: change.stylesheet }),
    name: change.name,
    version_before: change.versionBefore,
    version_after: change.versionAfter,
    active_before: change.activeBefore,
    active: change.active,
    warnings: change.warnings,
  };
}

function changeText(kind: ExtensionKind, what: string, change: Change): string {
  const name = 'slug' in change ? change.slug : change.stylesheet;
  const versions =
    change.versionBefore === change.versionAfter
      ? (change.versionAfter ?? '')
      : `${change.versionBefore ?? 'none'} → ${change.versionAfter ?? 'none'}`;
  const state = change.versionAfter === null ? 'removed' : change.active ? 'active' : 'inactive';
  return `${kind} ${name} ${what}: ${versions} (${state})`;
}

/** A slug, or an https:// URL of a zip; never a path on this server. */
function packageRequest(source: string, version: string | undefined): PackageRequest {
  if (/^[a-z][a-z0-9+.-]*:/i.test(source)) return { url: source };
  return version === undefined ? { slug: source } : { slug: source, version };
}

/** `wpfleet plugins …` and `wpfleet themes …`: the same operations on either kind. */
export function extensionCommands(program: Command, kind: ExtensionKind): void {
  const plural = `${kind}s`;
  const group = program.command(plural).description(`manage an install's ${plural}`);

  withSiteOptions(group.command('list <install>'))
    .description(`list the install's ${plural}, with updates the package sources offer`)
    .action(async (install: string, flags: SiteFlags) => {
      await withSite(flags, install, async ({ hosting, actor, install: row }) => {
        const inventory = await hosting.sites.refreshInventory(actor, row.id);
        const items = (kind === 'plugin' ? inventory.plugins : inventory.themes).map((e) => ({
          slug: 'slug' in e ? e.slug : e.stylesheet,
          name: e.name,
          version: e.version,
          active: e.active,
          auto_update: e.autoUpdate,
          update: e.update?.version ?? null,
        }));
        print(flags, items, [
          ...table([
            ['SLUG', 'VERSION', 'ACTIVE', 'UPDATE', 'NAME'],
            ...items.map((i) => [
              i.slug,
              i.version,
              i.active ? 'yes' : 'no',
              i.update ?? '-',
              i.name,
            ]),
          ]),
        ]);
      });
    });

  withSiteOptions(group.command('install <install> <source>'))
    .description(
      `install a ${kind}: a slug (from the mirror, else wordpress.org) or an https:// URL of a zip`,
    )
    .option('--version <version>', 'this version (default: the newest)')
    .option('--activate', `activate it once installed`)
    .option('--force', 'replace an installed copy (another version)')
    .action(async (install: string, source: string, flags: InstallFlags) => {
      await withSite(flags, install, async ({ hosting, actor, install: row }) => {
        const change = await hosting.sites.installExtension(
          actor,
          row.id,
          kind,
          packageRequest(source, flags.version),
          { activate: flags.activate === true, overwrite: flags.force === true },
        );
        print(flags, changeJson(change), changeText(kind, 'installed', change));
      });
    });

  const activation = (active: boolean): void => {
    const verb = active ? 'activate' : 'deactivate';
    withSiteOptions(group.command(`${verb} <install> <slug>`))
      .description(`${verb} a ${kind}`)
      .action(async (install: string, slug: string, flags: SiteFlags) => {
        await withSite(flags, install, async ({ hosting, actor, install: row }) => {
          const change = await hosting.sites.setExtensionActive(actor, row.id, kind, slug, active);
          print(flags, changeJson(change), changeText(kind, `${verb}d`, change));
        });
      });
  };
  activation(true);
  if (kind === 'plugin') activation(false);

  withSiteOptions(group.command('update <install> <slug>'))
    .description(`update a ${kind} with WordPress's upgrader (it stays active if it was)`)
    .option('--version <version>', 'to this version (default: the newest)')
    .action(async (install: string, slug: string, flags: InstallFlags) => {
      await withSite(flags, install, async ({ hosting, actor, install: row }) => {
        const change = await hosting.sites.updateExtension(
          actor,
          row.id,
          kind,
          slug,
          flags.version,
        );
        print(flags, changeJson(change), changeText(kind, 'updated', change));
      });
    });

  const remove = withSiteOptions(group.command('delete <install> <slug>')).description(
    `delete a ${kind} and its files`,
  );
  if (kind === 'plugin') {
    remove.option('--deactivate', 'deactivate it first if it is active (else refused)');
  }
  remove.action(async (install: string, slug: string, flags: DeleteFlags) => {
    await withSite(flags, install, async ({ hosting, actor, install: row }) => {
      const change = await hosting.sites.deleteExtension(actor, row.id, kind, slug, {
        deactivate: flags.deactivate === true,
      });
      print(flags, changeJson(change), changeText(kind, 'deleted', change));
    });
  });
}
