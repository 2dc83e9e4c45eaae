import type { Actor } from '../actor.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { InstallsService } from '../installs/installs.service.js';
import { isEmail } from '../shared/email.js';
import { isUuid, newId, nowIso } from '../shared/ids.js';
import { requiredName } from '../shared/text.js';
import type { Repositories, Store } from '../store.js';
import type { JobRow } from '../jobs/jobs.repository.js';
import type { InstallRow } from '../installs/installs.repository.js';
import type { BackupRow } from './backups.repository.js';

export interface NewBackup {
  description: string;
  notification_emails: string[];
}

export class BackupsService {
  constructor(
    private readonly store: Store,
    private readonly installs: InstallsService,
  ) {}

  /** Records the backup as `requested` and queues the job that takes it. */
  async create(actor: Actor, installId: string, input: NewBackup): Promise<BackupRow> {
    const description = requiredName('Backup', 'description', input.description, 1000);
    if (input.notification_emails.length === 0) {
      throw ValidationError.field(
        'Backup',
        'notification_emails',
        'blank',
        'Notification emails cannot be empty',
      );
    }
    const bad = input.notification_emails.find((e) => !isEmail(e));
    if (bad !== undefined) {
      throw ValidationError.field(
        'Backup',
        'notification_emails',
        'invalid',
        `${bad.slice(0, 300)} is not a valid email address`,
      );
    }
    return this.store.transaction(async (r) => {
      const install = await this.installs.find(r, actor, installId);
      const backup: BackupRow = {
        id: newId(),
        account_id: actor.accountId,
        install_id: install.id,
        status: 'requested',
        description,
        notification_emails: JSON.stringify(input.notification_emails),
        wordpress_version: null,
        created_at: nowIso(),
        completed_at: null,
        size_bytes: null,
        error: null,
      };
      await r.backups.insert(backup);
      await r.jobs.enqueue({
        accountId: actor.accountId,
        installId: install.id,
        type: 'backup.create',
        payload: {},
        targetId: backup.id,
        idempotencyKey: `backup.create:${backup.id}`,
      });
      await r.activity.record(actor, {
        action: 'backup.create',
        targetType: 'backup',
        targetId: backup.id,
        details: { install_id: install.id, description },
      });
      return backup;
    });
  }

  async get(actor: Actor, installId: string, id: string): Promise<BackupRow> {
    const install = await this.installs.find(this.store.read, actor, installId);
    const backup = isUuid(id) ? await this.store.read.backups.findById(install.id, id) : undefined;
    if (backup === undefined) throw new NotFoundError('Backup');
    return backup;
  }

  /** The install's backups, newest first, for the operator's CLI. */
  async listForOperator(
    installNameOrId: string,
  ): Promise<{ install: InstallRow; backups: BackupRow[] }> {
    const install = await this.installs.findForOperator(installNameOrId);
    return { install, backups: await this.store.read.backups.listForInstall(install.id) };
  }

  /** Any backup by id, for the operator's CLI (the install may have been deleted since). */
  async findForOperator(id: string): Promise<BackupRow> {
    const backup = isUuid(id) ? await this.store.read.backups.findAny(id) : undefined;
    if (backup === undefined) throw new NotFoundError('Backup');
    return backup;
  }

  /**
   * Queues the restore of a completed backup onto a live install of the same account (the
   * install it was taken of, or another one: a copy). The `backup.restore` job does the work.
   */
  async requestRestore(
    installNameOrId: string,
    backupId: string,
  ): Promise<{ install: InstallRow; backup: BackupRow; job: JobRow }> {
    const install = await this.installs.findForOperator(installNameOrId);
    const backup = await this.findForOperator(backupId);
    if (backup.account_id !== install.account_id) {
      throw ValidationError.field(
        'Backup',
        'backup_id',
        'invalid',
        'a backup can be restored only onto an install of its own account',
      );
    }
    if (backup.status !== 'completed') {
      throw ValidationError.field(
        'Backup',
        'backup_id',
        'invalid',
        `backup ${backup.id} is ${backup.status}, not completed`,
      );
    }
    const job = await this.store.transaction(async (r) => {
      const queued = await r.jobs.enqueue({
        accountId: install.account_id,
        installId: install.id,
        type: 'backup.restore',
        targetId: install.id,
        payload: { backup_id: backup.id },
      });
      await r.activity.record(
        { accountId: install.account_id, label: 'cli' },
        {
          action: 'backup.restore',
          targetType: 'install',
          targetId: install.id,
          details: { backup_id: backup.id, from_install_id: backup.install_id },
        },
      );
      return queued;
    });
    return { install, backup, job };
  }

  /** Sets how many days an account keeps its backups (null: the server's default). */
  async setRetention(accountId: string, days: number | null): Promise<void> {
    if (days !== null && (!Number.isInteger(days) || days < 1 || days > 36500)) {
      throw ValidationError.field(
        'Account',
        'backup_retention_days',
        'invalid',
        'retention must be a whole number of days from 1 to 36500',
      );
    }
    await this.store.transaction(async (r) => {
      if ((await r.accounts.findById(accountId)) === undefined) throw new NotFoundError('Account');
      await r.backups.setRetentionDays(accountId, days);
    });
  }

  // The lifecycle of a backup as the runtime drives it: requested → in_progress → completed or
  // failed; expired ones are forgotten.

  async markStarted(backupId: string): Promise<void> {
    await this.store.transaction((r) => r.backups.setStatus(backupId, 'in_progress'));
  }

  async markCompleted(
    backupId: string,
    facts: { wordpressVersion: string | null; sizeBytes: number },
  ): Promise<void> {
    await this.store.transaction((r) =>
      r.backups.setStatus(backupId, 'completed', {
        completed_at: nowIso(),
        wordpress_version: facts.wordpressVersion,
        size_bytes: facts.sizeBytes,
        error: null,
      }),
    );
  }

  async markFailed(backupId: string, error: string): Promise<void> {
    await this.store.transaction((r) =>
      r.backups.setStatus(backupId, 'failed', { error: error.slice(0, 2000) }),
    );
  }

  /** The row of a restore's safety backup (the install as it is before anything changes). */
  safetyBackupOf(install: InstallRow, restoredId: string): BackupRow {
    return {
      id: newId(),
      account_id: install.account_id,
      install_id: install.id,
      status: 'requested',
      description: `Safety backup before restoring backup ${restoredId}`,
      notification_emails: '[]',
      wordpress_version: null,
      created_at: nowIso(),
      completed_at: null,
      size_bytes: null,
      error: null,
    };
  }

  /**
   * The row of the backup a clone or a copy between environments takes of its source: a backup
   * like any other of that install (listed, kept by retention), with no recipients.
   */
  copySourceBackupOf(
    source: InstallRow,
    target: Pick<InstallRow, 'name'>,
    what: string,
  ): BackupRow {
    return {
      ...this.safetyBackupOf(source, ''),
      description: `Taken to ${what} ${source.name} onto ${target.name}`,
    };
  }

  /**
   * Records a backup that a job takes for itself (a restore's safety backup, a copy's source
   * backup) inside the transaction of the step that starts it.
   */
  async recordWithin(r: Repositories, backup: BackupRow): Promise<void> {
    await r.backups.insert(backup);
  }

  /** Forgets a backup whose parts were removed (expired by its account's retention). */
  async forget(backupId: string): Promise<void> {
    await this.store.transaction((r) => r.backups.delete(backupId));
  }
}
