import type { Command } from 'commander';
import { createApp, createHosting, offlineBackups, type App } from '../composition.js';
import type { BackupRow } from '../core/backups/backups.repository.js';
import { releaseProvider } from '../runtime/release-provider.js';
import { configFrom, withStoreOptions, type StoreFlags } from './options.js';
import { CliError } from './output.js';
import { commandLog } from './site-context.js';
import { waitForJob } from './wait-job.js';

interface JsonFlags extends StoreFlags {
  json?: boolean;
}

interface RestoreFlags extends JsonFlags {
  direct?: boolean;
  timeout?: string;
}

/** A backup whose checksums do not match: exit 1 with the problems on stderr. */
export class BackupCheckError extends CliError {}

async function withApp<T>(flags: StoreFlags, work: (app: App) => Promise<T>): Promise<T> {
  const app = await createApp(configFrom({ ...flags }));
  try {
    return await work(app);
  } finally {
    await app.close();
  }
}

function row(b: BackupRow): Record<string, unknown> {
  return {
    id: b.id,
    status: b.status,
    description: b.description,
    created_at: b.created_at,
    completed_at: b.completed_at,
    wordpress_version: b.wordpress_version,
    size_bytes: b.size_bytes === null ? null : Number(b.size_bytes),
    error: b.error,
  };
}

export function backupCommands(program: Command): void {
  const backups = program.command('backups').description('list, verify and restore backups');

  withStoreOptions(backups.command('list <install>'))
    .description("list an install's backups, newest first")
    .option('--json', 'print JSON')
    .action(async (install: string, flags: JsonFlags) => {
      await withApp(flags, async (app) => {
        const found = await app.services.backups.listForOperator(install);
        const rows = found.backups.map(row);
        if (flags.json === true) {
          console.log(JSON.stringify(rows));
          return;
        }
        if (rows.length === 0) console.log(`install ${found.install.name} has no backups`);
        for (const b of found.backups) {
          const size = b.size_bytes === null ? '-' : `${Number(b.size_bytes)} B`;
          console.log(
            `${b.id}  ${b.status.padEnd(11)}  ${b.created_at}  ${size}  ${b.description}`,
          );
        }
      });
    });

  withStoreOptions(backups.command('verify <backup>'))
    .description('re-read every part and file of a backup and check every checksum')
    .option('--json', 'print JSON')
    .action(async (backupId: string, flags: JsonFlags) => {
      await withApp(flags, async (app) => {
        const backup = await app.services.backups.findForOperator(backupId);
        const result = await offlineBackups(app).verify(backup);
        if (flags.json === true) {
          console.log(
            JSON.stringify({
              id: backup.id,
              ok: result.ok,
              files: result.files,
              bytes: result.bytes,
              problems: result.problems,
            }),
          );
        } else if (result.ok) {
          console.log(
            `backup ${backup.id} is intact: ${result.files} files and ${result.bytes} bytes of parts match their checksums`,
          );
        }
        if (!result.ok) {
          throw new BackupCheckError(
            `backup ${backup.id} is corrupted:\n  ${result.problems.join('\n  ')}`,
          );
        }
      });
    });

  withStoreOptions(backups.command('restore <install> <backup>'))
    .description(
      'restore a backup onto an install (its own or another of the same account); by default the running server does it and this waits',
    )
    .option(
      '--direct',
      'restore in this process instead of through the server (only while no server runs)',
    )
    .option('--timeout <seconds>', 'how long to wait for the server (default 600)', '600')
    .option('--json', 'print JSON')
    .action(async (install: string, backupId: string, flags: RestoreFlags) => {
      const config = configFrom({ ...flags });
      const app = await createApp(config);
      try {
        // A corrupted backup is refused here, before anything is queued or changed.
        const backup = await app.services.backups.findForOperator(backupId);
        const checked = await offlineBackups(app).verify(backup);
        if (!checked.ok) {
          throw new BackupCheckError(
            `backup ${backup.id} is corrupted, nothing was restored:\n  ${checked.problems.join('\n  ')}`,
          );
        }
        let result: Record<string, unknown>;
        if (flags.direct === true) {
          const target = await app.services.installs.findForOperator(install);
          const hosting = createHosting(app, releaseProvider(config), commandLog());
          try {
            // Its page purge reaches the running server's edge through the install's row.
            result = await hosting.backups.restore(target.id, backup.id);
          } finally {
            await hosting.close();
          }
        } else {
          const queued = await app.services.backups.requestRestore(install, backup.id);
          const job = await waitForJob(app, queued.install.account_id, queued.job.id, {
            timeoutMs: Number(flags.timeout ?? '600') * 1000,
            what: 'restore',
            hint: 'Use --direct when no server runs.',
          });
          result = JSON.parse(job.result ?? '{}') as Record<string, unknown>;
        }
        console.log(
          flags.json === true
            ? JSON.stringify(result)
            : `restored backup ${backup.id} onto ${install}; safety backup ${String(result.safety_backup_id)}`,
        );
      } finally {
        await app.close();
      }
    });

  withStoreOptions(backups.command('prune'))
    .description("remove finished backups older than their account's retention")
    .option('--json', 'print JSON')
    .action(async (flags: JsonFlags) => {
      await withApp(flags, async (app) => {
        const removed = await offlineBackups(app).prune();
        console.log(
          flags.json === true ? JSON.stringify({ removed }) : `removed ${removed.length} backups`,
        );
      });
    });

  withStoreOptions(backups.command('retention <account> <days>'))
    .description("set how many days an account's backups are kept (`default`: the server's)")
    .action(async (account: string, days: string, flags: StoreFlags) => {
      await withApp(flags, async (app) => {
        const value = days === 'default' ? null : Number(days);
        await app.services.backups.setRetention(account, value);
        console.log(
          `account ${account} keeps backups ${value === null ? `${app.config.backups.retentionDays} days (the default)` : `${value} days`}`,
        );
      });
    });
}
