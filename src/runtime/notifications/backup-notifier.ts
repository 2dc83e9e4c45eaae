import type { Logger } from 'pino';
import type { Store } from '../../core/store.js';
import { backupNotice } from './backup-notice.js';
import type { Mailer } from './mailer.js';

export interface BackupNotifierDeps {
  store: Store;
  mailer: Mailer;
  log: Logger;
}

/** The addresses stored with a backup (a JSON array); anything unreadable counts as none. */
export function recipientsOf(notificationEmails: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(notificationEmails);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  const emails = parsed.filter((e): e is string => typeof e === 'string' && e !== '');
  return [...new Set(emails)];
}

/**
 * Tells a finished backup's notification e-mails that it completed or failed, reading the backup
 * as stored so the message carries its final size or error. It never rejects: the backup is
 * already recorded, and a mail server's trouble must not turn it into a failed job, so a failure
 * to send is logged. Backups without recipients (a restore's safety backups) send nothing.
 */
export function backupNotifier(deps: BackupNotifierDeps): (backupId: string) => Promise<void> {
  return async (backupId) => {
    try {
      const backup = await deps.store.read.backups.findAny(backupId);
      if (backup === undefined) return;
      if (backup.status !== 'completed' && backup.status !== 'failed') return;
      const to = recipientsOf(backup.notification_emails);
      if (to.length === 0) return;
      const install = await deps.store.read.installs.findAny(backup.install_id);
      const notice = backupNotice(backup, install?.name ?? backup.install_id, new Date());
      await deps.mailer.send({ to, ...notice });
    } catch (err) {
      deps.log.error({ err, backupId }, 'the backup notification e-mail could not be sent');
    }
  };
}
