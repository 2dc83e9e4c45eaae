import type { BackupRow } from '../../core/backups/backups.repository.js';

export interface Notice {
  subject: string;
  text: string;
}

/** `1.4 MB (1,432,113 bytes)`: decimal units, as disks and quotas are sold. */
export function formatSize(bytes: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const exact = `${bytes.toLocaleString('en-US')} bytes`;
  return unit === 0 ? exact : `${value.toFixed(1)} ${units[unit] ?? ''} (${exact})`;
}

/** `0.4 s`, `12 s`, `3 min 05 s`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
}

/**
 * The message sent to a finished backup's notification e-mails: "Backup of NAME completed" or
 * "… failed", with what a recipient needs to tell this backup from others and, on failure, why.
 * `now` stands in for the end of a failed backup, which records no end time.
 */
export function backupNotice(backup: BackupRow, installName: string, now: Date): Notice {
  const failed = backup.status === 'failed';
  const ended = backup.completed_at === null ? now.getTime() : Date.parse(backup.completed_at);
  const rows: [string, string][] = [
    ['Install', installName],
    ['Backup ID', backup.id],
    ['Description', backup.description],
    ['Status', backup.status],
    ['Requested', backup.created_at],
  ];
  if (failed) {
    rows.push(['Failed after', formatDuration(ended - Date.parse(backup.created_at))]);
    rows.push(['Error', backup.error ?? 'unknown']);
  } else {
    rows.push(['Completed', backup.completed_at ?? now.toISOString()]);
    rows.push(['Duration', formatDuration(ended - Date.parse(backup.created_at))]);
    if (backup.size_bytes !== null) rows.push(['Size', formatSize(Number(backup.size_bytes))]);
    if (backup.wordpress_version !== null) rows.push(['WordPress', backup.wordpress_version]);
  }
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  const table = rows.map(([label, value]) => `${`${label}:`.padEnd(width)}${value}`).join('\n');
  const outcome = failed
    ? [
        `The backup of ${installName} failed. The install itself was not changed.`,
        '',
        table,
        '',
        'Request a new backup once the cause above is dealt with.',
      ]
    : [
        `The backup of ${installName} completed.`,
        '',
        table,
        '',
        'An administrator of the platform can restore it with:',
        `  npx wpfleet backups restore ${installName} ${backup.id}`,
      ];
  return {
    subject: `Backup of ${installName} ${failed ? 'failed' : 'completed'}`,
    text: [
      ...outcome,
      '',
      '-- ',
      'You receive this message because your address was given as a notification e-mail',
      'when the backup was requested.',
      '',
    ].join('\n'),
  };
}
