import type { Command } from 'commander';
import { createApp, createHosting } from '../composition.js';
import { releaseProvider } from '../runtime/release-provider.js';
import { operatorActor } from '../core/actor.js';
import type { InstallRow } from '../core/installs/installs.repository.js';
import { PROVISION_STEPS } from '../runtime/provision/provisioner.js';
import { installCronCommand } from './cron.js';
import { configFrom, withStoreOptions, type StoreFlags } from './options.js';
import { CliError } from './output.js';
import { commandLog, print, withSite, withSiteOptions, type SiteFlags } from './site-context.js';
import { Progress } from './progress.js';
import { waitForJob } from './wait-job.js';

interface JsonFlags extends StoreFlags {
  json?: boolean;
}

interface CreateFlags extends JsonFlags {
  account?: string;
  site?: string;
  environment?: string;
  port?: string;
  wait?: boolean;
  timeout?: string;
}

/** An install as the CLI prints it with --json. */
function installJson(install: InstallRow, cname: string): Record<string, unknown> {
  return {
    id: install.id,
    name: install.name,
    account_id: install.account_id,
    site_id: install.site_id,
    environment: install.environment,
    status: install.status,
    status_reason: install.status_reason,
    cname,
    wp_version: install.wp_version,
    php_version: install.php_version,
  };
}

/** `http://<host>[:port]` as a visitor reaches the install through the server's edge. */
function siteUrl(host: string, port: number): string {
  return port === 80 ? `http://${host}` : `http://${host}:${port}`;
}

export function installCommands(program: Command): void {
  const installs = program.command('installs').description('operate on installs');

  withStoreOptions(installs.command('create <name>'))
    .description(
      'create an install (a WordPress site); the running server provisions it and this waits, then prints its URL and a login link',
    )
    .option('--account <id>', 'account it belongs to (default: the first account)')
    .option('--site <id>', 'site to add it to (default: a new site of the same name)')
    .option('--environment <env>', 'production, staging or development (default production)')
    .option('--port <port>', "the server's port, part of the install's address (default 8080)")
    .option('--no-wait', 'queue it and return at once')
    .option('--timeout <seconds>', 'how long to wait for the server (default 300)', '300')
    .option('--json', 'print JSON')
    .action(async (name: string, flags: CreateFlags) => {
      const config = configFrom({ ...flags });
      const app = await createApp(config);
      try {
        const accountId = flags.account ?? (await app.services.accounts.first()).id;
        const actor = operatorActor(accountId);
        const environment = flags.environment;
        if (
          environment !== undefined &&
          environment !== 'production' &&
          environment !== 'staging' &&
          environment !== 'development'
        ) {
          throw new CliError('--environment must be production, staging or development');
        }
        const view = await app.services.installs.create(actor, {
          name,
          account_id: accountId,
          ...(flags.site === undefined ? {} : { site_id: flags.site }),
          ...(environment === undefined ? {} : { environment }),
        });
        const url = siteUrl(view.cname, config.port);
        if (flags.wait === false) {
          console.log(
            flags.json === true
              ? JSON.stringify({ ...installJson(view.install, view.cname), url })
              : `install ${name} is queued (${view.install.id}); it will answer at ${url}`,
          );
          return;
        }
        const [job] = await app.store.read.jobs.listForTarget(view.install.id);
        if (job === undefined) throw new CliError('no provisioning job was queued');
        const progress = new Progress(`provisioning ${name}`, PROVISION_STEPS.length);
        try {
          await waitForJob(app, accountId, job.id, {
            timeoutMs: Number(flags.timeout ?? '300') * 1000,
            onSteps: (steps) => {
              progress.update(steps.length, steps.at(-1)?.replace('provision.', '') ?? 'queued');
            },
          });
        } finally {
          progress.finish();
        }
        const install = await app.services.installs.findForOperator(view.install.id);
        const hosting = createHosting(app, releaseProvider(config), commandLog());
        try {
          const link = await hosting.sites.loginLink(actor, install.id);
          console.log(
            flags.json === true
              ? JSON.stringify({ ...installJson(install, view.cname), url, login_url: link.url })
              : `install ${name} is up: ${url}\nlog in (once, within 5 minutes): ${link.url}`,
          );
        } finally {
          await hosting.close();
        }
      } finally {
        await app.close();
      }
    });

  withStoreOptions(installs.command('list'))
    .description('list installs (of one account with --account, else of every account)')
    .option('--account <id>', 'only this account')
    .option('--json', 'print JSON')
    .action(async (flags: CreateFlags) => {
      const app = await createApp(configFrom({ ...flags }));
      try {
        const accounts =
          flags.account === undefined
            ? await app.services.accounts.listForOperator()
            : [{ id: flags.account }];
        const rows: Record<string, unknown>[] = [];
        for (const account of accounts) {
          const page = await app.services.installs.list(operatorActor(account.id), undefined, {
            limit: 10_000,
            offset: 0,
          });
          for (const view of page.items) rows.push(installJson(view.install, view.primaryDomain));
        }
        if (flags.json === true) {
          console.log(JSON.stringify(rows));
          return;
        }
        if (rows.length === 0) {
          console.log('no installs yet: wpfleet installs create NAME');
          return;
        }
        for (const row of rows) {
          console.log(
            [row.name, row.status, row.wp_version ?? '-', row.php_version, row.cname].join('\t'),
          );
        }
      } finally {
        await app.close();
      }
    });

  withStoreOptions(installs.command('delete <install>'))
    .description(
      'delete an install: its domains go at once, the server removes its files and database',
    )
    .option('--json', 'print JSON')
    .action(async (nameOrId: string, flags: JsonFlags) => {
      const app = await createApp(configFrom({ ...flags }));
      try {
        const install = await app.services.installs.findForOperator(nameOrId);
        await app.services.installs.delete(operatorActor(install.account_id), install.id);
        console.log(
          flags.json === true
            ? JSON.stringify({ id: install.id, name: install.name, deleted: true })
            : `install ${install.name} is deleted; the server removes its files and database`,
        );
      } finally {
        await app.close();
      }
    });

  withSiteOptions(installs.command('login <install>'))
    .description('print a single-use wp-admin login link, valid for 5 minutes')
    .action(async (nameOrId: string, flags: SiteFlags) => {
      await withSite(flags, nameOrId, async ({ hosting, actor, install }) => {
        const link = await hosting.sites.loginLink(actor, install.id);
        print(flags, { url: link.url, user: link.userLogin, expires_at: link.expiresAt }, link.url);
      });
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

  installCronCommand(installs);

  withStoreOptions(installs.command('php <install> <version>'))
    .description('change the PHP version an install runs')
    .action(async (nameOrId: string, version: string, flags: StoreFlags) => {
      const config = configFrom({ ...flags });
      const app = await createApp(config);
      const hosting = createHosting(app, releaseProvider(config), commandLog());
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
