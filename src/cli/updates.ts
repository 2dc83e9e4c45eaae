import type { Command } from 'commander';
import type { JobRow } from '../core/jobs/jobs.repository.js';
import type { ExtensionKind } from '../core/site-agent/site-agent.js';
import type { ApplyRequest, QueuedSafeUpdate } from '../core/updates/safe-updates.service.js';
import { ValidationError } from '../core/errors.js';
import type { FleetSelection } from '../core/fleet/fleet.service.js';
import { fleetSelection, runFleetCommand, withFleetOptions, type FleetFlags } from './fleet.js';
import { CliError } from './output.js';
import { Progress } from './progress.js';
import {
  print,
  table,
  withSite,
  withSiteOptions,
  type SiteContext,
  type SiteFlags,
} from './site-context.js';
import { waitForJob } from './wait-job.js';

export interface ApplyFlags extends SiteFlags {
  plugins?: string;
  themes?: string;
  /** False with --no-visual-check. */
  visualCheck?: boolean;
  threshold?: string;
  /** False with --no-wait. */
  wait?: boolean;
  timeout?: string;
}

/** How one install's safe update ended, as `--json` prints it. */
export interface UpdateOutcome {
  install: string;
  job_id: string;
  state: 'queued' | 'succeeded' | 'rolled_back' | 'refused' | 'failed';
  items: {
    kind: ExtensionKind;
    slug: string;
    version_before: string | null;
    /** The version asked for. */
    version: string;
    /** The version WordPress reports after the update (succeeded only). */
    version_after?: string | null;
  }[];
  visual: Record<string, unknown> | null;
  /** Why it was rolled back, refused or failed. */
  reason: string | null;
  /** The job's record: its result (succeeded) or its steps (otherwise). */
  record: Record<string, unknown> | null;
}

/** The safe update job's steps in order (src/core/updates/safe-update.job.ts records them). */
const STEPS = ['before', 'before-shot', 'snapshot', 'applied', 'checked', 'done'];

/** `a,b@1.2.0` as items: each slug at the offered update, or at the version after `@`. */
function itemsOf(
  kind: ExtensionKind,
  list: string | undefined,
): NonNullable<ApplyRequest['items']> {
  if (list === undefined) return [];
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((entry) => {
      const [slug = '', version] = entry.split('@');
      return version === undefined ? { kind, slug } : { kind, slug, version };
    });
}

function thresholdOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) {
    throw new CliError(`--threshold takes a fraction of pixels such as 0.01 (1%), not "${text}"`);
  }
  return value;
}

function parsed(job: JobRow): Record<string, unknown> | null {
  if (job.result === null) return null;
  try {
    return JSON.parse(job.result) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/**
 * Queues the safe update of one install for the running server and, unless `--no-wait`, waits
 * for it with progress on stderr. Answers how it ended; a rollback is an outcome, not a throw,
 * so that a caller updating many installs goes on with the next.
 */
export async function applyOne(
  site: SiteContext,
  flags: ApplyFlags,
  /** False in a fleet run, which shows one bar for all installs. */
  showProgress = true,
): Promise<UpdateOutcome> {
  const items = [...itemsOf('plugin', flags.plugins), ...itemsOf('theme', flags.themes)];
  const threshold = thresholdOf(flags.threshold);
  const request: ApplyRequest = {
    visual: flags.visualCheck !== false,
    ...(items.length === 0 ? {} : { items }),
    ...(threshold === undefined ? {} : { threshold }),
  };
  const queued: QueuedSafeUpdate = await site.hosting.updates.applyUpdates(
    site.actor,
    site.install.id,
    request,
  );
  const outcome: UpdateOutcome = {
    install: site.install.name,
    job_id: queued.jobId,
    state: 'queued',
    items: queued.items.map((i) => ({
      kind: i.kind,
      slug: i.slug,
      version_before: i.versionBefore,
      version: i.version,
    })),
    visual: null,
    reason: null,
    record: null,
  };
  if (flags.wait === false) return outcome;
  const total = queued.visual ? STEPS.length : STEPS.length - 1;
  const progress = showProgress ? new Progress(`safe update of ${site.install.name}`, total) : null;
  let job: JobRow;
  try {
    job = await waitForJob(site.app, site.install.account_id, queued.jobId, {
      timeoutMs: Number(flags.timeout ?? '600') * 1000,
      what: 'safe update',
      onSteps: (steps) => {
        progress?.update(steps.length, steps.at(-1)?.replace('update.', '') ?? 'queued');
      },
    });
  } catch (err) {
    const failed = await site.app.store.read.jobs.findById(site.install.account_id, queued.jobId);
    if (failed?.state !== 'failed') throw err;
    job = failed;
  } finally {
    progress?.finish();
  }
  const record = parsed(job);
  if (job.state === 'succeeded') {
    const visual = record?.visual;
    const after = Array.isArray(record?.items) ? (record.items as Record<string, unknown>[]) : [];
    return {
      ...outcome,
      state: 'succeeded',
      items: outcome.items.map((item) => {
        const done = after.find((a) => a.kind === item.kind && a.slug === item.slug);
        const versionAfter = typeof done?.version_after === 'string' ? done.version_after : null;
        return { ...item, version_after: versionAfter };
      }),
      visual:
        typeof visual === 'object' && visual !== null ? (visual as Record<string, unknown>) : null,
      record,
    };
  }
  const steps = (record?.steps ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const rolledBack = steps['update.rolled_back'];
  const refused = steps['update.refused'];
  const visual = rolledBack?.visual;
  return {
    ...outcome,
    state: rolledBack !== undefined ? 'rolled_back' : refused !== undefined ? 'refused' : 'failed',
    visual:
      typeof visual === 'object' && visual !== null ? (visual as Record<string, unknown>) : null,
    reason: job.error,
    record,
  };
}

function outcomeText(outcome: UpdateOutcome): string[] {
  const items = outcome.items.map(
    (i) => `${i.kind} ${i.slug} ${i.version_before ?? '?'} → ${i.version}`,
  );
  const visual = outcome.visual;
  const pct = (v: unknown): string => `${(Number(v) * 100).toFixed(2)}%`;
  const images =
    visual === null
      ? []
      : [
          visual.difference === null
            ? '  visual: not compared (the check failed before)'
            : `  visual: ${pct(visual.difference)} of pixels changed (threshold ${pct(visual.threshold)})`,
          `  images (in the data directory): ${[visual.before, visual.after, visual.diff]
            .filter((f) => typeof f === 'string')
            .join(', ')}`,
        ];
  switch (outcome.state) {
    case 'queued':
      return [
        `safe update of ${outcome.install} queued as job ${outcome.job_id}`,
        ...items.map((i) => `  ${i}`),
      ];
    case 'succeeded':
      return [`${outcome.install} updated:`, ...items.map((i) => `  ${i}`), ...images];
    default:
      return [
        `${outcome.install} was not updated (${outcome.state.replace('_', ' ')}): ${outcome.reason ?? 'unknown'}`,
        ...items.map((i) => `  ${i}`),
        ...images,
      ];
  }
}

/** `wpfleet updates …`: plugin and theme updates checked and rolled back when they break. */
export function updateCommands(program: Command): void {
  const updates = program
    .command('updates')
    .description("an install's plugin and theme updates, checked and rolled back if they break it");

  withSiteOptions(updates.command('list <install>'))
    .description('the plugins and themes with a newer version (read from the site now)')
    .action(async (install: string, flags: SiteFlags) => {
      await withSite(flags, install, async ({ hosting, actor, install: row }) => {
        const offers = await hosting.updates.updatesAvailable(actor, row.id);
        print(
          flags,
          offers,
          offers.length === 0
            ? `every plugin and theme of ${row.name} is up to date`
            : table([
                ['KIND', 'SLUG', 'VERSION', 'UPDATE', 'ACTIVE'],
                ...offers.map((o) => [
                  o.kind,
                  o.slug,
                  o.version,
                  o.update,
                  o.active ? 'yes' : 'no',
                ]),
              ]),
        );
      });
    });

  withFleetOptions(withSiteOptions(updates.command('apply [install]')))
    .usage('[options] <install>  |  --all|--installs <names>')
    .description(
      'update plugins and themes behind a snapshot: the site is checked (and compared with screenshots) and rolled back on any failure; the running server does it, this waits',
    )
    .option('--plugins <slugs>', 'these plugins (slug or slug@version, comma-separated)')
    .option('--themes <slugs>', 'these themes (slug or slug@version, comma-separated)')
    .option('--no-visual-check', 'skip the screenshots and their comparison')
    .option('--threshold <fraction>', 'fraction of pixels allowed to change (default 0.01 = 1%)')
    .option('--no-wait', 'queue it and return at once')
    .option('--timeout <seconds>', 'how long to wait for the server (default 600)', '600')
    .action(
      async (install: string | undefined, flags: ApplyFlags & FleetFlags, command: Command) => {
        const selection = fleetSelection(flags);
        if (selection !== null) {
          if (install !== undefined) {
            command.error(`error: with --all or --installs, name no install (got "${install}")`);
          }
          await applyFleet(flags, selection);
          return;
        }
        if (install === undefined) command.error("error: missing required argument 'install'");
        await withSite(flags, install, async (site) => {
          const outcome = await applyOne(site, flags);
          print(flags, outcome, outcomeText(outcome));
          if (outcome.state !== 'succeeded' && outcome.state !== 'queued') {
            if (flags.json === true) console.error(`wpfleet: ${outcome.reason ?? outcome.state}`);
            process.exitCode = 1;
          }
        });
      },
    );
}

/** An update that did not stand, as one install's failure in a fleet run. */
class NotUpdated extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * `updates apply --all|--installs`: one safe update per install, each queued and waited for (the
 * running server's job runner bounds how many run at once); a rollback, a refusal or an install
 * with nothing to update is that install's result, and the others go on.
 */
async function applyFleet(
  flags: ApplyFlags & FleetFlags,
  selection: FleetSelection,
): Promise<void> {
  await runFleetCommand<FleetUpdate>(flags, selection, {
    title: 'safe updates',
    work: async ({ app, hosting, actor, target }) => {
      const install = await app.services.installs.findForOperator(target.id);
      let outcome: UpdateOutcome;
      try {
        outcome = await applyOne({ app, hosting, actor, install }, flags, false);
      } catch (err) {
        // Nothing to update is no failure when the whole fleet is asked.
        const upToDate =
          err instanceof ValidationError && err.issues.some((i) => i.code === 'up_to_date');
        if (upToDate) return { install: install.name, state: 'up_to_date' };
        throw err;
      }
      if (outcome.state === 'succeeded' || outcome.state === 'queued') return outcome;
      throw new NotUpdated(outcome.state, outcome.reason ?? outcome.state);
    },
    text: (o) =>
      o.state === 'up_to_date'
        ? 'up to date'
        : `${o.state === 'queued' ? `queued as job ${o.job_id}` : 'updated'}: ${o.items
            .map((i) => `${i.kind} ${i.slug} ${i.version_before ?? '?'} → ${i.version}`)
            .join(', ')}`,
    json: (o) => o,
  });
}

/** One install's answer in a fleet run: its update, or that there was nothing to update. */
type FleetUpdate = UpdateOutcome | { install: string; state: 'up_to_date' };
