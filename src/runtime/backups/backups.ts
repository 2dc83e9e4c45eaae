import fs from 'node:fs';
import path from 'node:path';
import { installMysql, MysqlAdmin } from '../databases/mysql-admin.js';
import type { Config } from '../../config.js';
import type { BackupsService } from '../../core/backups/backups.service.js';
import type { InstallsService } from '../../core/installs/installs.service.js';
import type { BackupRow } from '../../core/backups/backups.repository.js';
import type { InstallRow } from '../../core/installs/installs.repository.js';
import type { JobRow } from '../../core/jobs/jobs.repository.js';
import { nowIso } from '../../core/shared/ids.js';
import type { Store } from '../../core/store.js';
import { FinalJobError, type JobDefinitions } from '../../core/jobs/job-contract.js';
import { JobSteps } from '../../core/jobs/steps.js';
import type { PhpRuntime } from '../php/types.js';
import type { Provisioner } from '../provision/provisioner.js';
import { diskUsage, siteLayout, SQLITE_DATABASE } from '../sites/site-files.js';
import { archiveContent, digestFile, extractContent, verifyBackup } from './archive.js';
import {
  backupSqlite,
  dumpMysql,
  loadMysql,
  mysqlSize,
  type MysqlTarget,
  type SiteUrls,
} from './database.js';
import {
  FILES_PART,
  MANIFEST,
  MYSQL_PART,
  SQLITE_PART,
  type BackupManifest,
  type ManifestPart,
} from './manifest.js';
import { searchReplace } from '../agent/search-replace.js';
import { setMaintenanceFlag } from './maintenance.js';
import { fitsOnDisk, LocalBackupStorage, type BackupStorage } from './storage.js';

export interface BackupManagerDeps {
  store: Store;
  /** The backup and install lifecycles (statuses, safety backups, a restored table prefix). */
  backups: BackupsService;
  installs: InstallsService;
  runtime: PhpRuntime;
  provisioner: Provisioner;
  dataDir: string;
  /** The MySQL server of installs that have their own database; null when none do. */
  mysql: MysqlAdmin | null;
  /** Days backups are kept when the account sets none. */
  retentionDays: number;
  /** Bytes a backup must leave free on the disk it is written to. */
  reserveBytes: number;
  /** Drops the install's cached pages on every server (a restore changed them). */
  purgePages(installId: string): Promise<void>;
  storage?: BackupStorage;
  /** Tells the backup's notification e-mails it completed or failed; must never reject. */
  notify?(backupId: string): Promise<void>;
}

/** What a restore puts back: everything, wp-content's files only, or the database only. */
export type RestoreParts = 'both' | 'files' | 'database';

/** A backup that must not be retried: it would not fit, or the install is gone. */
export class BackupRefusedError extends Error {}

/** A stored backup whose parts do not match their checksums. */
export class BackupCorruptError extends Error {
  constructor(
    readonly backupId: string,
    readonly problems: string[],
  ) {
    super(
      `backup ${backupId} is corrupted and was not restored: ${problems.slice(0, 5).join('; ')}${
        problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''
      }`,
    );
  }
}

/** An install that has WordPress installed and is not deleted: one that can be backed up. */
type RunningInstall = InstallRow & { wp_version: string; table_prefix: string };

function isRunning(install: InstallRow | undefined): install is RunningInstall {
  return (
    install !== undefined &&
    install.deleted_at === null &&
    install.wp_version !== null &&
    install.table_prefix !== null
  );
}

/** The safety backup a restore recorded in an earlier attempt, if any. */
function recordedSafety(steps: JobSteps): string | undefined {
  const id = steps.get('restore.safety-started')?.safety_backup_id;
  return typeof id === 'string' ? id : undefined;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Takes, verifies, restores and prunes backups of installs: wp-content's files as a gzipped tar,
 * the database (SQLite's online backup, or a consistent MySQL dump) and a manifest with the
 * checksum of every part and file. Backups go to a BackupStorage (local by default).
 */
export class BackupManager {
  readonly storage: BackupStorage;

  constructor(private readonly deps: BackupManagerDeps) {
    this.storage = deps.storage ?? new LocalBackupStorage(deps.dataDir);
  }

  /** The `backup.create` job: runs a requested backup, marking it in_progress, then done. */
  async runJob(
    job: JobRow,
    maxAttempts: number,
    steps: JobSteps = JobSteps.untracked(this.deps.store),
  ): Promise<Record<string, unknown>> {
    const backup = await this.deps.store.read.backups.findAny(job.target_id);
    if (backup === undefined) return { skipped: 'backup not found' };
    if (backup.status === 'completed' || backup.status === 'failed') {
      return { skipped: `backup already ${backup.status}` };
    }
    let result: Record<string, unknown>;
    try {
      result = await this.take(backup, steps);
    } catch (err) {
      const refused = err instanceof BackupRefusedError;
      if (refused || job.attempts >= maxAttempts) {
        await this.storage.remove({ installId: backup.install_id, backupId: backup.id });
        await this.deps.backups.markFailed(backup.id, message(err));
        await this.deps.notify?.(backup.id);
      }
      // A refusal is final: the backup is `failed` with its reason, and retrying cannot help.
      if (refused) return { status: 'failed', error: message(err) };
      throw err;
    }
    await this.deps.notify?.(backup.id);
    // Housekeeping after a completed backup: its failure must not touch the backup just taken.
    try {
      await this.prune();
    } catch (err) {
      return { ...result, prune_error: message(err) };
    }
    return result;
  }

  /** Fails the backup of a job that restarts interrupted on every attempt, leaving no parts. */
  async abandonBackup(job: JobRow, reason: string): Promise<void> {
    const backup = await this.deps.store.read.backups.findAny(job.target_id);
    if (backup === undefined || backup.status === 'completed' || backup.status === 'failed') return;
    await this.storage.remove({ installId: backup.install_id, backupId: backup.id });
    await this.deps.backups.markFailed(backup.id, reason);
    await this.deps.notify?.(backup.id);
  }

  /**
   * Takes one backup (its row already recorded) into storage: staged in a clean folder and
   * committed whole, so running it again after a crash starts over cleanly.
   */
  async take(
    backup: BackupRow,
    steps: JobSteps = JobSteps.untracked(this.deps.store),
  ): Promise<Record<string, unknown>> {
    const started = Date.now();
    const { store } = this.deps;
    const install = await store.read.installs.findAny(backup.install_id);
    if (!isRunning(install)) {
      throw new BackupRefusedError('the install is not running, so it cannot be backed up');
    }
    await this.deps.backups.markStarted(backup.id);
    const layout = siteLayout(this.deps.dataDir, install.id);
    const mysql = this.mysqlOf(install);

    // The parts are compressed: the install's size bounds what they need.
    const needed =
      (await diskUsage(layout.contentDir)) + (mysql === null ? 0 : await mysqlSize(mysql));
    const free = await this.storage.freeBytes();
    if (!fitsOnDisk(free, needed, this.deps.reserveBytes)) {
      throw new BackupRefusedError(
        `not enough disk space: the backup needs up to ${needed} bytes, ${free} are free and ${this.deps.reserveBytes} must stay free`,
      );
    }

    const key = { installId: install.id, backupId: backup.id };
    const dir = await this.storage.stage(key);
    let manifest: BackupManifest;
    try {
      manifest = await this.writeParts(install, backup, dir, steps);
      await this.storage.commit(key);
    } catch (err) {
      // Nothing half-made stays behind: no staging folder, no archive without its manifest.
      await this.storage.remove(key);
      throw err;
    }
    await steps.record('backup.committed', { backup_id: backup.id });
    const { files, parts } = manifest;
    const size = parts.reduce((sum, p) => sum + p.size, 0);
    await this.deps.backups.markCompleted(backup.id, {
      wordpressVersion: install.wp_version,
      sizeBytes: size,
    });
    return {
      status: 'completed',
      size_bytes: size,
      files: files.length,
      database: manifest.database.engine,
      ms: Date.now() - started,
    };
  }

  /** Writes a backup's parts and then its manifest (last: a folder without one is no backup). */
  private async writeParts(
    install: RunningInstall,
    backup: BackupRow,
    dir: string,
    steps: JobSteps,
  ): Promise<BackupManifest> {
    const layout = siteLayout(this.deps.dataDir, install.id);
    const mysql = this.mysqlOf(install);
    const prefix = install.table_prefix;
    let urls: SiteUrls;
    let dbPart: string;
    if (mysql === null) {
      dbPart = SQLITE_PART;
      urls = await backupSqlite(
        path.join(layout.contentDir, SQLITE_DATABASE),
        path.join(dir, dbPart),
        prefix,
      );
    } else {
      dbPart = MYSQL_PART;
      urls = await dumpMysql(mysql, path.join(dir, dbPart), prefix);
    }
    const files = await archiveContent(layout.contentDir, path.join(dir, FILES_PART));
    const parts: ManifestPart[] = [
      await digestFile(path.join(dir, FILES_PART)),
      await digestFile(path.join(dir, dbPart)),
    ];
    const manifest: BackupManifest = {
      format: 1,
      backup_id: backup.id,
      install_id: install.id,
      install_name: install.name,
      account_id: install.account_id,
      created_at: nowIso(),
      wordpress_version: install.wp_version,
      php_version: install.php_version,
      release_version: install.release_version,
      table_prefix: prefix,
      home: urls.home,
      siteurl: urls.siteurl,
      database: { engine: mysql === null ? 'sqlite' : 'mysql', part: dbPart },
      files,
      parts,
    };
    await steps.record('backup.staged', { backup_id: backup.id });
    fs.writeFileSync(path.join(dir, MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
    return manifest;
  }

  /** Re-reads a stored backup and checks every checksum. */
  async verify(backup: Pick<BackupRow, 'id' | 'install_id'>): Promise<{
    ok: boolean;
    problems: string[];
    files: number;
    bytes: number;
    manifest: BackupManifest | null;
  }> {
    const dir = await this.storage.open({ installId: backup.install_id, backupId: backup.id });
    if (dir === null) {
      return {
        ok: false,
        problems: ['the backup is not in storage'],
        files: 0,
        bytes: 0,
        manifest: null,
      };
    }
    return verifyBackup(dir);
  }

  /** The `backup.restore` job: target_id is the install, the payload names the backup. */
  async restoreJob(
    job: JobRow,
    backupId: string,
    steps?: JobSteps,
  ): Promise<Record<string, unknown>> {
    try {
      return await this.restore(job.target_id, backupId, steps);
    } catch (err) {
      // Never retried: each attempt would take another safety backup or swap the files again.
      // A restart that interrupted it is no retry: the run after it resumes from its steps.
      throw err instanceof FinalJobError ? err : new FinalJobError(message(err));
    }
  }

  /**
   * Leaves the install of a restore job that restarts interrupted on every attempt as it was
   * before: rolled back to the safety backup if the swap had begun, untouched otherwise.
   */
  async abandonRestore(job: JobRow, steps: JobSteps, reason: string): Promise<void> {
    const { store } = this.deps;
    const install = await store.read.installs.findAny(job.target_id);
    if (install === undefined || install.deleted_at !== null) return;
    const safetyId = recordedSafety(steps);
    if (
      safetyId !== undefined &&
      (steps.has('restore.extracted') || steps.has('rollback.started'))
    ) {
      await this.rollBack(install, safetyId, steps, reason);
      return;
    }
    await this.removeUnpacked(install);
    const safety = safetyId === undefined ? undefined : await store.read.backups.findAny(safetyId);
    if (safety !== undefined && safety.status !== 'completed' && safety.status !== 'failed') {
      await this.storage.remove({ installId: safety.install_id, backupId: safety.id });
      await this.deps.backups.markFailed(safety.id, reason);
    }
  }

  /**
   * Puts an install back to a backup of itself or of another install of its account (a copy):
   * verifies the backup (a corrupted one changes nothing), takes a safety backup, replaces
   * wp-content and the database in maintenance mode, points home and siteurl at the install's
   * current address and empties its page cache. A failure after the swap began rolls the install
   * back to the safety backup. Each step is recorded in `steps`: run again after a crash, a
   * restore that had begun the swap rolls forward (or, if it was rolling back, finishes that).
   * `parts` restores only wp-content's files (the install keeps its database) or only the
   * database (it keeps its files); the safety backup and a rollback are always whole.
   */
  async restore(
    installId: string,
    backupId: string,
    steps: JobSteps = JobSteps.untracked(this.deps.store),
    parts: RestoreParts = 'both',
  ): Promise<Record<string, unknown>> {
    const started = Date.now();
    const { store } = this.deps;
    const install = await store.read.installs.findAny(installId);
    if (install === undefined || install.deleted_at !== null || install.wp_version === null) {
      throw new Error('the install is not running, so nothing can be restored onto it');
    }
    const recorded = recordedSafety(steps);
    const rollingBack = steps.get('rollback.started');
    if (recorded !== undefined && rollingBack !== undefined) {
      const cause = typeof rollingBack.cause === 'string' ? rollingBack.cause : 'interrupted';
      return this.failRestore(install, backupId, recorded, steps, cause);
    }
    let source: { backup: BackupRow; dir: string; manifest: BackupManifest };
    try {
      source = await this.restorable(install, backupId, parts);
    } catch (err) {
      // The backup went bad while an earlier attempt had the install half-way: put it back.
      if (recorded !== undefined && steps.has('restore.extracted')) {
        return this.failRestore(install, backupId, recorded, steps, message(err));
      }
      throw err;
    }
    const resumed = steps.has('restore.extracted');
    const safety = await this.safetyBackup(install, source.backup, steps);
    try {
      const applied = await this.apply(
        install,
        source.dir,
        source.manifest,
        steps,
        'restore',
        parts,
      );
      return {
        restored: source.backup.id,
        from_install_id: source.backup.install_id,
        safety_backup_id: safety,
        parts,
        ...applied,
        resumed,
        ms: Date.now() - started,
      };
    } catch (err) {
      if (!steps.has('restore.extracted')) {
        // The install was not touched yet: only the unpacked backup goes.
        await this.removeUnpacked(install);
        throw new Error(
          `restore of backup ${backupId} failed, nothing was changed: ${message(err)}`,
        );
      }
      return this.failRestore(install, backupId, safety, steps, message(err));
    }
  }

  /** What a restore unpacked beside the install before touching it. */
  private async removeUnpacked(install: InstallRow): Promise<void> {
    const layout = siteLayout(this.deps.dataDir, install.id);
    await fs.promises.rm(`${layout.contentDir}.restore`, { recursive: true, force: true });
    await fs.promises.rm(`${path.join(layout.contentDir, SQLITE_DATABASE)}.restore`, {
      force: true,
    });
  }

  /**
   * The backup to restore, verified, in storage, and of the install's account and (unless only
   * its files are restored) database engine.
   */
  private async restorable(
    install: InstallRow,
    backupId: string,
    parts: RestoreParts = 'both',
  ): Promise<{ backup: BackupRow; dir: string; manifest: BackupManifest }> {
    const backup = await this.deps.store.read.backups.findAny(backupId);
    if (backup?.account_id !== install.account_id) {
      throw new Error(`backup ${backupId} is not a backup of this install's account`);
    }
    if (backup.status !== 'completed') {
      throw new Error(`backup ${backup.id} is ${backup.status}, not completed`);
    }
    const checked = await this.verify(backup);
    if (!checked.ok || checked.manifest === null) {
      throw new BackupCorruptError(backup.id, checked.problems);
    }
    const engine = this.mysqlOf(install) === null ? 'sqlite' : 'mysql';
    if (parts !== 'files' && checked.manifest.database.engine !== engine) {
      throw new Error(
        `backup ${backup.id} holds a ${checked.manifest.database.engine} database; this install uses ${engine}`,
      );
    }
    const dir = await this.storage.open({ installId: backup.install_id, backupId: backup.id });
    if (dir === null) throw new Error(`backup ${backup.id} is not in storage`);
    return { backup, dir, manifest: checked.manifest };
  }

  /**
   * The safety backup of a restore, the install as it is before anything changes, read back
   * whole: the one an earlier attempt recorded, finished if a crash interrupted it, or a new one.
   * Returns its id.
   */
  private async safetyBackup(
    install: InstallRow,
    restored: BackupRow,
    steps: JobSteps,
  ): Promise<string> {
    const { store } = this.deps;
    const recorded = recordedSafety(steps);
    let safety = recorded === undefined ? undefined : await store.read.backups.findAny(recorded);
    if (safety?.status === 'completed' && steps.has('restore.safety-taken')) return safety.id;
    if (safety === undefined || safety.status === 'failed') {
      const row = this.deps.backups.safetyBackupOf(install, restored.id);
      // Recorded with the row, so no restart can leave a safety backup nobody finishes.
      await steps.record('restore.safety-started', { safety_backup_id: row.id }, (r) =>
        this.deps.backups.recordWithin(r, row),
      );
      safety = row;
    }
    const safetyId = safety.id;
    if (safety.status !== 'completed') {
      try {
        await this.take(safety, steps);
      } catch (err) {
        await this.storage.remove({ installId: install.id, backupId: safetyId });
        await this.deps.backups.markFailed(safetyId, message(err));
        throw new Error(`the safety backup failed, nothing was restored: ${message(err)}`);
      }
    }
    const safetyDir = await this.storage.open({ installId: install.id, backupId: safetyId });
    const safetyCheck = safetyDir === null ? null : await verifyBackup(safetyDir);
    if (safetyCheck?.manifest == null || !safetyCheck.ok) {
      throw new Error('the safety backup could not be read back, nothing was restored');
    }
    await steps.record('restore.safety-taken', { safety_backup_id: safetyId });
    return safetyId;
  }

  /**
   * Rolls the install back to the safety backup after a restore failed part-way, and fails the
   * restore for good either way: the install is as before it, or, if the rollback failed too,
   * left in maintenance mode rather than serving a half-restored site.
   */
  private async failRestore(
    install: InstallRow,
    backupId: string,
    safetyId: string,
    steps: JobSteps,
    cause: string,
  ): Promise<never> {
    try {
      await this.rollBack(install, safetyId, steps, cause);
    } catch (rollbackErr) {
      throw new FinalJobError(
        `restore of backup ${backupId} failed (${cause}) and rolling back to safety backup ${safetyId} failed too, so the install stays in maintenance mode: ${message(rollbackErr)}`,
      );
    }
    throw new FinalJobError(
      `restore of backup ${backupId} failed and the install was rolled back to safety backup ${safetyId}: ${cause}`,
    );
  }

  private async rollBack(
    install: InstallRow,
    safetyId: string,
    steps: JobSteps,
    cause: string,
  ): Promise<void> {
    await steps.record('rollback.started', { safety_backup_id: safetyId, cause });
    const { dir, manifest } = await this.restorable(install, safetyId);
    await this.apply(install, dir, manifest, steps, 'rollback');
  }

  /**
   * Replaces the install's wp-content and database (or only one of them, `parts`) with a
   * verified backup's, in maintenance mode. Can run again over whatever an interrupted run left:
   * the same steps converge.
   */
  private async apply(
    install: InstallRow,
    dir: string,
    manifest: BackupManifest,
    steps: JobSteps,
    phase: 'restore' | 'rollback',
    parts: RestoreParts = 'both',
  ): Promise<Record<string, unknown>> {
    const { runtime } = this.deps;
    const layout = siteLayout(this.deps.dataDir, install.id);
    const incoming = `${layout.contentDir}.restore`;
    const outgoing = `${layout.contentDir}.old`;
    const liveSqlite = path.join(layout.contentDir, SQLITE_DATABASE);
    const incomingSqlite = `${liveSqlite}.restore`;
    const withFiles = parts !== 'database';
    const withDatabase = parts !== 'files';
    const sqlite = manifest.database.engine === 'sqlite';
    // A run killed between the two renames below left no wp-content: the old one comes back.
    if (!fs.existsSync(layout.contentDir) && fs.existsSync(outgoing)) {
      fs.renameSync(outgoing, layout.contentDir);
    }
    await fs.promises.rm(incoming, { recursive: true, force: true });
    await fs.promises.rm(outgoing, { recursive: true, force: true });
    await fs.promises.rm(incomingSqlite, { force: true });
    let files = 0;
    if (withFiles) {
      files = await extractContent(path.join(dir, FILES_PART), incoming);
      if (sqlite && withDatabase) {
        fs.mkdirSync(path.join(incoming, 'database'), { recursive: true });
        await fs.promises.copyFile(
          path.join(dir, manifest.database.part),
          path.join(incoming, SQLITE_DATABASE),
        );
      }
      // The flag travels with the files: what is swapped in stays in maintenance until the end.
      setMaintenanceFlag(incoming);
    } else if (sqlite) {
      // Beside the live file, on its filesystem, so that it is renamed into place at once.
      await fs.promises.copyFile(path.join(dir, manifest.database.part), incomingSqlite);
    }
    await steps.record(`${phase}.extracted`);
    setMaintenanceFlag(layout.contentDir);

    // PHP must let go of the old files (and the SQLite file) before they are swapped.
    await runtime.unload(install.id);
    if (withFiles) {
      if (!withDatabase && fs.existsSync(path.dirname(liveSqlite))) {
        // The install keeps its own SQLite database, which lives in wp-content: copied, not
        // moved, so that a crash before the swap leaves it in place (the next run copies again).
        fs.cpSync(path.dirname(liveSqlite), path.join(incoming, 'database'), { recursive: true });
      }
      fs.renameSync(layout.contentDir, outgoing);
      fs.renameSync(incoming, layout.contentDir);
    } else if (sqlite) {
      fs.renameSync(incomingSqlite, liveSqlite);
    }
    await steps.record(`${phase}.swapped`);
    await fs.promises.rm(outgoing, { recursive: true, force: true });
    let current: InstallRow = install;
    if (withDatabase) {
      const mysql = this.mysqlOf(install);
      if (mysql !== null) await loadMysql(mysql, path.join(dir, manifest.database.part));
      current = await this.adoptPrefix(install, manifest.table_prefix);
    }
    await steps.record(`${phase}.database-loaded`);
    await runtime.unload(install.id);

    // The install's own address, which may differ from the backup's (a copy, or a new domain).
    const primary = await this.deps.provisioner.primaryHost(install);
    const site = this.deps.provisioner.siteMount(current, primary);
    if (site === null) throw new Error('the install has no release');
    const url = site.absoluteUrl;
    const agent = this.deps.provisioner.agentFor(current);
    // Files alone carry no address: the install's own database keeps its own.
    const pairs = withDatabase
      ? [manifest.home, manifest.siteurl]
          .filter((from): from is string => from !== null && from !== url)
          .filter((from, i, all) => all.indexOf(from) === i)
          .map((from) => ({ from, to: url }))
      : [];
    // WP-CLI's search-replace, in the install's own PHP through its agent (signed calls pass
    // maintenance mode): every table of the site, serialized values kept valid.
    let rowsChanged = 0;
    for (const pair of pairs) {
      const replaced = await searchReplace(agent, { search: pair.from, replace: pair.to });
      rowsChanged += replaced.total;
    }
    if (withDatabase) await agent.setUrls(url, url);
    await steps.record(`${phase}.urls-set`);
    // Through the agent: it answering is the sign the restored WordPress works.
    await agent.setMaintenance(false);
    await this.deps.purgePages(install.id);
    return { files, url, urls_rewritten: pairs.map((p) => p.from), rows_changed: rowsChanged };
  }

  /** The database's tables carry the backup's prefix: the install's wp-config must say so. */
  private async adoptPrefix(install: InstallRow, prefix: string): Promise<InstallRow> {
    const layout = siteLayout(this.deps.dataDir, install.id);
    const config = fs.readFileSync(layout.configFile, 'utf8');
    const prefixLine = /^\$table_prefix\s*=\s*'[^']*';/m;
    if (!prefixLine.test(config)) throw new Error('wp-config.php has no $table_prefix line');
    const rewritten = config.replace(prefixLine, `$table_prefix = '${prefix}';`);
    if (rewritten !== config) {
      fs.writeFileSync(`${layout.configFile}.tmp`, rewritten, { mode: 0o600 });
      fs.renameSync(`${layout.configFile}.tmp`, layout.configFile);
    }
    if (install.table_prefix !== prefix) {
      await this.deps.installs.setTablePrefix(install.id, prefix);
    }
    return { ...install, table_prefix: prefix };
  }

  /**
   * Removes finished backups older than their account's retention (deleted installs' too: their
   * backups are kept until then). Returns the ids removed.
   */
  async prune(now: Date = new Date()): Promise<string[]> {
    const { store } = this.deps;
    const oneDay = 86_400_000;
    const candidates = await store.read.backups.listFinishedBefore(
      new Date(now.getTime() - oneDay).toISOString(),
    );
    const retention = new Map<string, number>();
    const removed: string[] = [];
    for (const backup of candidates) {
      let days = retention.get(backup.account_id);
      if (days === undefined) {
        days =
          (await store.read.backups.retentionDays(backup.account_id)) ?? this.deps.retentionDays;
        retention.set(backup.account_id, days);
      }
      if (Date.parse(backup.created_at) >= now.getTime() - days * oneDay) continue;
      await this.storage.remove({ installId: backup.install_id, backupId: backup.id });
      await this.deps.backups.forget(backup.id);
      removed.push(backup.id);
    }
    return removed;
  }

  private mysqlOf(install: InstallRow): MysqlTarget | null {
    const mysql = installMysql(install, this.deps.mysql);
    return mysql === null ? null : mysql.admin.targetFor(mysql.db);
  }
}

/** The job handlers of backups, for the job runner. */
export function backupJobHandlers(
  manager: BackupManager,
  maxAttempts: number,
): Pick<JobDefinitions, 'backup.create' | 'backup.restore'> {
  return {
    'backup.create': {
      run: (job, _payload, steps) => manager.runJob(job, maxAttempts, steps),
      abandon: (job, _steps, reason) => manager.abandonBackup(job, reason),
    },
    'backup.restore': {
      run: (job, { backup_id }, steps) => manager.restoreJob(job, backup_id, steps),
      abandon: (job, steps, reason) => manager.abandonRestore(job, steps, reason),
    },
  };
}

/** A BackupManager with the server's settings. */
export function backupManagerFor(
  config: Config,
  parts: Pick<
    BackupManagerDeps,
    'store' | 'backups' | 'installs' | 'runtime' | 'provisioner' | 'purgePages' | 'notify'
  >,
): BackupManager {
  return new BackupManager({
    ...parts,
    dataDir: config.dataDir,
    retentionDays: config.backups.retentionDays,
    reserveBytes: config.backups.reserveBytes,
    mysql:
      config.wordpressDatabase.kind === 'mysql'
        ? new MysqlAdmin(config.wordpressDatabase.url)
        : null,
  });
}
