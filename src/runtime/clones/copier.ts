import type { BackupsService } from '../../core/backups/backups.service.js';
import type { ClonesService } from '../../core/clones/clones.service.js';
import type { InstallRow } from '../../core/installs/installs.repository.js';
import { FinalJobError, type JobDefinitions } from '../../core/jobs/job-contract.js';
import type { JobRow } from '../../core/jobs/jobs.repository.js';
import type { JobSteps } from '../../core/jobs/steps.js';
import type { Store } from '../../core/store.js';
import { BackupRefusedError, type BackupManager, type RestoreParts } from '../backups/backups.js';

export interface InstallCopierDeps {
  store: Store;
  /** Takes the source's backup and restores it onto the target (safety backup, rollback). */
  backups: BackupManager;
  /** Backup rows (the source's fresh backup). */
  backupRecords: BackupsService;
  /** The installs' records: a clone's new install made active or failed, the activity log. */
  clones: ClonesService;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A step's recorded backup id, if any. */
function recordedId(steps: JobSteps, step: string): string | undefined {
  const id = steps.get(step)?.backup_id;
  return typeof id === 'string' ? id : undefined;
}

/**
 * Copies one install onto another: a fresh backup of the source, restored onto the target with
 * the restore's safety backup, maintenance mode, URL rewriting and rollback (BackupManager). A
 * clone's target is a new install, made active only once the copy is in; a copy between
 * environments may take the files or the database alone. Every step is recorded in the job, so
 * a run after a crash goes on from where the last one stopped.
 */
export class InstallCopier {
  constructor(private readonly deps: InstallCopierDeps) {}

  /**
   * The `install.clone` job. It is queued after the new install's provisioning and jobs of one
   * install run in order, so it starts once provisioning has ended: succeeded (the install is
   * installed, still pending) or given up (failed).
   */
  async clone(job: JobRow, sourceId: string, steps: JobSteps): Promise<Record<string, unknown>> {
    const done = steps.get('clone.done');
    if (done !== undefined) return done;
    const target = await this.deps.store.read.installs.findAny(job.target_id);
    if (target === undefined || target.deleted_at !== null) {
      throw new FinalJobError('the new install was deleted before the copy');
    }
    if (target.status === 'failed') {
      throw new FinalJobError(
        `the new install could not be provisioned: ${target.status_reason ?? 'unknown'}`,
      );
    }
    // Not expected (provisioning runs first); retried with the runner's backoff if it happens.
    if (target.wp_version === null) throw new Error('the new install is not provisioned yet');
    const source = await this.runningSource(sourceId);
    const backupId = await this.sourceBackup(source, target, steps, 'clone');
    const restored = await this.restore(target, backupId, steps, 'both');
    const result = { ...restored, source_backup_id: backupId, install_id: target.id };
    const activation = {
      wp_version: target.wp_version,
      php_version: target.php_version,
      release: target.release_version ?? target.wp_version,
    };
    await steps.record('clone.done', result, (r) =>
      this.deps.clones.clonedWithin(r, job, activation, {
        source_backup_id: backupId,
        safety_backup_id: restored.safety_backup_id,
      }),
    );
    return result;
  }

  /** The `install.copy` job: the source's files, database or both onto another environment. */
  async copy(
    job: JobRow,
    payload: { source_id: string; parts: RestoreParts },
    steps: JobSteps,
  ): Promise<Record<string, unknown>> {
    const done = steps.get('copy.done');
    if (done !== undefined) return done;
    const to = await this.deps.store.read.installs.findAny(job.target_id);
    if (to === undefined || to.deleted_at !== null || to.wp_version === null) {
      throw new FinalJobError('the install to copy onto is deleted or not running');
    }
    const from = await this.runningSource(payload.source_id);
    if (from.site_id === null || from.site_id !== to.site_id) {
      throw new FinalJobError(`${from.name} and ${to.name} no longer belong to the same site`);
    }
    const what = payload.parts === 'both' ? 'copy' : `copy the ${payload.parts} of`;
    const backupId = await this.sourceBackup(from, to, steps, what);
    const restored = await this.restore(to, backupId, steps, payload.parts);
    const result = { ...restored, source_backup_id: backupId };
    await steps.record('copy.done', result, (r) =>
      this.deps.clones.copiedWithin(r, job, {
        source_backup_id: backupId,
        safety_backup_id: restored.safety_backup_id,
      }),
    );
    return result;
  }

  /**
   * Cleans up after a job restarts kept interrupting: a restore begun is rolled back (or its
   * safety backup failed), and an unfinished backup of the source is failed.
   */
  async abandon(job: JobRow, steps: JobSteps, reason: string): Promise<void> {
    await this.deps.backups.abandonRestore(job, steps, reason);
    const backupId = recordedId(steps, 'copy.source-started');
    if (backupId === undefined) return;
    const backup = await this.deps.store.read.backups.findAny(backupId);
    if (backup !== undefined && backup.status !== 'completed' && backup.status !== 'failed') {
      await this.deps.backups.storage.remove({ installId: backup.install_id, backupId });
      await this.deps.backupRecords.markFailed(backupId, reason);
    }
  }

  private async runningSource(sourceId: string): Promise<InstallRow> {
    const source = await this.deps.store.read.installs.findAny(sourceId);
    if (source === undefined || source.deleted_at !== null || source.wp_version === null) {
      throw new FinalJobError('the source install is deleted or not running');
    }
    return source;
  }

  /**
   * A fresh backup of the source, listed with its other backups: the one an earlier attempt
   * recorded (finished if a crash interrupted it), or a new one.
   */
  private async sourceBackup(
    source: InstallRow,
    target: InstallRow,
    steps: JobSteps,
    what: string,
  ): Promise<string> {
    const { store, backups, backupRecords } = this.deps;
    const recorded = recordedId(steps, 'copy.source-started');
    let backup = recorded === undefined ? undefined : await store.read.backups.findAny(recorded);
    if (backup?.status === 'completed' && steps.has('copy.source-taken')) return backup.id;
    if (backup === undefined || backup.status === 'failed') {
      const row = backupRecords.copySourceBackupOf(source, target, what);
      // Recorded with the row, so no restart can leave a backup nobody finishes.
      await steps.record('copy.source-started', { backup_id: row.id }, (r) =>
        backupRecords.recordWithin(r, row),
      );
      backup = row;
    }
    if (backup.status !== 'completed') {
      try {
        await backups.take(backup, steps);
      } catch (err) {
        await backups.storage.remove({ installId: source.id, backupId: backup.id });
        await backupRecords.markFailed(backup.id, message(err));
        const why = `the backup of ${source.name} failed, nothing was copied: ${message(err)}`;
        // Another attempt takes a new backup, unless it was refused (no disk space).
        throw err instanceof BackupRefusedError ? new FinalJobError(why) : new Error(why);
      }
    }
    await steps.record('copy.source-taken', { backup_id: backup.id });
    return backup.id;
  }

  /** The restore onto the target; a failure of it is final (it rolled back, or changed nothing). */
  private async restore(
    target: InstallRow,
    backupId: string,
    steps: JobSteps,
    parts: RestoreParts,
  ): Promise<Record<string, unknown> & { safety_backup_id: unknown }> {
    try {
      const restored = await this.deps.backups.restore(target.id, backupId, steps, parts);
      return { ...restored, safety_backup_id: restored.safety_backup_id };
    } catch (err) {
      throw err instanceof FinalJobError ? err : new FinalJobError(message(err));
    }
  }
}

/** The job handlers of clones and copies between environments, for the job runner. */
export function copyJobHandlers(
  copier: InstallCopier,
  clones: ClonesService,
): Pick<JobDefinitions, 'install.clone' | 'install.copy'> {
  return {
    'install.clone': {
      run: (job, { source_id }, steps) => copier.clone(job, source_id, steps),
      abandon: (job, steps, reason) => copier.abandon(job, steps, reason),
      givenUp: (r, job, error) => clones.cloneFailedWithin(r, job, error),
    },
    'install.copy': {
      run: (job, payload, steps) => copier.copy(job, payload, steps),
      abandon: (job, steps, reason) => copier.abandon(job, steps, reason),
      givenUp: (r, job, error) => clones.copyFailedWithin(r, job, error),
    },
  };
}
