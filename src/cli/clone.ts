import type { Command } from 'commander';
import { createApp, type App } from '../composition.js';
import { operatorActor } from '../core/actor.js';
import type { InstallRow } from '../core/installs/installs.repository.js';
import { ENVIRONMENTS, type Environment } from '../core/installs/installs.types.js';
import { configFrom, withStoreOptions, type StoreFlags } from './options.js';
import { CliError } from './output.js';
import { Progress } from './progress.js';
import { waitForJob } from './wait-job.js';

export interface CopyFlags extends StoreFlags {
  json?: boolean;
  port?: string;
  wait?: boolean;
  timeout?: string;
}

interface CloneFlags extends CopyFlags {
  site?: string;
  environment?: string;
}

/**
 * The steps of a clone or a copy, in order, as its job records them (src/runtime/clones and the
 * restore in src/runtime/backups/backups.ts); a backup's own steps are left out of the count.
 */
const STEPS = [
  'copy.source-started',
  'copy.source-taken',
  'restore.safety-started',
  'restore.safety-taken',
  'restore.extracted',
  'restore.swapped',
  'restore.database-loaded',
  'restore.urls-set',
];

const LABELS: Record<string, string> = {
  'copy.source-started': 'backing up the source',
  'copy.source-taken': 'source backed up',
  'restore.safety-started': 'safety backup of the target',
  'restore.safety-taken': 'safety backup taken',
  'restore.extracted': 'unpacked',
  'restore.swapped': 'swapped in (maintenance mode)',
  'restore.database-loaded': 'database loaded',
  'restore.urls-set': 'URLs rewritten',
};

/** `--environment`'s value, checked. */
export function environmentFlag(value: string | undefined, flag: string): Environment | undefined {
  if (value === undefined) return undefined;
  if (!(ENVIRONMENTS as readonly string[]).includes(value)) {
    throw new CliError(`${flag} must be one of ${ENVIRONMENTS.join(', ')}`);
  }
  return value as Environment;
}

/** `http://<host>[:port]` as a visitor reaches the install through the server's edge. */
export function siteUrl(host: string, port: number): string {
  return port === 80 ? `http://${host}` : `http://${host}:${port}`;
}

/**
 * Waits for the server to run a queued clone or copy, with a progress bar on stderr, and answers
 * the job's result (its safety and source backups).
 */
export async function waitForCopy(
  app: App,
  accountId: string,
  jobId: string,
  title: string,
  flags: CopyFlags,
  before = 'queued',
): Promise<Record<string, unknown>> {
  const progress = new Progress(title, STEPS.length);
  let job;
  try {
    job = await waitForJob(app, accountId, jobId, {
      timeoutMs: Number(flags.timeout ?? '900') * 1000,
      what: title,
      onSteps: (steps) => {
        const known = steps.filter((s) => STEPS.includes(s));
        const last = known.at(-1);
        progress.update(known.length, last === undefined ? before : (LABELS[last] ?? last));
      },
    });
  } finally {
    progress.finish();
  }
  try {
    return JSON.parse(job.result ?? '{}') as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** An install as the clone and staging commands print it with --json. */
export function installJson(install: InstallRow, url: string): Record<string, unknown> {
  return {
    id: install.id,
    name: install.name,
    site_id: install.site_id,
    environment: install.environment,
    status: install.status,
    url,
  };
}

/** `wpfleet clone SOURCE TARGET`: a new install with the source's files and database. */
export function cloneCommand(program: Command): void {
  withStoreOptions(program.command('clone <source> <target-name>'))
    .description(
      "copy an install into a new install: its files and database, with URLs rewritten to the new install's address (the running server does it; this waits)",
    )
    .option('--site <id>', 'site to add the new install to (default: a new site of its own)')
    .option('--environment <env>', 'production, staging or development (default production)')
    .option('--port <port>', "the server's port, part of the install's address (default 8080)")
    .option('--no-wait', 'queue it and return at once')
    .option('--timeout <seconds>', 'how long to wait for the server (default 900)', '900')
    .option('--json', 'print JSON')
    .action(async (sourceName: string, targetName: string, flags: CloneFlags) => {
      const environment = environmentFlag(flags.environment, '--environment');
      const config = configFrom({ ...flags });
      const app = await createApp(config);
      try {
        const source = await app.services.installs.findForOperator(sourceName);
        const actor = operatorActor(source.account_id);
        const queued = await app.services.clones.clone(actor, source.id, {
          name: targetName,
          siteId: flags.site,
          environment,
        });
        const url = siteUrl(queued.install.cname, config.port);
        const answer = { ...installJson(queued.install.install, url), job_id: queued.jobId };
        if (flags.wait === false) {
          console.log(
            flags.json === true
              ? JSON.stringify({ ...answer, source_id: source.id, state: 'queued' })
              : `clone of ${source.name} queued as job ${queued.jobId}: install ${targetName} will answer at ${url} once it is active`,
          );
          return;
        }
        const result = await waitForCopy(
          app,
          source.account_id,
          queued.jobId,
          `cloning ${source.name} to ${targetName}`,
          flags,
          'provisioning the new install',
        );
        const install = await app.services.installs.findForOperator(queued.install.install.id);
        console.log(
          flags.json === true
            ? JSON.stringify({
                ...installJson(install, url),
                job_id: queued.jobId,
                source_id: source.id,
                source_backup_id: result.source_backup_id ?? null,
                state: 'succeeded',
              })
            : `install ${targetName} is a clone of ${source.name}: ${url}`,
        );
      } finally {
        await app.close();
      }
    });
}
