import type { Command } from 'commander';
import { createApp } from '../composition.js';
import { operatorActor } from '../core/actor.js';
import type { CopyParts } from '../core/clones/clones.service.js';
import type { Environment } from '../core/installs/installs.types.js';
import { environmentFlag, installJson, siteUrl, waitForCopy, type CopyFlags } from './clone.js';
import { configFrom, withStoreOptions } from './options.js';
import { CliError } from './output.js';

interface StagingFlags extends CopyFlags {
  from?: string;
  to?: string;
  filesOnly?: boolean;
  databaseOnly?: boolean;
}

function partsOf(flags: StagingFlags): CopyParts {
  if (flags.filesOnly === true && flags.databaseOnly === true) {
    throw new CliError('--files-only and --database-only exclude each other (neither copies both)');
  }
  if (flags.filesOnly === true) return 'files';
  if (flags.databaseOnly === true) return 'database';
  return 'both';
}

const WHAT: Record<CopyParts, string> = {
  both: 'files and database',
  files: 'files',
  database: 'database',
};

/** One direction: `push` copies staging onto production, `pull` production onto staging. */
function copyCommand(
  staging: Command,
  verb: 'push' | 'pull',
  defaults: { from: Environment; to: Environment },
): void {
  withStoreOptions(staging.command(`${verb} <install>`))
    .description(
      `copy the site's ${defaults.from} install onto its ${defaults.to} install (files and database; the target gets a safety backup first); <install> names any install of the site`,
    )
    .option('--from <env>', `environment to copy from (default ${defaults.from})`)
    .option('--to <env>', `environment to copy onto (default ${defaults.to})`)
    .option('--files-only', "only wp-content's files (the target keeps its database)")
    .option('--database-only', 'only the database, URLs rewritten (the target keeps its files)')
    .option('--port <port>', "the server's port, part of the install's address (default 8080)")
    .option('--no-wait', 'queue it and return at once')
    .option('--timeout <seconds>', 'how long to wait for the server (default 900)', '900')
    .option('--json', 'print JSON')
    .action(async (nameOrId: string, flags: StagingFlags) => {
      const parts = partsOf(flags);
      const from = environmentFlag(flags.from, '--from') ?? defaults.from;
      const to = environmentFlag(flags.to, '--to') ?? defaults.to;
      const config = configFrom({ ...flags });
      const app = await createApp(config);
      try {
        const install = await app.services.installs.findForOperator(nameOrId);
        const queued = await app.services.clones.copyBetweenEnvironments(
          operatorActor(install.account_id),
          install.id,
          { from, to },
          parts,
        );
        const url = siteUrl(await app.services.installs.primaryHost(queued.to), config.port);
        const answer = {
          job_id: queued.jobId,
          parts,
          from: installJson(
            queued.from,
            siteUrl(await app.services.installs.primaryHost(queued.from), config.port),
          ),
          to: installJson(queued.to, url),
        };
        const what = `${WHAT[parts]} of ${queued.from.name} (${from}) onto ${queued.to.name} (${to})`;
        if (flags.wait === false) {
          console.log(
            flags.json === true
              ? JSON.stringify({ ...answer, state: 'queued' })
              : `copy of the ${what} queued as job ${queued.jobId}; the job's result names the safety backup of ${queued.to.name}`,
          );
          return;
        }
        const result = await waitForCopy(
          app,
          install.account_id,
          queued.jobId,
          `${verb} ${queued.from.name} → ${queued.to.name}`,
          flags,
        );
        const safety = typeof result.safety_backup_id === 'string' ? result.safety_backup_id : null;
        console.log(
          flags.json === true
            ? JSON.stringify({
                ...answer,
                state: 'succeeded',
                safety_backup_id: safety,
                source_backup_id: result.source_backup_id ?? null,
              })
            : [
                `copied the ${what}: ${url}`,
                `safety backup of ${queued.to.name} before the copy: ${safety ?? 'none'}`,
                ...(safety === null
                  ? []
                  : [`  undo with: wpfleet backups restore ${queued.to.name} ${safety}`]),
              ].join('\n'),
        );
      } finally {
        await app.close();
      }
    });
}

/** `wpfleet staging push|pull INSTALL`: copies between the environments of a site. */
export function stagingCommands(program: Command): void {
  const staging = program
    .command('staging')
    .description("copy between a site's environments (staging, production, development)");
  copyCommand(staging, 'push', { from: 'staging', to: 'production' });
  copyCommand(staging, 'pull', { from: 'production', to: 'staging' });
}
