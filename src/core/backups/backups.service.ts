import type { Actor } from '../actor.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { InstallsService } from '../installs/installs.service.js';
import { isEmail } from '../shared/email.js';
import { isUuid, newId, nowIso } from '../shared/ids.js';
import { requiredName } from '../shared/text.js';
import type { Store } from '../store.js';
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
      };
      await r.backups.insert(backup);
      await r.jobs.enqueue({
        accountId: actor.accountId,
        installId: install.id,
        type: 'backup.create',
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
}
