import type { Command } from 'commander';
import type { QueuedCoreUpdate } from '../core/site-agent/core-updates.service.js';
import { CliError } from './output.js';
import { Progress } from './progress.js';
import {
  print,
  withSite,
  withSiteOptions,
  type SiteContext,
  type SiteFlags,
} from './site-context.js';
import { waitForJob } from './wait-job.js';
import { fleetSelection, withFleetOptions, type FleetFlags } from './fleet.js';
import { updateFleet } from './fleet-core.js';

export interface UpdateFlags extends SiteFlags {
  version?: string;
  wait?: boolean;
  timeout?: string;
  visualCheck?: boolean;
  threshold?: string;
}

/** The visual check a core update asks for: off unless `--visual-check`. */
export function coreCheck(flags: UpdateFlags): { visual?: boolean; threshold?: number } {
  if (flags.visualCheck !== true) {
    if (flags.threshold !== undefined) throw new CliError('--threshold goes with --visual-check');
    return {};
  }
  if (flags.threshold === undefined) return { visual: true };
  const threshold = Number(flags.threshold);
  if (flags.threshold.trim() === '' || !Number.isFinite(threshold)) {
    throw new CliError(
      `--threshold takes a fraction of pixels such as 0.01 (1%), not "${flags.threshold}"`,
    );
  }
  return { visual: true, threshold };
}

/** The core update job's steps in order (src/runtime/sites/core-update.ts records them). */
const STEPS = ['prepared', 'release-ready', 'switched', 'database-upgraded'];

/** Waits for the server to run a queued core update, with progress on stderr. */
async function finish(
  site: SiteContext,
  queued: QueuedCoreUpdate,
  flags: UpdateFlags,
): Promise<void> {
  const what = queued.reinstall ? 'core reinstall' : 'core update';
  const answer = {
    job_id: queued.jobId,
    version_before: queued.versionBefore,
    version: queued.version,
    reinstall: queued.reinstall,
  };
  if (flags.wait === false) {
    print(
      flags,
      { ...answer, state: 'queued' },
      `${what} to ${queued.version} queued as job ${queued.jobId}`,
    );
    return;
  }
  const progress = new Progress(`${what} of ${site.install.name}`, STEPS.length);
  try {
    await waitForJob(site.app, site.install.account_id, queued.jobId, {
      timeoutMs: Number(flags.timeout ?? '600') * 1000,
      what,
      onSteps: (steps) => {
        progress.update(steps.length, steps.at(-1)?.replace('core.', '') ?? 'queued');
      },
    });
  } finally {
    progress.finish();
  }
  print(
    flags,
    { ...answer, state: 'succeeded' },
    queued.reinstall
      ? `WordPress ${queued.version} of ${site.install.name} reinstalled`
      : `${site.install.name} now runs WordPress ${queued.version} (was ${queued.versionBefore})`,
  );
}

/** `wpfleet core …`: the WordPress release an install runs. */
export function coreCommands(program: Command): void {
  const core = program.command('core').description("an install's WordPress core");

  withFleetOptions(withSiteOptions(core.command('update [install]')))
    .usage('[options] <install>  |  --all|--installs <names>')
    .description(
      'switch the install to a newer WordPress release and upgrade its database (the running server does it; this waits)',
    )
    .option('--version <version>', 'this version (default: the newest this server can get)')
    .option(
      '--visual-check',
      'screenshots of the home page before and after; beyond the threshold the install goes back to its release',
    )
    .option(
      '--threshold <fraction>',
      'with --visual-check: fraction of pixels allowed to change (default 0.01)',
    )
    .option('--no-wait', 'queue it and return at once')
    .option(
      '--timeout <seconds>',
      'how long to wait for the server (default 600; for a fleet, for all of it)',
      '600',
    )
    .action(
      async (install: string | undefined, flags: UpdateFlags & FleetFlags, command: Command) => {
        const selection = fleetSelection(flags);
        if (selection !== null) {
          if (install !== undefined) {
            command.error(`error: with --all or --installs, name no install (got "${install}")`);
          }
          await updateFleet(flags, selection);
          return;
        }
        if (install === undefined) command.error("error: missing required argument 'install'");
        await withSite(flags, install, async (site) => {
          const queued = await site.hosting.core.updateCore(
            site.actor,
            site.install.id,
            flags.version,
            coreCheck(flags),
          );
          await finish(site, queued, flags);
        });
      },
    );

  withSiteOptions(core.command('reinstall <install>'))
    .description(
      "check the install's release against its checksums, fetch it again if damaged, and upgrade the database (the running server does it)",
    )
    .option('--no-wait', 'queue it and return at once')
    .option('--timeout <seconds>', 'how long to wait for the server (default 600)', '600')
    .action(async (install: string, flags: UpdateFlags) => {
      await withSite(flags, install, async (site) => {
        const queued = await site.hosting.core.reinstallCore(site.actor, site.install.id);
        await finish(site, queued, flags);
      });
    });

  withSiteOptions(core.command('verify <install>'))
    .description("check the install's WordPress core files against the release's checksums")
    .action(async (install: string, flags: SiteFlags) => {
      await withSite(flags, install, async ({ hosting, actor, install: row }) => {
        const result = await hosting.core.verifyCore(actor, row.id);
        print(flags, result, [
          result.ok
            ? `WordPress core of ${row.name} matches its release (${result.checked} files)`
            : `WordPress core of ${row.name} does not match its release:`,
          ...result.missing.map((f) => `  missing: ${f}`),
          ...result.changed.map((f) => `  changed: ${f}`),
          ...result.extra.map((f) => `  extra (not part of WordPress): ${f}`),
        ]);
        if (!result.ok) throw new CliError(`core verification of ${row.name} failed`);
      });
    });
}
