import os from 'node:os';
import type { Command } from 'commander';
import { createApp, createHosting, type App, type Hosting } from '../composition.js';
import { operatorActor, type Actor } from '../core/actor.js';
import {
  defaultFleetConcurrency,
  type FleetReport,
  type FleetResult,
} from '../core/fleet/fleet-runner.js';
import type { FleetPlan, FleetSelection, FleetTarget } from '../core/fleet/fleet.service.js';
import { releaseProvider } from '../runtime/release-provider.js';
import { configFrom } from './options.js';
import { CliError } from './output.js';
import { Progress } from './progress.js';
import { commandLog, type SiteFlags } from './site-context.js';

/** `--all`, `--installs a,b,c` and their companions, on a command that acts on one install. */
export interface FleetFlags extends SiteFlags {
  all?: boolean;
  installs?: string;
  account?: string;
  concurrency?: string;
}

/** Adds the fleet options; the command then takes its install argument only without them. */
export function withFleetOptions(command: Command): Command {
  return command
    .option('--all', 'on every active install (those not active are skipped, with the reason)')
    .option('--installs <names>', 'on these installs: names or ids, comma-separated')
    .option('--account <id>', 'with --all or --installs: only installs of this account')
    .option(
      '--concurrency <n>',
      'with --all or --installs: installs worked on at once (default: 2 per core, at most WPFLEET_PHP_TOTAL)',
    );
}

/** The selection the flags make, or null for the single-install form. */
export function fleetSelection(flags: FleetFlags): FleetSelection | null {
  if (flags.all === true && flags.installs !== undefined) {
    throw new CliError('--all and --installs cannot be used together');
  }
  if (flags.all === true) return { all: true };
  if (flags.installs !== undefined) {
    const names = flags.installs
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n !== '');
    if (names.length === 0) throw new CliError('--installs needs at least one install name or id');
    return { installs: names };
  }
  if (flags.account !== undefined || flags.concurrency !== undefined) {
    throw new CliError('--account and --concurrency go with --all or --installs');
  }
  return null;
}

/**
 * The positional arguments of a command taking `<install> <what>` alone, or `<what>` with
 * --all/--installs: commander sees them as `<first> [second]`.
 */
export function installAndSubject(
  command: Command,
  selection: FleetSelection | null,
  first: string,
  second: string | undefined,
  subject: string,
): { install: string | null; subject: string } {
  if (selection !== null) {
    if (second !== undefined) {
      command.error(
        `error: with --all or --installs, give the ${subject} alone (got "${first}" and "${second}")`,
      );
    }
    return { install: null, subject: first };
  }
  if (second === undefined) command.error(`error: missing required argument '${subject}'`);
  return { install: first, subject: second };
}

/** What the work of one install gets: the hosting built once for the fleet, and who acts. */
export interface FleetContext {
  app: App;
  hosting: Hosting;
  actor: Actor;
  target: FleetTarget;
}

export interface FleetCommand<T> {
  /** The progress bar's title: `updating plugin hello`. */
  title: string;
  work: (site: FleetContext) => Promise<T>;
  /** One install's success, as a text line (after its name). */
  text: (result: T) => string;
  /** One install's success, in the --json document. */
  json: (result: T) => unknown;
  /**
   * Unloads each install's PHP once its work is done (default): a fleet visits each install
   * once, so keeping it loaded would only hold memory until eviction.
   */
  unloadAfter?: boolean;
  /** Runs after the operation on every install, with the report (core updates wait here). */
  after?: (
    report: FleetReport<T>,
    context: { app: App; hosting: Hosting },
  ) => Promise<FleetReport<T>>;
}

/** The concurrency asked for, within what the PHP runtime allows. */
export function fleetConcurrency(flags: FleetFlags, phpTotal: number): number {
  if (flags.concurrency === undefined) return defaultFleetConcurrency(os.cpus().length, phpTotal);
  const n = Number(flags.concurrency);
  if (!Number.isInteger(n) || n < 1 || n > phpTotal) {
    throw new CliError(
      `--concurrency must be a whole number from 1 to ${phpTotal} (WPFLEET_PHP_TOTAL, the PHP instances this command may run)`,
    );
  }
  return n;
}

/**
 * Runs one operation on the installs the flags select, in this process with one hosting (its
 * own PHP runtime) for the whole fleet, as `withSite` does for one install. Progress goes to
 * stderr; the report to stdout (one JSON document with --json); the exit code is 1 when any
 * install failed. An unknown install name is refused before anything runs.
 */
export async function runFleetCommand<T>(
  flags: FleetFlags,
  selection: FleetSelection,
  command: FleetCommand<T>,
): Promise<void> {
  const config = configFrom({ ...flags });
  const concurrency = fleetConcurrency(flags, config.php.total);
  const app = await createApp(config);
  try {
    const accounts =
      flags.account === undefined
        ? await app.services.accounts.listForOperator()
        : [{ id: flags.account }];
    const actors = accounts.map((a) => operatorActor(a.id));
    const hosting = createHosting(app, releaseProvider(config), commandLog());
    let report: FleetReport<T>;
    try {
      const plan: FleetPlan = await hosting.fleet.plan(actors, selection);
      const progress = new Progress(command.title, plan.targets.length);
      let failed = 0;
      progress.update(0, `${plan.targets.length} installs, ${concurrency} at a time`);
      const done = await hosting.fleet.run(
        plan,
        async (target) => {
          try {
            return await command.work({
              app,
              hosting,
              actor: operatorActor(target.accountId),
              target,
            });
          } finally {
            if (command.unloadAfter !== false) await hosting.runtime.unload(target.id);
          }
        },
        {
          concurrency,
          onEvent: (e) => {
            if (e.type !== 'finished') return;
            if (!e.result.ok) failed += 1;
            const state = e.result.ok ? 'done' : 'failed';
            progress.update(
              e.done,
              `${e.install.name} ${state}${failed > 0 ? ` (${failed} failed so far)` : ''}`,
            );
          },
        },
      );
      progress.finish();
      report = command.after === undefined ? done : await command.after(done, { app, hosting });
      printReport(flags, report, command);
    } finally {
      await hosting.close();
    }
    if (!report.ok) process.exitCode = 1;
  } finally {
    await app.close();
  }
}

function printReport<T>(flags: FleetFlags, report: FleetReport<T>, command: FleetCommand<T>): void {
  const json = (r: FleetResult<T>): Record<string, unknown> =>
    r.ok
      ? { install: r.install, ok: true, result: command.json(r.result), ms: r.ms }
      : {
          install: r.install,
          ok: false,
          ...(r.skipped === true ? { skipped: true } : {}),
          error: r.error,
          ...(r.ms === undefined ? {} : { ms: r.ms }),
        };
  if (flags.json === true) {
    const { results, ...counts } = report;
    console.log(JSON.stringify({ ...counts, results: results.map(json) }));
    return;
  }
  for (const r of report.results) {
    if (r.ok) console.log(`${r.install.name}: ${command.text(r.result)}`);
    else {
      const what = r.skipped === true ? 'skipped' : 'failed';
      console.log(`${r.install.name}: ${what}: ${r.error.message} (${r.error.code})`);
    }
  }
  console.log(
    `${report.succeeded} of ${report.total} installs done` +
      (report.failed > 0 ? `, ${report.failed} failed` : '') +
      (report.skipped > 0 ? `, ${report.skipped} skipped (not active)` : ''),
  );
}
