import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../config.js';
import type { BackupRow } from '../../core/backups/backups.repository.js';
import type { InstallRow } from '../../core/installs/installs.repository.js';
import type { JobRow } from '../../core/jobs/jobs.repository.js';
import { newId, nowIso } from '../../core/shared/ids.js';
import type { Store } from '../../core/store.js';
import type { PhpRuntime } from '../php/types.js';
import type { Provisioner } from '../provision/provisioner.js';
import { diskUsage, siteLayout } from '../sites/site-files.js';
import { archiveContent, digestFile, extractContent, verifyBackup } from './archive.js';
import {
  backupSqlite,
  dumpMysql,
  loadMysql,
  mysqlSize,
  mysqlTarget,
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
import { searchReplaceScript } from './search-replace.js';
import { fitsOnDisk, LocalBackupStorage, type BackupStorage } from './storage.js';

export interface BackupManagerDeps {
  store: Store;
  runtime: PhpRuntime;
  provisioner: Provisioner;
  dataDir: string;
  /** The admin URL of `WPFLEET_WP_DATABASE_URL`, whose host installs' databases live on. */
  mysqlAdminUrl: string | null;
  /** Days backups are kept when the account sets none. */
  retentionDays: number;
  /** Bytes a backup must leave free on the disk it is written to. */
  reserveBytes: number;
  /** Empties the install's page cache (the edge's, in the serving process). */
  purgePages(installId: string): void;
  storage?: BackupStorage;
}

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

const SQLITE_FILE = path.join('database', '.ht.sqlite');

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
  async runJob(job: JobRow, maxAttempts: number): Promise<Record<string, unknown>> {
    const backup = await this.deps.store.read.backups.findAny(job.target_id);
    if (backup === undefined) return { skipped: 'backup not found' };
    if (backup.status === 'completed' || backup.status === 'failed') {
      return { skipped: `backup already ${backup.status}` };
    }
    try {
      const result = await this.take(backup);
      await this.prune();
      return result;
    } catch (err) {
      const refused = err instanceof BackupRefusedError;
      if (refused || job.attempts >= maxAttempts) {
        await this.deps.store.transaction((r) =>
          r.backups.setStatus(backup.id, 'failed', { error: message(err).slice(0, 2000) }),
        );
      }
      // A refusal is final: the backup is `failed` with its reason, and retrying cannot help.
      if (refused) return { status: 'failed', error: message(err) };
      throw err;
    }
  }

  /**
   * Takes one backup (its row already recorded) into storage: staged in a clean folder and
   * committed whole, so running it again after a crash starts over cleanly.
   */
  async take(backup: BackupRow): Promise<Record<string, unknown>> {
    const started = Date.now();
    const { store } = this.deps;
    const install = await store.read.installs.findAny(backup.install_id);
    if (
      install === undefined ||
      install.deleted_at !== null ||
      install.wp_version === null ||
      install.table_prefix === null
    ) {
      throw new BackupRefusedError('the install is not running, so it cannot be backed up');
    }
    await store.transaction((r) => r.backups.setStatus(backup.id, 'in_progress'));
    const layout = siteLayout(this.deps.dataDir, install.id);
    const mysql = this.mysqlOf(install);

    // The parts are compressed: the install's size bounds what they need.
    const needed = diskUsage(layout.contentDir) + (mysql === null ? 0 : await mysqlSize(mysql));
    const free = await this.storage.freeBytes();
    if (!fitsOnDisk(free, needed, this.deps.reserveBytes)) {
      throw new BackupRefusedError(
        `not enough disk space: the backup needs up to ${needed} bytes, ${free} are free and ${this.deps.reserveBytes} must stay free`,
      );
    }

    const key = { installId: install.id, backupId: backup.id };
    const dir = await this.storage.stage(key);
    const prefix = install.table_prefix;
    let urls: SiteUrls;
    let dbPart: string;
    if (mysql === null) {
      dbPart = SQLITE_PART;
      urls = await backupSqlite(
        path.join(layout.contentDir, SQLITE_FILE),
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
    fs.writeFileSync(path.join(dir, MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
    await this.storage.commit(key);
    const size = parts.reduce((sum, p) => sum + p.size, 0);
    await store.transaction((r) =>
      r.backups.setStatus(backup.id, 'completed', {
        completed_at: nowIso(),
        wordpress_version: install.wp_version,
        size_bytes: size,
        error: null,
      }),
    );
    return {
      status: 'completed',
      size_bytes: size,
      files: files.length,
      database: manifest.database.engine,
      ms: Date.now() - started,
    };
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
  async restoreJob(job: JobRow): Promise<Record<string, unknown>> {
    const backupId = (JSON.parse(job.payload) as { backup_id?: string }).backup_id ?? '';
    return this.restore(job.target_id, backupId);
  }

  /**
   * Puts an install back to a backup of itself or of another install of its account (a copy):
   * verifies the backup (a corrupted one changes nothing), takes a safety backup, replaces
   * wp-content and the database, points home and siteurl at the install's current address and
   * empties its page cache. A failure after the safety backup rolls the install back to it.
   */
  async restore(installId: string, backupId: string): Promise<Record<string, unknown>> {
    const started = Date.now();
    const { store } = this.deps;
    const install = await store.read.installs.findAny(installId);
    if (install === undefined || install.deleted_at !== null || install.wp_version === null) {
      throw new Error('the install is not running, so nothing can be restored onto it');
    }
    const backup = await store.read.backups.findAny(backupId);
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
    if (checked.manifest.database.engine !== engine) {
      throw new Error(
        `backup ${backup.id} holds a ${checked.manifest.database.engine} database; this install uses ${engine}`,
      );
    }
    const dir = await this.storage.open({ installId: backup.install_id, backupId: backup.id });
    if (dir === null) throw new Error(`backup ${backup.id} is not in storage`);

    // The safety backup: the install as it is now, to roll back to.
    const safety: BackupRow = {
      id: newId(),
      account_id: install.account_id,
      install_id: install.id,
      status: 'requested',
      description: `Safety backup before restoring backup ${backup.id}`,
      notification_emails: '[]',
      wordpress_version: null,
      created_at: nowIso(),
      completed_at: null,
      size_bytes: null,
      error: null,
    };
    await store.transaction((r) => r.backups.insert(safety));
    try {
      await this.take(safety);
    } catch (err) {
      await store.transaction((r) =>
        r.backups.setStatus(safety.id, 'failed', { error: message(err).slice(0, 2000) }),
      );
      throw new Error(`the safety backup failed, nothing was restored: ${message(err)}`);
    }
    const safetyDir = await this.storage.open({ installId: install.id, backupId: safety.id });
    const safetyCheck = safetyDir === null ? null : await verifyBackup(safetyDir);
    if (safetyDir === null || safetyCheck?.manifest == null || !safetyCheck.ok) {
      throw new Error('the safety backup could not be read back, nothing was restored');
    }

    try {
      const applied = await this.apply(install, dir, checked.manifest);
      return {
        restored: backup.id,
        from_install_id: backup.install_id,
        safety_backup_id: safety.id,
        ...applied,
        ms: Date.now() - started,
      };
    } catch (err) {
      try {
        await this.apply(install, safetyDir, safetyCheck.manifest);
      } catch (rollbackErr) {
        throw new Error(
          `restore of backup ${backup.id} failed (${message(err)}) and rolling back to safety backup ${safety.id} failed too: ${message(rollbackErr)}`,
        );
      }
      throw new Error(
        `restore of backup ${backup.id} failed and the install was rolled back to safety backup ${safety.id}: ${message(err)}`,
      );
    }
  }

  /** Replaces the install's wp-content and database with a verified backup's. */
  private async apply(
    install: InstallRow,
    dir: string,
    manifest: BackupManifest,
  ): Promise<Record<string, unknown>> {
    const { runtime, store } = this.deps;
    const layout = siteLayout(this.deps.dataDir, install.id);
    const incoming = `${layout.contentDir}.restore`;
    const outgoing = `${layout.contentDir}.old`;
    fs.rmSync(incoming, { recursive: true, force: true });
    fs.rmSync(outgoing, { recursive: true, force: true });
    const files = await extractContent(path.join(dir, FILES_PART), incoming);
    if (manifest.database.engine === 'sqlite') {
      fs.mkdirSync(path.join(incoming, 'database'), { recursive: true });
      fs.copyFileSync(path.join(dir, manifest.database.part), path.join(incoming, SQLITE_FILE));
    }

    // PHP must let go of the old files (and the SQLite file) before they are swapped.
    await runtime.unload(install.id);
    fs.renameSync(layout.contentDir, outgoing);
    fs.renameSync(incoming, layout.contentDir);
    fs.rmSync(outgoing, { recursive: true, force: true });
    const mysql = this.mysqlOf(install);
    if (mysql !== null) await loadMysql(mysql, path.join(dir, manifest.database.part));

    // The database's tables carry the backup's prefix: the install's wp-config must say so.
    let current = install;
    if (manifest.table_prefix !== install.table_prefix) {
      const config = fs.readFileSync(layout.configFile, 'utf8');
      const rewritten = config.replace(
        /^\$table_prefix\s*=\s*'[^']*';/m,
        `$table_prefix = '${manifest.table_prefix}';`,
      );
      if (rewritten === config) throw new Error('wp-config.php has no $table_prefix line');
      fs.writeFileSync(layout.configFile, rewritten, { mode: 0o600 });
      await store.transaction((r) =>
        r.installs.update(install.id, { table_prefix: manifest.table_prefix }),
      );
      current = { ...install, table_prefix: manifest.table_prefix };
    }
    await runtime.unload(install.id);

    // The install's own address, which may differ from the backup's (a copy, or a new domain).
    const primary =
      (await store.read.domains.findPrimary(install.id))?.name ??
      this.deps.provisioner.cname(install);
    const site = this.deps.provisioner.siteMount(current, primary);
    if (site === null) throw new Error('the install has no release');
    const url = site.absoluteUrl;
    const pairs = [manifest.home, manifest.siteurl]
      .filter((from): from is string => from !== null && from !== url)
      .filter((from, i, all) => all.indexOf(from) === i)
      .map((from) => ({ from, to: url }));
    let rowsChanged = 0;
    if (pairs.length > 0) {
      const out = await runtime.runScript(site, searchReplaceScript({ url, pairs }));
      const last = out.stdout.trim().split('\n').pop() ?? '';
      try {
        rowsChanged = (JSON.parse(last) as { rows_changed: number }).rows_changed;
      } catch {
        throw new Error(`rewriting URLs failed: ${(out.stderr || last).slice(0, 500)}`);
      }
    }
    await this.deps.provisioner.agentFor(current).setUrls(url, url);
    this.deps.purgePages(install.id);
    return { files, url, urls_rewritten: pairs.map((p) => p.from), rows_changed: rowsChanged };
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
      await store.transaction((r) => r.backups.delete(backup.id));
      removed.push(backup.id);
    }
    return removed;
  }

  private mysqlOf(install: InstallRow): MysqlTarget | null {
    if (install.db_name === null || install.db_user === null || install.db_password === null) {
      return null;
    }
    if (this.deps.mysqlAdminUrl === null) {
      throw new Error(
        `install ${install.name} uses MySQL but the server has no WPFLEET_WP_DATABASE_URL`,
      );
    }
    return mysqlTarget(this.deps.mysqlAdminUrl, {
      name: install.db_name,
      user: install.db_user,
      password: install.db_password,
    });
  }
}

/** The job handlers of backups, for the job runner. */
export function backupJobHandlers(
  manager: BackupManager,
  maxAttempts: number,
): Record<string, (job: JobRow) => Promise<Record<string, unknown>>> {
  return {
    'backup.create': (job) => manager.runJob(job, maxAttempts),
    'backup.restore': (job) => manager.restoreJob(job),
  };
}

/** A BackupManager with the server's settings. */
export function backupManagerFor(
  config: Config,
  parts: Pick<BackupManagerDeps, 'store' | 'runtime' | 'provisioner' | 'purgePages'>,
): BackupManager {
  return new BackupManager({
    ...parts,
    dataDir: config.dataDir,
    retentionDays: config.backups.retentionDays,
    reserveBytes: config.backups.reserveBytes,
    mysqlAdminUrl: config.wordpressDatabase.kind === 'mysql' ? config.wordpressDatabase.url : null,
  });
}
