import { requireScope, type Actor } from '../actor.js';
import { ValidationError } from '../errors.js';
import type { InstallRecord, InstallRow } from '../installs/installs.repository.js';
import type { InstallsService } from '../installs/installs.service.js';
import {
  ENVIRONMENTS,
  type Activation,
  type Environment,
  type InstallView,
} from '../installs/installs.types.js';
import { jobPayload } from '../jobs/job-contract.js';
import type { JobRow } from '../jobs/jobs.repository.js';
import type { Repositories, Store } from '../store.js';

/** What a copy between environments carries: wp-content's files, the database, or both. */
export const COPY_PARTS = ['both', 'files', 'database'] as const;
export type CopyParts = (typeof COPY_PARTS)[number];

export interface NewClone {
  /** The new install's name (the rules of any install's). */
  name: string;
  /** The site to add it to (default: a new site of its own). */
  siteId?: string | undefined;
  /** Its environment in that site (default production). */
  environment?: Environment | undefined;
}

/** A queued clone: the new install (pending until the copy is in) and the job that copies. */
export interface QueuedClone {
  install: InstallView;
  source: InstallRow;
  jobId: string;
}

export interface CopyRequest {
  from: string;
  to: string;
  parts: CopyParts;
}

/** A queued copy between two environments of a site. */
export interface QueuedCopy {
  jobId: string;
  from: InstallRow;
  to: InstallRow;
  parts: CopyParts;
}

/** The runtime acting on an account's installs, as the activity log names it. */
function runtimeActor(accountId: string): Pick<Actor, 'accountId' | 'label'> {
  return { accountId, label: 'runtime' };
}

function engineOf(install: InstallRow): string {
  return install.db_user === null ? 'SQLite' : 'MySQL';
}

/**
 * Clones of an install into a new install, and copies between the environments of one site
 * (push staging to production, pull it back). This queues the work and keeps the installs'
 * records; the runtime's `install.clone` and `install.copy` jobs copy the files and database (a
 * fresh backup of the source restored onto the target, its URLs rewritten) and report back here.
 */
export class ClonesService {
  constructor(
    private readonly store: Store,
    private readonly installs: InstallsService,
  ) {}

  /**
   * Creates the new install (same account, the source's PHP version and WordPress release) and
   * queues its copy after its provisioning, in one transaction: a crash leaves both or neither.
   */
  async clone(actor: Actor, sourceId: string, input: NewClone): Promise<QueuedClone> {
    requireScope(actor, 'write');
    return this.store.transaction(async (r) => {
      const source = await this.runningInstall(r, actor, sourceId, 'source_id');
      const { view, provisionJob } = await this.installs.createWithin(
        r,
        actor,
        {
          name: input.name,
          account_id: actor.accountId,
          site_id: input.siteId,
          environment: input.environment,
        },
        source,
      );
      const target = view.install;
      const job = await r.jobs.enqueue({
        accountId: actor.accountId,
        installId: target.id,
        type: 'install.clone',
        targetId: target.id,
        payload: { source_id: source.id },
        idempotencyKey: `install.clone:${target.id}`,
        follows: provisionJob,
      });
      await r.activity.record(actor, {
        action: 'install.clone',
        targetType: 'install',
        targetId: target.id,
        details: { source_id: source.id, source_name: source.name, job_id: job.id },
      });
      return { install: view, source, jobId: job.id };
    });
  }

  /**
   * Queues the copy of one install's files, database or both onto another install of the same
   * site (which gets a safety backup first).
   */
  async copyBetween(actor: Actor, request: CopyRequest): Promise<QueuedCopy> {
    requireScope(actor, 'write');
    const parts = request.parts;
    if (!(COPY_PARTS as readonly string[]).includes(parts)) {
      throw ValidationError.field(
        'Install',
        'parts',
        'invalid',
        `parts must be one of ${COPY_PARTS.join(', ')}`,
      );
    }
    return this.store.transaction(async (r) => {
      const from = await this.runningInstall(r, actor, request.from, 'from');
      const to = await this.runningInstall(r, actor, request.to, 'to');
      if (from.id === to.id) {
        throw ValidationError.field(
          'Install',
          'to',
          'same_install',
          `Install ${from.name} cannot be copied onto itself; name another environment of its site`,
        );
      }
      if (from.site_id === null || from.site_id !== to.site_id) {
        throw ValidationError.field(
          'Install',
          'to',
          'different_site',
          `Installs ${from.name} and ${to.name} belong to different sites; copies go between the environments of one site (a clone makes a new install from any install)`,
        );
      }
      if (engineOf(from) !== engineOf(to)) {
        throw ValidationError.field(
          'Install',
          'to',
          'different_database',
          `Install ${from.name} runs on ${engineOf(from)} and ${to.name} on ${engineOf(to)}; a copy needs the same database engine on both`,
        );
      }
      const job = await r.jobs.enqueue({
        accountId: actor.accountId,
        installId: to.id,
        type: 'install.copy',
        targetId: to.id,
        payload: { source_id: from.id, parts },
      });
      await r.activity.record(actor, {
        action: 'install.copy',
        targetType: 'install',
        targetId: to.id,
        details: {
          from_install_id: from.id,
          from_name: from.name,
          from_environment: from.environment,
          to_environment: to.environment,
          parts,
          job_id: job.id,
        },
      });
      return { jobId: job.id, from, to, parts };
    });
  }

  /**
   * `copyBetween` by environment: from the `from` environment of the install's site to its `to`
   * environment (`install` may be either, or a third one of the site).
   */
  async copyBetweenEnvironments(
    actor: Actor,
    installId: string,
    environments: { from: Environment; to: Environment },
    parts: CopyParts,
  ): Promise<QueuedCopy> {
    requireScope(actor, 'write');
    const install = await this.installs.find(this.store.read, actor, installId);
    const pick = async (environment: Environment, field: string): Promise<InstallRecord> => {
      if (!ENVIRONMENTS.includes(environment)) {
        throw ValidationError.field(
          'Install',
          field,
          'invalid',
          `${field} must be one of ${ENVIRONMENTS.join(', ')}`,
        );
      }
      const siteInstalls =
        install.site_id === null
          ? []
          : await this.store.read.installs.listForSites(install.account_id, [install.site_id]);
      const found = siteInstalls.find((i) => i.environment === environment);
      if (found === undefined) {
        throw ValidationError.field(
          'Install',
          field,
          'missing',
          `The site of install ${install.name} has no ${environment} install`,
        );
      }
      return found;
    };
    const from = await pick(environments.from, 'from');
    const to = await pick(environments.to, 'to');
    return this.copyBetween(actor, { from: from.id, to: to.id, parts });
  }

  // What the runtime's jobs report, each inside the transaction that ends the job.

  /** The copy is in: the new install becomes active; both installs' logs say so. */
  async clonedWithin(
    r: Repositories,
    job: JobRow,
    activation: Activation,
    details: Record<string, unknown>,
  ): Promise<void> {
    const target = await r.installs.findAny(job.target_id);
    if (target === undefined) return;
    const { source_id } = jobPayload('install.clone', job);
    await this.installs.markActiveWithin(r, target.id, activation, true);
    const actor = runtimeActor(target.account_id);
    const source = await r.installs.findAny(source_id);
    await r.activity.record(actor, {
      action: 'install.cloned',
      targetType: 'install',
      targetId: target.id,
      details: { ...details, source_id, source_name: source?.name ?? null, job_id: job.id },
    });
    await r.activity.record(actor, {
      action: 'install.cloned',
      targetType: 'install',
      targetId: source_id,
      details: { ...details, target_id: target.id, target_name: target.name, job_id: job.id },
    });
  }

  /** A clone given up: its new install is failed with the reason, never left pending. */
  async cloneFailedWithin(r: Repositories, job: JobRow, error: string): Promise<void> {
    const target = await r.installs.findAny(job.target_id);
    if (target === undefined) return;
    let sourceId: string | null = null;
    try {
      sourceId = jobPayload('install.clone', job).source_id;
    } catch {
      // Failed for that very reason: recorded without the source.
    }
    const source = sourceId === null ? undefined : await r.installs.findAny(sourceId);
    await this.installs.markFailedWithin(
      r,
      target.id,
      `cloning ${source?.name ?? 'the source install'} failed: ${error}`,
    );
    if (source !== undefined) {
      await r.activity.record(runtimeActor(target.account_id), {
        action: 'install.clone_failed',
        targetType: 'install',
        targetId: source.id,
        details: { target_id: target.id, target_name: target.name, job_id: job.id, error },
      });
    }
  }

  /** A copy between environments is done: both installs' logs say so. */
  async copiedWithin(
    r: Repositories,
    job: JobRow,
    details: Record<string, unknown>,
  ): Promise<void> {
    const { source_id, parts } = jobPayload('install.copy', job);
    const to = await r.installs.findAny(job.target_id);
    if (to === undefined) return;
    const actor = runtimeActor(to.account_id);
    for (const [id, role] of [
      [to.id, { from_install_id: source_id }],
      [source_id, { to_install_id: to.id }],
    ] as const) {
      await r.activity.record(actor, {
        action: 'install.copied',
        targetType: 'install',
        targetId: id,
        details: { ...role, parts, job_id: job.id, ...details },
      });
    }
  }

  /** A copy given up (the target was rolled back to its safety backup, or never touched). */
  async copyFailedWithin(r: Repositories, job: JobRow, error: string): Promise<void> {
    const to = await r.installs.findAny(job.target_id);
    if (to === undefined) return;
    await r.activity.record(runtimeActor(to.account_id), {
      action: 'install.copy_failed',
      targetType: 'install',
      targetId: to.id,
      details: { job_id: job.id, error: error.slice(0, 2000) },
    });
  }

  /** An install of the actor's account that runs WordPress (another account's is not found). */
  private async runningInstall(
    r: Repositories,
    actor: Actor,
    id: string,
    field: string,
  ): Promise<InstallRecord> {
    const install = await this.installs.find(r, actor, id);
    if (install.status !== 'active' || install.wp_version === null) {
      throw ValidationError.field(
        'Install',
        field,
        'not_active',
        `Install ${install.name} is ${install.status}; only an active install can be copied from or onto`,
      );
    }
    return install;
  }
}
