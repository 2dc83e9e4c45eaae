import { ValidationError } from '../core/errors.js';
import { fleetReport, type FleetReport, type FleetResult } from '../core/fleet/fleet-runner.js';
import type { FleetSelection } from '../core/fleet/fleet.service.js';
import type { App } from '../composition.js';
import { coreCheck, type UpdateFlags } from './core.js';
import { runFleetCommand, type FleetFlags } from './fleet.js';
import { Progress } from './progress.js';

/** One install's core update in a fleet run, as --json prints it. */
export interface CoreFleetUpdate {
  job_id: string | null;
  version_before: string;
  version: string;
  /** `up_to_date`: nothing newer to take (not a failure, nothing queued). */
  state: 'queued' | 'succeeded' | 'up_to_date';
  already_queued: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * `wpfleet core update --all|--installs …`: queues one `install.core_update` job per install
 * (the running server does them, as for one install), then waits for all of them with one
 * progress bar. A job that fails is that install's failure, with the job's error.
 */
export async function updateFleet(
  flags: UpdateFlags & FleetFlags,
  selection: FleetSelection,
): Promise<void> {
  const accountOf = new Map<string, string>();
  const check = coreCheck(flags);
  await runFleetCommand<CoreFleetUpdate>(flags, selection, {
    title: 'queueing core updates',
    unloadAfter: false,
    work: async ({ app, hosting, actor, target }) => {
      try {
        const queued = await hosting.core.updateCore(actor, target.id, flags.version, check);
        accountOf.set(queued.jobId, target.accountId);
        return {
          job_id: queued.jobId,
          version_before: queued.versionBefore,
          version: queued.version,
          state: 'queued',
          already_queued: queued.alreadyQueued,
        };
      } catch (err) {
        const upToDate =
          err instanceof ValidationError && err.issues.some((i) => i.code === 'up_to_date');
        if (!upToDate) throw err;
        const { release_version: current } = await app.services.installs.findForOperator(target.id);
        return {
          job_id: null,
          version_before: current ?? '',
          version: current ?? '',
          state: 'up_to_date',
          already_queued: false,
        };
      }
    },
    text: (r) =>
      r.state === 'up_to_date'
        ? `WordPress ${r.version} is up to date`
        : r.state === 'queued'
          ? `core update to ${r.version} queued as job ${r.job_id ?? ''}`
          : `now runs WordPress ${r.version} (was ${r.version_before})`,
    json: (r) => r,
    after: (report, { app }) =>
      flags.wait === false
        ? Promise.resolve(report)
        : waitForAll(app, report, accountOf, Number(flags.timeout ?? '600') * 1000),
  });
}

/** Polls the queued jobs until each has succeeded or failed (or the time is up). */
async function waitForAll(
  app: App,
  report: FleetReport<CoreFleetUpdate>,
  accountOf: ReadonlyMap<string, string>,
  timeoutMs: number,
): Promise<FleetReport<CoreFleetUpdate>> {
  const results = [...report.results];
  const pending = new Set(
    results.flatMap((r, i) => (r.ok && r.result.state === 'queued' ? [i] : [])),
  );
  const progress = new Progress('core updates', pending.size);
  const total = pending.size;
  const waitStart = Date.now();
  const deadline = waitStart + timeoutMs;
  let failed = 0;
  try {
    while (pending.size > 0) {
      for (const i of [...pending]) {
        const r = results[i];
        if (r === undefined || !r.ok || r.result.job_id === null) continue;
        const jobId = r.result.job_id;
        // From queueing until the job ended.
        const ms = r.ms + (Date.now() - waitStart);
        const job = await app.store.read.jobs.findById(accountOf.get(jobId) ?? '', jobId);
        let settled: FleetResult<CoreFleetUpdate> | null = null;
        if (job === undefined) {
          settled = {
            install: r.install,
            ok: false,
            error: { code: 'job_gone', message: `job ${jobId} is gone` },
          };
        } else if (job.state === 'succeeded') {
          settled = { ...r, result: { ...r.result, state: 'succeeded' }, ms };
        } else if (job.state === 'failed') {
          settled = {
            install: r.install,
            ok: false,
            error: { code: 'core_update_failed', message: job.error ?? 'unknown' },
            ms,
          };
        }
        if (settled === null) continue;
        results[i] = settled;
        pending.delete(i);
        if (!settled.ok) failed += 1;
        progress.update(
          total - pending.size,
          `${r.install.name} ${settled.ok ? 'updated' : 'failed'}${failed > 0 ? ` (${failed} failed so far)` : ''}`,
        );
      }
      if (pending.size === 0) break;
      if (Date.now() > deadline) {
        for (const i of pending) {
          const r = results[i];
          if (r === undefined) continue;
          results[i] = {
            install: r.install,
            ok: false,
            error: {
              code: 'timeout',
              message: `the core update job ${r.ok ? (r.result.job_id ?? '') : ''} has not finished; is \`wpfleet serve\` running on this data directory?`,
            },
          };
        }
        break;
      }
      await sleep(500);
    }
  } finally {
    progress.finish();
  }
  return fleetReport(results);
}
