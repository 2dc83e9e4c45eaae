import type { Actor } from '../actor.js';
import { NotFoundError } from '../errors.js';
import type { InstallRow } from '../installs/installs.repository.js';
import type { InstallsService } from '../installs/installs.service.js';
import {
  fleetReport,
  runFleet,
  type FleetInstall,
  type FleetReport,
  type FleetResult,
  type FleetRunOptions,
} from './fleet-runner.js';

/** Which installs a fleet operation is for: every install, or these names or ids. */
export type FleetSelection = { all: true } | { installs: readonly string[] };

/** An install a fleet operation runs on, with the account whose actor acts on it. */
export interface FleetTarget extends FleetInstall {
  accountId: string;
}

/** The installs to run on, and those left out with the reason (in the selection's order). */
export interface FleetPlan {
  targets: FleetTarget[];
  /** Installs that are not active: skipped under `all`, failures when named. */
  notActive: FleetResult<never>[];
}

/** Enough for any fleet this platform hosts; the listing is by account, oldest install first. */
const LIST_LIMIT = 100_000;

/**
 * Fleet operations: one operation on many installs (`runFleet`), on the installs a selection
 * names. Services only: the CLI and the dialects' "update everything" routes call it with the
 * operation, which is itself a service call (SiteOperationsService, CoreUpdatesService).
 */
export class FleetService {
  constructor(private readonly installs: Pick<InstallsService, 'list'>) {}

  /**
   * The installs of the actors' accounts that `selection` names (one actor for a dialect's
   * caller; the CLI's operator passes one per account). Under `all`, installs that are not
   * active (being provisioned, or failed) are skipped with the reason; a named one that is not
   * active fails with it. A name or id that matches no install is an error before anything runs.
   */
  async plan(actors: readonly Actor[], selection: FleetSelection): Promise<FleetPlan> {
    const live: InstallRow[] = [];
    for (const actor of actors) {
      const page = await this.installs.list(actor, undefined, { limit: LIST_LIMIT, offset: 0 });
      live.push(...page.items.map((v) => v.install));
    }
    let chosen: InstallRow[];
    const all = 'all' in selection;
    if (all) {
      chosen = live;
    } else {
      const wanted = [...new Set(selection.installs.map((s) => s.trim()).filter((s) => s !== ''))];
      const unknown: string[] = [];
      chosen = [];
      for (const key of wanted) {
        const found =
          live.find((i) => i.id === key) ?? live.find((i) => i.name === key.toLowerCase());
        if (found === undefined) unknown.push(key);
        else if (!chosen.includes(found)) chosen.push(found);
      }
      if (unknown.length > 0) {
        throw new NotFoundError(`Install${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`);
      }
    }
    const targets: FleetTarget[] = [];
    const notActive: FleetResult<never>[] = [];
    for (const install of chosen) {
      if (install.status === 'active') {
        targets.push({ id: install.id, name: install.name, accountId: install.account_id });
        continue;
      }
      const why =
        install.status === 'pending'
          ? `Install ${install.name} is pending: it is being provisioned`
          : `Install ${install.name} is ${install.status}${install.status_reason === null ? '' : ` (${install.status_reason})`}; retry it first`;
      notActive.push({
        install: { id: install.id, name: install.name },
        ok: false,
        ...(all ? { skipped: true as const } : {}),
        error: { code: 'not_active', message: why },
      });
    }
    return { targets, notActive };
  }

  /**
   * Runs `work` on the plan's installs (see runFleet) and reports every install: those run, in
   * the plan's order, then those left out.
   */
  async run<T>(
    plan: FleetPlan,
    work: (target: FleetTarget) => Promise<T>,
    options: FleetRunOptions<T>,
  ): Promise<FleetReport<T>> {
    const results = await runFleet(plan.targets, work, options);
    return fleetReport<T>([...results, ...plan.notActive]);
  }
}
