import { requireScope, type Actor } from '../actor.js';
import { SiteOperationError, ValidationError } from '../errors.js';
import type { Inventory } from '../inventory/inventory.types.js';
import type { InstallRecord } from '../installs/installs.repository.js';
import type { InstallsService } from '../installs/installs.service.js';
import { jobPayload, type JobPayload } from '../jobs/job-contract.js';
import type { JobRow } from '../jobs/jobs.repository.js';
import { recordedStepNames } from '../jobs/steps.js';
import type { ExtensionKind } from '../site-agent/site-agent.js';
import type { Repositories, Store } from '../store.js';
import { visualThreshold } from './health.js';

/** A plugin or theme with a newer version than the installed one. */
export interface UpdateOffer {
  kind: ExtensionKind;
  /** The plugin's folder, or the theme's stylesheet. */
  slug: string;
  name: string;
  version: string;
  /** The newest version WordPress's check or the package sources offer. */
  update: string;
  active: boolean;
}

/** Plugins and themes to update, and how the update is checked. */
export interface ApplyRequest {
  /** These (at `version`, default the offered update); absent: every offered update. */
  items?: { kind: ExtensionKind; slug: string; version?: string }[];
  /** Screenshots before and after compared (default true). */
  visual?: boolean;
  /** Fraction of pixels allowed to differ, 0..1 (default 0.01). */
  threshold?: number;
}

/** A queued `install.safe_update` job. */
export interface QueuedSafeUpdate {
  jobId: string;
  installId: string;
  items: { kind: ExtensionKind; slug: string; versionBefore: string; version: string }[];
  visual: boolean;
  threshold: number;
  /** The same update was already queued: its job is answered, nothing new was queued. */
  alreadyQueued: boolean;
}

const JOB = 'install.safe_update';
const PENDING = new Set(['queued', 'running']);
/** Jobs that replace the install's files or database: an update waits until they are done. */
const EXCLUSIVE = new Set(['install.core_update', 'backup.restore']);
/** Steps after which the job itself recorded its outcome in the activity log. */
const OUTCOMES = ['update.rolled_back', 'update.refused', 'update.rollback_failed'];

export interface SafeUpdatesDeps {
  store: Store;
  installs: InstallsService;
  /** Reads the install's inventory from the site now, stores and answers it (SiteOperationsService). */
  refreshInventory(actor: Actor, installId: string): Promise<Inventory>;
}

/**
 * Safe updates of an install's plugins and themes, for the CLI and the dialects: what can be
 * updated, and the queueing of the `install.safe_update` job that updates behind a snapshot and
 * rolls back on any failure (src/core/updates/safe-update.job.ts).
 */
export class SafeUpdatesService {
  constructor(private readonly deps: SafeUpdatesDeps) {}

  /** The plugins and themes with an update, from the inventory read afresh from the site. */
  async updatesAvailable(actor: Actor, installId: string): Promise<UpdateOffer[]> {
    requireScope(actor, 'read');
    const install = await this.deps.installs.find(this.deps.store.read, actor, installId);
    return offers(await this.deps.refreshInventory(actor, install.id));
  }

  /** Queues the update of the named items, or of every offered update. */
  async applyUpdates(
    actor: Actor,
    installId: string,
    request: ApplyRequest,
  ): Promise<QueuedSafeUpdate> {
    requireScope(actor, 'write');
    const install = await this.deps.installs.find(this.deps.store.read, actor, installId);
    if (install.status !== 'active') {
      throw ValidationError.field(
        'Install',
        'status',
        'not_active',
        `Install is ${install.status}; only an active install can be updated`,
      );
    }
    const threshold = visualThreshold('Update', request.threshold);
    const inventory = await this.deps.refreshInventory(actor, install.id);
    const items = chosenItems(inventory, request.items);
    const payload: JobPayload<typeof JOB> = {
      items: items.map(({ kind, slug, version }) => ({ kind, slug, version })),
      visual: request.visual ?? true,
      threshold,
    };
    return this.queue(actor, install, payload, items);
  }

  /**
   * Records a safe update that failed without recording why itself (every attempt failed on an
   * error, or restarts kept killing it), inside the transaction that fails its job.
   */
  async failedWithin(r: Repositories, job: JobRow, error: string): Promise<void> {
    const install = await r.installs.findAny(job.target_id);
    if (install === undefined) return;
    const current = await r.jobs.findById(job.account_id, job.id);
    const steps = current === undefined ? [] : recordedStepNames(current);
    if (steps.some((s) => OUTCOMES.includes(s))) return;
    await r.activity.record(
      { accountId: install.account_id, label: 'runtime' },
      {
        action: 'update.failed',
        targetType: 'install',
        targetId: install.id,
        details: { job_id: job.id, steps, error: error.slice(0, 2000) },
      },
    );
  }

  /** One pending safe update per install: the same one again is answered with its job. */
  private queue(
    actor: Actor,
    install: InstallRecord,
    payload: JobPayload<typeof JOB>,
    items: QueuedSafeUpdate['items'],
  ): Promise<QueuedSafeUpdate> {
    return this.deps.store.transaction(async (r) => {
      await r.installs.lock(install.id);
      const answer = (jobId: string, alreadyQueued: boolean): QueuedSafeUpdate => ({
        jobId,
        installId: install.id,
        items,
        visual: payload.visual,
        threshold: payload.threshold,
        alreadyQueued,
      });
      const jobs = (await r.jobs.listForTarget(install.id)).filter((j) => PENDING.has(j.state));
      const other = jobs.find((j) => EXCLUSIVE.has(j.type));
      if (other !== undefined) {
        throw new SiteOperationError(
          'conflict',
          'install_busy',
          `The install has a ${other.type} job ${other.state} (job ${other.id}); update once it is done`,
        );
      }
      const pending = jobs.find((j) => j.type === JOB);
      if (pending !== undefined) {
        if (samePayload(pending, payload)) return answer(pending.id, true);
        throw new SiteOperationError(
          'conflict',
          'update_pending',
          `A safe update of this install is already ${pending.state === 'running' ? 'running' : 'queued'} (job ${pending.id}); wait for it to finish`,
        );
      }
      const job = await r.jobs.enqueue({
        accountId: install.account_id,
        installId: install.id,
        type: JOB,
        targetId: install.id,
        payload,
      });
      await r.activity.record(actor, {
        action: 'update.queued',
        targetType: 'install',
        targetId: install.id,
        details: {
          job_id: job.id,
          items: items.map((i) => ({
            kind: i.kind,
            slug: i.slug,
            version_before: i.versionBefore,
            version: i.version,
          })),
          visual: payload.visual,
          threshold: payload.threshold,
        },
      });
      return answer(job.id, false);
    });
  }
}

/** Every installed plugin and theme with an offered update. */
export function offers(inventory: Inventory): UpdateOffer[] {
  const out: UpdateOffer[] = [];
  for (const p of inventory.plugins) {
    if (p.update === null) continue;
    out.push({
      kind: 'plugin',
      slug: p.slug,
      name: p.name,
      version: p.version,
      update: p.update.version,
      active: p.active,
    });
  }
  for (const t of inventory.themes) {
    if (t.update === null) continue;
    out.push({
      kind: 'theme',
      slug: t.stylesheet,
      name: t.name,
      version: t.version,
      update: t.update.version,
      active: t.active,
    });
  }
  return out;
}

/** The items asked for, each installed and going to a version other than its own. */
function chosenItems(
  inventory: Inventory,
  asked: ApplyRequest['items'],
): QueuedSafeUpdate['items'] {
  if (asked === undefined) {
    const all = offers(inventory);
    if (all.length === 0) {
      throw ValidationError.field(
        'Update',
        'items',
        'up_to_date',
        'Every plugin and theme of the install is up to date',
      );
    }
    return all.map((o) => ({
      kind: o.kind,
      slug: o.slug,
      versionBefore: o.version,
      version: o.update,
    }));
  }
  if (asked.length === 0) {
    throw ValidationError.field('Update', 'items', 'empty', 'Name a plugin or theme to update');
  }
  const seen = new Set<string>();
  return asked.map(({ kind, slug, version }) => {
    const key = `${kind}:${slug}`;
    if (seen.has(key)) {
      throw ValidationError.field(
        'Update',
        'items',
        'duplicate',
        `The ${kind} ${slug} is named twice`,
      );
    }
    seen.add(key);
    const installed =
      kind === 'plugin'
        ? inventory.plugins.find((p) => p.slug === slug)
        : inventory.themes.find((t) => t.stylesheet === slug);
    if (installed === undefined) {
      throw new SiteOperationError(
        'not_found',
        `${kind}_not_installed`,
        `The ${kind} ${slug} is not installed.`,
      );
    }
    const target = version ?? installed.update?.version;
    if (target === undefined || target === installed.version) {
      throw ValidationError.field(
        'Update',
        'items',
        'up_to_date',
        `The ${kind} ${slug} is at ${installed.version}${target === undefined ? ', and no newer version is offered' : ' already'}`,
      );
    }
    return { kind, slug, versionBefore: installed.version, version: target };
  });
}

function samePayload(job: JobRow, payload: JobPayload<typeof JOB>): boolean {
  try {
    return JSON.stringify(jobPayload(JOB, job)) === JSON.stringify(payload);
  } catch {
    return false;
  }
}
