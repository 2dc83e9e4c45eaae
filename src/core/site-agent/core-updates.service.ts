import { requireScope, type Actor } from '../actor.js';
import { SiteOperationError, UnavailableError, ValidationError } from '../errors.js';
import type { InstallRecord } from '../installs/installs.repository.js';
import type { InstallsService } from '../installs/installs.service.js';
import { jobPayload } from '../jobs/job-contract.js';
import type { JobRow } from '../jobs/jobs.repository.js';
import { PackageSourceUnavailableError } from '../packages/package-errors.js';
import type { PackageSources } from '../packages/package-source.js';
import { compareWordPressVersions, isWordPressVersion } from '../shared/wp-version.js';
import type { Repositories, Store } from '../store.js';
import { visualThreshold } from '../updates/health.js';

/** What an install's core files are, against the checksums of the release it runs. */
export interface CoreVerification {
  /** Nothing missing, nothing changed (extra files do not fail). */
  ok: boolean;
  /** Core files the release's checksums list that are not there. */
  missing: string[];
  /** Core files whose content differs from the checksums. */
  changed: string[];
  /** Files in core that the checksums do not list. */
  extra: string[];
  /** How many listed files were compared. */
  checked: number;
}

/**
 * Whether a WordPress version can be had: `stored` (a release on this server), `obtainable` (in
 * the machine's release cache, or offered by a release source), `not_offered` (no source has
 * it), or `unknown` (a source that might have it cannot be asked now).
 */
export type VersionAvailability = 'stored' | 'obtainable' | 'not_offered' | 'unknown';

/** The WordPress releases installs run on; the runtime's release store implements it. */
export interface CoreReleases {
  /** The versions stored on this server. */
  stored(): Promise<string[]>;
  availability(version: string): Promise<VersionAvailability>;
  /** The core files an install on `releaseVersion` runs, against that release's checksums. */
  verifyInstallCore(releaseVersion: string): Promise<CoreVerification>;
}

export interface CoreUpdatesDeps {
  store: Store;
  installs: InstallsService;
  packages: PackageSources;
  releases: CoreReleases;
}

/** A queued `install.core_update` job. */
export interface QueuedCoreUpdate {
  jobId: string;
  installId: string;
  versionBefore: string;
  version: string;
  reinstall: boolean;
  /** The same update was already queued: its job is answered, nothing new was queued. */
  alreadyQueued: boolean;
}

const JOB = 'install.core_update';
const PENDING = new Set(['queued', 'running']);

/**
 * Core updates and reinstalls of an install, and the check of its core files. WordPress's core
 * files are the install's shared, read-only release: an update switches the install to another
 * release and upgrades its database (the `install.core_update` job); a reinstall switches it to
 * its own release again after checking (and repairing) that release's files. Its own files,
 * wp-content and wp-config.php, are never touched. Only the same or a newer version is taken:
 * WordPress cannot take its database back to an older version.
 */
export class CoreUpdatesService {
  constructor(private readonly deps: CoreUpdatesDeps) {}

  /**
   * Queues the update to `version`, or to the newest version this server can get; with
   * `check.visual`, the home page's screenshots before and after are compared too (the safe
   * updates' visual check, `threshold` the fraction of pixels that may change, default 0.01).
   */
  async updateCore(
    actor: Actor,
    installId: string,
    version?: string,
    check: { visual?: boolean; threshold?: number } = {},
  ): Promise<QueuedCoreUpdate> {
    const install = await this.activeInstall(actor, installId, 'write');
    const current = install.release_version ?? '';
    const threshold = visualThreshold('Install', check.threshold);
    const target = version === undefined ? await this.newest(current) : version.trim();
    if (version !== undefined) await this.checkTarget(current, target);
    const visual = check.visual === true ? { visual: true, threshold } : {};
    return this.queue(actor, install, current, target, false, visual);
  }

  /** Queues the reinstall of the install's own version: its release checked, repaired if damaged. */
  async reinstallCore(actor: Actor, installId: string): Promise<QueuedCoreUpdate> {
    const install = await this.activeInstall(actor, installId, 'write');
    const current = install.release_version ?? '';
    return this.queue(actor, install, current, current, true);
  }

  /** The install's core files against its release's checksums: missing or changed files fail. */
  async verifyCore(actor: Actor, installId: string): Promise<CoreVerification> {
    requireScope(actor, 'read');
    const install = await this.deps.installs.find(this.deps.store.read, actor, installId);
    if (install.release_version === null) {
      throw new UnavailableError(`Install ${install.name} has no WordPress yet`);
    }
    return this.deps.releases.verifyInstallCore(install.release_version);
  }

  /**
   * Records that a core update was given up, inside the transaction that fails its job (the
   * job put the install back on its release first, or never left it).
   */
  async failedWithin(r: Repositories, job: JobRow, error: string): Promise<void> {
    const install = await r.installs.findAny(job.target_id);
    if (install === undefined) return;
    let payload: { version: string; reinstall: boolean } | null = null;
    try {
      payload = jobPayload(JOB, job);
    } catch {
      // Recorded without the version: the job failed for that very reason.
    }
    await r.activity.record(
      { accountId: install.account_id, label: 'runtime' },
      {
        action: payload?.reinstall === true ? 'core.reinstall.failed' : 'core.update.failed',
        targetType: 'install',
        targetId: install.id,
        details: {
          job_id: job.id,
          version: payload?.version ?? null,
          release_version: install.release_version,
          error: error.slice(0, 2000),
        },
      },
    );
  }

  private async activeInstall(
    actor: Actor,
    installId: string,
    scope: 'write',
  ): Promise<InstallRecord> {
    requireScope(actor, scope);
    const install = await this.deps.installs.find(this.deps.store.read, actor, installId);
    if (install.status !== 'active' || install.release_version === null) {
      throw ValidationError.field(
        'Install',
        'status',
        'not_active',
        `Install is ${install.status}; WordPress core can be updated or reinstalled only on an active install`,
      );
    }
    return install;
  }

  /** The newest version this server can get, when it is newer than the install's. */
  private async newest(current: string): Promise<string> {
    const candidates = await this.deps.releases.stored();
    try {
      candidates.push((await this.deps.packages.coreVersions()).latest);
    } catch (err) {
      if (!(err instanceof PackageSourceUnavailableError)) throw err;
    }
    const newest = candidates
      .filter(isWordPressVersion)
      .sort((a, b) => compareWordPressVersions(b, a))[0];
    if (newest === undefined || compareWordPressVersions(newest, current) <= 0) {
      throw ValidationError.field(
        'Install',
        'version',
        'up_to_date',
        `Install runs WordPress ${current}; this server can get nothing newer${newest === undefined ? '' : ` (the newest it knows is ${newest})`}`,
      );
    }
    return newest;
  }

  /** A version named by the caller: well-formed, not older than the install's, and obtainable. */
  private async checkTarget(current: string, version: string): Promise<void> {
    if (!isWordPressVersion(version)) {
      throw ValidationError.field(
        'Install',
        'version',
        'invalid',
        `"${version}" is not a WordPress version (like 6.5 or 6.1.9)`,
      );
    }
    if (compareWordPressVersions(version, current) < 0) {
      throw ValidationError.field(
        'Install',
        'version',
        'downgrade',
        `WordPress ${version} is older than the install's ${current}: core updates go to the same or a newer version only, since WordPress cannot take an upgraded database back (restore a backup instead)`,
      );
    }
    if ((await this.deps.releases.availability(version)) === 'not_offered') {
      throw ValidationError.field(
        'Install',
        'version',
        'unknown_version',
        `WordPress ${version} is not stored on this server and none of its release sources offers it`,
      );
    }
  }

  /** One pending core update per install: the same one again is answered with its job. */
  private queue(
    actor: Actor,
    install: InstallRecord,
    versionBefore: string,
    version: string,
    reinstall: boolean,
    visual: { visual?: boolean; threshold?: number } = {},
  ): Promise<QueuedCoreUpdate> {
    return this.deps.store.transaction(async (r) => {
      await r.installs.lock(install.id);
      const answer = (jobId: string, alreadyQueued: boolean): QueuedCoreUpdate => ({
        jobId,
        installId: install.id,
        versionBefore,
        version,
        reinstall,
        alreadyQueued,
      });
      const pending = (await r.jobs.listForTarget(install.id)).find(
        (j) => j.type === JOB && PENDING.has(j.state),
      );
      if (pending !== undefined) {
        const same = samePayload(pending, version, reinstall, visual.visual === true);
        if (same) return answer(pending.id, true);
        throw new SiteOperationError(
          'conflict',
          'core_update_pending',
          `A core update of this install is already ${pending.state === 'running' ? 'running' : 'queued'} (job ${pending.id}); wait for it to finish`,
        );
      }
      const job = await r.jobs.enqueue({
        accountId: install.account_id,
        installId: install.id,
        type: JOB,
        targetId: install.id,
        payload: { version, reinstall, ...visual },
      });
      await r.activity.record(actor, {
        action: reinstall ? 'core.reinstall' : 'core.update',
        targetType: 'install',
        targetId: install.id,
        details: reinstall
          ? { version, job_id: job.id }
          : { version_before: versionBefore, version_after: version, job_id: job.id },
      });
      return answer(job.id, false);
    });
  }
}

function samePayload(job: JobRow, version: string, reinstall: boolean, visual: boolean): boolean {
  try {
    const payload = jobPayload(JOB, job);
    return (
      payload.version === version &&
      payload.reinstall === reinstall &&
      (payload.visual === true) === visual
    );
  } catch {
    return false;
  }
}
