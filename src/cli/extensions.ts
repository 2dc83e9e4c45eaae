import type { Command } from 'commander';
import type { Hosting } from '../composition.js';
import type { Actor } from '../core/actor.js';
import type { ExtensionKind } from '../core/site-agent/site-agent.js';
import type { PluginChange, ThemeChange } from '../core/site-agent/operations.types.js';
import type { PackageRequest } from '../core/site-agent/site-operations.service.js';
import {
  fleetSelection,
  installAndSubject,
  runFleetCommand,
  withFleetOptions,
  type FleetFlags,
} from './fleet.js';
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

  /**
   * A change on one install (`<install> <slug>`), or on many with --all/--installs (`<slug>`
   * alone): the same service call, once per install.
   */
  const change = (
    name: string,
    subject: 'source' | 'slug',
    description: string,
    what: string,
    run: (
      site: { hosting: Hosting; actor: Actor; installId: string },
      subject: string,
      flags: InstallFlags & DeleteFlags,
    ) => Promise<Change>,
  ): Command =>
    withFleetOptions(withSiteOptions(group.command(`${name} <install> [${subject}]`)))
      .usage(`[options] <install> <${subject}>  |  <${subject}> --all|--installs <names>`)
      .description(description)
      .action(
        async (
          first: string,
          second: string | undefined,
          flags: InstallFlags & DeleteFlags & FleetFlags,
          command: Command,
        ) => {
          const selection = fleetSelection(flags);
          const args = installAndSubject(command, selection, first, second, subject);
          if (selection === null || args.install !== null) {
            await withSite(flags, args.install ?? first, async ({ hosting, actor, install }) => {
              const done = await run(
                { hosting, actor, installId: install.id },
                args.subject,
                flags,
              );
              print(flags, changeJson(done), changeText(kind, what, done));
            });
            return;
          }
          await runFleetCommand(flags, selection, {
            title: `${name} ${kind} ${args.subject}`,
            work: ({ hosting, actor, target }) =>
              run({ hosting, actor, installId: target.id }, args.subject, flags),
            text: (done) => changeText(kind, what, done),
            json: changeJson,
          });
        },
      );

  change(
    'install',
    'source',
    `install a ${kind}: a slug (from the mirror, else wordpress.org) or an https:// URL of a zip`,
    'installed',
    ({ hosting, actor, installId }, source, flags) =>
      hosting.sites.installExtension(
        actor,
        installId,
        kind,
        packageRequest(source, flags.version),
        {
          activate: flags.activate === true,
          overwrite: flags.force === true,
        },
      ),
  )
    .option('--version <version>', 'this version (default: the newest)')
    .option('--activate', `activate it once installed`)
    .option('--force', 'replace an installed copy (another version)');

  const activation = (active: boolean): void => {
    const verb = active ? 'activate' : 'deactivate';
    change(verb, 'slug', `${verb} a ${kind}`, `${verb}d`, ({ hosting, actor, installId }, slug) =>
      hosting.sites.setExtensionActive(actor, installId, kind, slug, active),
    );
  };
  activation(true);
  if (kind === 'plugin') activation(false);

  change(
    'update',
    'slug',
    `update a ${kind} with WordPress's upgrader (it stays active if it was)`,
    'updated',
    ({ hosting, actor, installId }, slug, flags) =>
      hosting.sites.updateExtension(actor, installId, kind, slug, flags.version),
  ).option('--version <version>', 'to this version (default: the newest)');

  const remove = change(
    'delete',
    'slug',
    `delete a ${kind} and its files`,
    'deleted',
    ({ hosting, actor, installId }, slug, flags) =>
      hosting.sites.deleteExtension(actor, installId, kind, slug, {
        deactivate: flags.deactivate === true,
      }),
  );
  if (kind === 'plugin') {
    remove.option('--deactivate', 'deactivate it first if it is active (else refused)');
  }
}
