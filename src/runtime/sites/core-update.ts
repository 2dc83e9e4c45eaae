import { SiteOperationError } from '../../core/errors.js';
import type { InstallRow } from '../../core/installs/installs.repository.js';
import type { InstallsService } from '../../core/installs/installs.service.js';
import {
  FinalJobError,
  type JobDefinition,
  type JobPayload,
} from '../../core/jobs/job-contract.js';
import type { JobRow } from '../../core/jobs/jobs.repository.js';
import type { JobSteps } from '../../core/jobs/steps.js';
import type { CoreUpdatesService } from '../../core/site-agent/core-updates.service.js';
import type { DatabaseUpgrade } from '../../core/site-agent/operations.types.js';
import type { SiteAgents } from '../../core/site-agent/site-agent.js';
import type { Store } from '../../core/store.js';
import { beyondThreshold } from '../../core/updates/health.js';
import type { VisualCheck } from '../../core/updates/ports.js';
import { percent, updateFolder } from '../../core/updates/records.js';
import {
  clearMaintenanceFlag,
  maintenanceFlagSet,
  setMaintenanceFlag,
} from '../backups/maintenance.js';
import type { PhpRuntime } from '../php/types.js';
import type { EdgeAddress, Provisioner } from '../provision/provisioner.js';
import {
  addRelease,
  releaseStore,
  type ReleaseOptions,
  type ReleaseSettings,
} from '../releases/add.js';
import { ReleaseError } from '../releases/errors.js';
import { checkStoredRelease, repairRelease } from '../releases/repair.js';
import { siteLayout } from './site-files.js';

export interface CoreUpdateDeps {
  store: Store;
  installs: InstallsService;
  coreUpdates: CoreUpdatesService;
  agents: SiteAgents;
  runtime: Pick<PhpRuntime, 'unload'>;
  provisioner: Pick<Provisioner, 'primaryHost'>;
  address: Pick<EdgeAddress, 'get'>;
  releases: ReleaseSettings;
  releaseOptions?: ReleaseOptions;
  /** The install's routes and pages are forgotten by this server's edge (its release changed). */
  forgetRoutes: (installId: string) => void;
  /** Drops the install's cached pages on every server. */
  pagesChanged: (installId: string) => Promise<void>;
  /** Stores the install's inventory read afresh. */
  refreshInventory: (installId: string) => Promise<unknown>;
  /** Screenshots and their comparison, for an update that asks for the visual check. */
  visual?: VisualCheck;
}

/** The screenshots of a core update with the visual check, named as the safe updates name them. */
interface CoreVisual extends Record<string, unknown> {
  difference: number | null;
  threshold: number;
  before: string;
  after: string | null;
  diff: string | null;
}

/** The version WordPress's generator meta tag names, if the page has one. */
export function generatorVersion(html: string): string | null {
  const tag = /<meta\s+name=["']generator["']\s+content=["']WordPress ([^"'\s]+)["']/i.exec(html);
  return tag?.[1] ?? null;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What was decided before anything changed, kept for a later attempt and the rollback. */
interface Prepared {
  from: string;
  maintenanceBefore: boolean;
}

/**
 * `install.core_update`: switches an install to the release of a WordPress version and upgrades
 * its database; a reinstall first checks its release's files and fetches them again if damaged.
 * Steps: the release is made ready (before anything of the install changes: a version no source
 * has fails here, changing nothing); maintenance on; the switch (recorded with the step, so a
 * later attempt knows where it stands); PHP restarted; wp_upgrade() through the agent;
 * maintenance off; the home page must answer without an error, with WordPress's generator tag
 * naming the new version when it has one. A failure after the switch puts the install back on
 * its release and fails the job with the reason (WordPress's own text when it gave one). The
 * install's own files (wp-content, wp-config.php) are never written, only the maintenance flag.
 */
export class CoreUpdater {
  constructor(private readonly deps: CoreUpdateDeps) {}

  definition(): JobDefinition<'install.core_update'> {
    return {
      run: (job, payload, steps) => this.run(job, payload, steps),
      abandon: (job, steps, reason) => this.abandon(job, steps, reason),
      givenUp: (r, job, error) => this.deps.coreUpdates.failedWithin(r, job, error),
    };
  }

  async run(
    job: JobRow,
    payload: JobPayload<'install.core_update'>,
    steps: JobSteps,
  ): Promise<Record<string, unknown>> {
    const { version, reinstall } = payload;
    const started = Date.now();
    const install = await this.deps.store.read.installs.findAny(job.target_id);
    if (install === undefined || install.deleted_at !== null) {
      return { skipped: 'the install was deleted' };
    }
    const { contentDir } = siteLayout(this.deps.releases.dataDir, install.id);
    const prepared = await this.prepare(install, contentDir, steps);
    const rollback = steps.get('core.rollback');
    if (rollback !== undefined) {
      const cause = typeof rollback.cause === 'string' ? rollback.cause : 'interrupted';
      const shots = (rollback.visual ?? null) as CoreVisual | null;
      return this.rollBack(install.id, prepared, version, steps, cause, shots);
    }
    // A site in maintenance mode shows a 503 page before and after: nothing to compare.
    const visual =
      payload.visual === true && !prepared.maintenanceBefore
        ? await this.shootBefore(install.id, job.id, payload.threshold ?? 0.01, steps)
        : null;
    if (!steps.has('core.switched')) {
      const ready = await this.releaseReady(version, reinstall, steps);
      setMaintenanceFlag(contentDir);
      try {
        await steps.record('core.switched', ready, (r) =>
          this.deps.installs.switchReleaseWithin(r, install.id, version),
        );
      } catch (err) {
        if (!prepared.maintenanceBefore) clearMaintenanceFlag(contentDir);
        throw err;
      }
    }
    let upgrade: DatabaseUpgrade;
    let home: { status: number; generator: string | null } | null;
    try {
      await this.restartPhp(install.id);
      upgrade = await (await this.deps.agents.forInstall(install.id)).upgradeDatabase();
      await steps.record('core.database-upgraded', {
        db_version_before: upgrade.dbVersionBefore,
        db_version_after: upgrade.dbVersionAfter,
      });
      if (upgrade.wordpressVersion !== version) {
        throw new Error(
          `WordPress says it is ${upgrade.wordpressVersion} on the release of ${version}`,
        );
      }
      if (!prepared.maintenanceBefore) clearMaintenanceFlag(contentDir);
      await this.deps.pagesChanged(install.id);
      // Visitors see a site in maintenance mode a 503: only the agent's answer says it works then.
      home = prepared.maintenanceBefore ? null : await this.checkHome(install, version);
      if (visual !== null) await this.compareAfter(install.id, visual);
    } catch (err) {
      return this.rollBack(install.id, prepared, version, steps, reason(err), visual);
    }
    // The update is done; an inventory that cannot be read now is stored as failed.
    await this.deps.refreshInventory(install.id).catch(() => undefined);
    const ready = steps.get('core.switched') ?? {};
    return {
      version_before: prepared.from,
      version_after: version,
      reinstall,
      db_version_before: upgrade.dbVersionBefore,
      db_version_after: upgrade.dbVersionAfter,
      ...ready,
      home_status: home?.status ?? null,
      ...(visual === null ? {} : { visual }),
      ms: Date.now() - started,
    };
  }

  /** After restarts kept killing the job: the install goes back to where it was. */
  async abandon(job: JobRow, steps: JobSteps, reason: string): Promise<void> {
    const install = await this.deps.store.read.installs.findAny(job.target_id);
    if (install === undefined || install.deleted_at !== null) return;
    const prepared = steps.get('core.prepared');
    const from = typeof prepared?.from === 'string' ? prepared.from : null;
    const maintenanceBefore = prepared?.maintenance_before === true;
    const { contentDir } = siteLayout(this.deps.releases.dataDir, install.id);
    if (from !== null && (steps.has('core.switched') || steps.has('core.rollback'))) {
      const version = install.release_version ?? from;
      await this.rollBack(install.id, { from, maintenanceBefore }, version, steps, reason).catch(
        () => undefined,
      );
      return;
    }
    if (!maintenanceBefore) clearMaintenanceFlag(contentDir);
  }

  /** Recorded before anything changes: the release to go back to, and maintenance as it was. */
  private async prepare(
    install: InstallRow,
    contentDir: string,
    steps: JobSteps,
  ): Promise<Prepared> {
    const recorded = steps.get('core.prepared');
    if (recorded !== undefined && typeof recorded.from === 'string') {
      return { from: recorded.from, maintenanceBefore: recorded.maintenance_before === true };
    }
    if (install.release_version === null || install.wp_version === null) {
      throw new FinalJobError(`install ${install.name} is not running, so its core cannot change`);
    }
    const prepared = {
      from: install.release_version,
      maintenanceBefore: maintenanceFlagSet(contentDir),
    };
    await steps.record('core.prepared', {
      from: prepared.from,
      maintenance_before: prepared.maintenanceBefore,
    });
    return prepared;
  }

  /**
   * The release of `version`, in the store: added from the sources when missing; on a reinstall,
   * every file checked against the checksums recorded when it was added and fetched again if
   * damaged. A release that cannot be had fails the job for good, the install untouched.
   */
  private async releaseReady(
    version: string,
    reinstall: boolean,
    steps: JobSteps,
  ): Promise<Record<string, unknown>> {
    const done = steps.get('core.release-ready');
    if (done !== undefined) return done;
    const settings = this.deps.releases;
    const options = this.deps.releaseOptions ?? {};
    let release = await releaseStore(settings).get(version);
    let added = false;
    try {
      if (release === null) {
        release = (await addRelease(settings, { version }, options)).release;
        added = true;
      }
    } catch (err) {
      if (err instanceof ReleaseError) {
        throw new FinalJobError(`WordPress ${version} cannot be had: ${err.message}`);
      }
      throw err;
    }
    const ready: Record<string, unknown> = { release_added: added, repaired: false };
    if (reinstall) {
      const damage = await checkStoredRelease(release);
      if (!damage.ok) {
        try {
          await repairRelease(settings, release, options);
        } catch (err) {
          if (!(err instanceof ReleaseError)) throw err;
          throw new FinalJobError(
            `the files of WordPress ${version} are damaged (${describeDamage(damage)}) and could not be fetched again: ${err.message}`,
          );
        }
        Object.assign(ready, {
          repaired: true,
          changed: damage.changed,
          missing: damage.missing,
          extra: damage.extra,
        });
      }
    }
    await steps.record('core.release-ready', ready);
    return ready;
  }

  /**
   * The home page's screenshot before anything changes (taken once: a later attempt finds it
   * recorded). No screenshot, no update: the job fails with nothing changed.
   */
  private async shootBefore(
    installId: string,
    jobId: string,
    threshold: number,
    steps: JobSteps,
  ): Promise<CoreVisual> {
    const folder = updateFolder(installId, jobId);
    const visual: CoreVisual = {
      difference: null,
      threshold,
      before: `${folder}/before.png`,
      after: null,
      diff: null,
    };
    if (steps.has('core.before-shot') || steps.has('core.switched')) return visual;
    const check = this.deps.visual;
    try {
      if (check === undefined) throw new Error('this server has no visual check');
      await check.screenshot(installId, visual.before);
    } catch (err) {
      throw new FinalJobError(
        `the screenshot before the update failed, so nothing was changed: ${message(err)}`,
      );
    }
    await steps.record('core.before-shot', { before: visual.before });
    return visual;
  }

  /** The screenshot after, compared with the one before; beyond the threshold it throws. */
  private async compareAfter(installId: string, visual: CoreVisual): Promise<void> {
    const check = this.deps.visual;
    if (check === undefined) throw new Error('this server has no visual check');
    const folder = visual.before.slice(0, visual.before.lastIndexOf('/'));
    await check.screenshot(installId, `${folder}/after.png`);
    visual.after = `${folder}/after.png`;
    const diff = await check.compare(visual.before, visual.after, `${folder}/diff.png`);
    visual.diff = `${folder}/diff.png`;
    visual.difference = diff.difference;
    if (beyondThreshold(diff.difference, visual.threshold)) {
      throw new Error(
        `the home page looks different: ${percent(diff.difference)} of its pixels changed, more than the threshold of ${percent(visual.threshold)}`,
      );
    }
  }

  /** PHP lets go of the old release; the edge looks the install's mount up again. */
  private async restartPhp(installId: string): Promise<void> {
    await this.deps.runtime.unload(installId);
    this.deps.forgetRoutes(installId);
  }

  private async checkHome(
    install: InstallRow,
    version: string,
  ): Promise<{ status: number; generator: string | null }> {
    const host = await this.deps.provisioner.primaryHost(install);
    const page = await this.deps.address.get(host, '/');
    if (page.status >= 400) {
      throw new Error(`the home page answered ${page.status} on WordPress ${version}`);
    }
    // A site may hide the generator tag (a security plugin); then the agent's answer stands.
    const generator = generatorVersion(page.body);
    if (generator !== null && generator !== version) {
      throw new Error(`the home page says WordPress ${generator}, not ${version}`);
    }
    return { status: page.status, generator };
  }

  /**
   * Puts the install back on the release it had, and fails the job for good: the install is as
   * before the update, or, if going back failed too, left in maintenance mode.
   */
  private async rollBack(
    installId: string,
    prepared: Prepared,
    version: string,
    steps: JobSteps,
    cause: string,
    /** The screenshots, when the update had the visual check: recorded with the rollback. */
    visual: CoreVisual | null = null,
  ): Promise<never> {
    const { from, maintenanceBefore } = prepared;
    const { contentDir } = siteLayout(this.deps.releases.dataDir, installId);
    try {
      await steps.record('core.rollback', { cause, visual }, (r) =>
        this.deps.installs.switchReleaseWithin(r, installId, from),
      );
      await this.restartPhp(installId);
      if (steps.has('core.database-upgraded') && from !== version) {
        // The old code's wp_upgrade() sets db_version back to its own, as wp-admin would ask
        // for at once; WordPress's schema changes only add, so the old code runs on the tables.
        await (await this.deps.agents.forInstall(installId)).upgradeDatabase();
      }
      if (!maintenanceBefore) clearMaintenanceFlag(contentDir);
      await this.deps.pagesChanged(installId);
    } catch (err) {
      throw new FinalJobError(
        `WordPress ${version} failed (${cause}) and putting the install back on WordPress ${from} failed too, so it stays in maintenance mode: ${reason(err)}`,
      );
    }
    await this.deps.refreshInventory(installId).catch(() => undefined);
    throw new FinalJobError(
      from === version
        ? `reinstalling WordPress ${version} failed and the install was switched back: ${cause}`
        : `updating to WordPress ${version} failed and the install was put back on WordPress ${from}: ${cause}`,
    );
  }
}

/** WordPress's own text when the agent gave one (its fatal-error page, as text). */
function reason(err: unknown): string {
  const text = err instanceof SiteOperationError ? `${err.message} (${err.code})` : message(err);
  return text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function describeDamage(damage: { changed: string[]; missing: string[]; extra: string[] }): string {
  const part = (label: string, files: string[]): string =>
    files.length === 0
      ? ''
      : `${label}: ${files.slice(0, 5).join(', ')}${files.length > 5 ? ` and ${files.length - 5} more` : ''}`;
  return [
    part('changed', damage.changed),
    part('missing', damage.missing),
    part('extra', damage.extra),
  ]
    .filter((p) => p !== '')
    .join('; ');
}
