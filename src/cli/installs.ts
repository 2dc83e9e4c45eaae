import type { Command } from 'commander';
import pino from 'pino';
import { createApp, createHosting } from '../composition.js';
import { releaseProvider } from '../runtime/release-provider.js';
import { configFrom, withStoreOptions, type StoreFlags } from './options.js';
import { CliError } from './output.js';

interface JsonFlags extends StoreFlags {
  json?: boolean;
}

export function installCommands(program: Command): void {
  const installs = program.command('installs').description('operate on installs');

  withStoreOptions(installs.command('login <install>'))
    .description('print a single-use wp-admin login link, valid for 5 minutes')
    .option('--port <port>', "the server's port, part of the install's address (default 8080)")
    .option('--json', 'print JSON')
    .action(async (nameOrId: string, flags: JsonFlags) => {
      const config = configFrom({ ...flags });
      const app = await createApp(config);
      const hosting = createHosting(app, releaseProvider(config), pino({ level: 'warn' }));
      try {
        const install = await app.services.installs.findForOperator(nameOrId);
        if (install.wp_version === null) {
          throw new CliError(
            `install ${install.name} is not provisioned yet (status ${install.status})`,
          );
        }
        const link = await hosting.provisioner.agentFor(install).loginLink({ ttlSeconds: 300 });
        console.log(
          flags.json === true
            ? JSON.stringify({ url: link.url, user: link.userLogin, expires_at: link.expiresAt })
            : link.url,
        );
      } finally {
        await hosting.close();
        await app.close();
      }
    });

  withStoreOptions(installs.command('retry <install>'))
    .description('provision a failed install again (the running server does it)')
    .option('--json', 'print JSON')
    .action(async (nameOrId: string, flags: JsonFlags) => {
      const app = await createApp(configFrom({ ...flags }));
      try {
        const { install, jobId } = await app.services.installs.retryForOperator(nameOrId);
        console.log(
          flags.json === true
            ? JSON.stringify({
                id: install.id,
                name: install.name,
                status: install.status,
                job_id: jobId,
              })
            : `install ${install.name} is pending again: provisioning queued as job ${jobId}`,
        );
      } finally {
        await app.close();
      }
    });

  withStoreOptions(installs.command('php <install> <version>'))
    .description('change the PHP version an install runs')
    .action(async (nameOrId: string, version: string, flags: StoreFlags) => {
      const config = configFrom({ ...flags });
      const app = await createApp(config);
      const hosting = createHosting(app, releaseProvider(config), pino({ level: 'warn' }));
      try {
        const install = await app.services.installs.setPhpVersion(
          nameOrId,
          version,
          hosting.runtime.versions,
        );
        console.log(`install ${install.name} now runs PHP ${install.php_version}`);
      } finally {
        await hosting.close();
        await app.close();
      }
    });
}
