import type { Command } from 'commander';
import pino from 'pino';
import { createApp, createHosting } from '../composition.js';
import { releaseProvider } from '../runtime/release-provider.js';
import { buildServer } from '../api/server.js';
import { bootstrapOwner, type FirstStart } from '../core/bootstrap.js';
import { configFrom, withStoreOptions, type StoreFlags } from './options.js';

interface ServeFlags extends StoreFlags {
  port?: string;
  host?: string;
  baseDomain?: string;
  trustProxy?: boolean;
  wpDatabaseUrl?: string;
}

function printFirstStart(url: string, first: FirstStart): void {
  const c = first.credential;
  console.log(
    `First start: created account "${first.accountName}" (${first.accountId}) and its owner credential.`,
  );
  console.log('These secrets are shown once and not stored; keep them now.');
  console.log(`  WP Engine API (HTTP Basic)  username: ${c.username}`);
  console.log(`                              password: ${c.password}`);
  console.log(`  MainWP Bearer token:        ${c.mainwp_token}`);
  console.log(`  WisPanel Bearer token:      ${c.wispanel_token}`);
  console.log(`Try it:  curl -u '${c.username}:${c.password}' ${url}/v1/installs`);
}

export function serveCommand(program: Command): void {
  withStoreOptions(program.command('serve'))
    .description('start the wpfleet server')
    .option('--port <port>', 'port to listen on (default 8080, or WPFLEET_PORT)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1, or WPFLEET_HOST)')
    .option('--base-domain <domain>', 'installs answer at <name>.<domain> (default localhost)')
    .option('--trust-proxy', 'trust X-Forwarded-* headers from a proxy in front')
    .option(
      '--wp-database-url <url>',
      'mysql://user:password@host:port: give new installs their own MySQL/MariaDB database (default SQLite)',
    )
    .action(async (flags: ServeFlags) => {
      const config = configFrom({ ...flags });
      const app = await createApp(config);
      const log = pino({ level: config.logLevel });
      const hosting = createHosting(app, releaseProvider(config, log), log);
      const server = await buildServer(app, { edge: hosting.edge });
      const first = await bootstrapOwner(app.services);
      await server.listen({ port: config.port, host: config.host });
      const address = server.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : config.port;
      await hosting.start(port);
      const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
      console.log(
        `wpfleet listening on ${url} (data in ${config.dataDir}, ${config.database.kind})`,
      );
      if (first === null) {
        console.log(
          'Authenticate with the credential printed at first start, or issue one: npx wpfleet credentials create --json',
        );
      } else {
        printFirstStart(url, first);
      }
      // After the start-up message, which scripts and tests read up to its last line.
      void hosting.warmUp().then((ready) => {
        if (ready === null) return;
        const what = ready.template ? 'release, SQLite template and PHP' : 'release and PHP';
        console.log(
          `Warm-up done in ${(ready.ms / 1000).toFixed(1)} s: WordPress ${ready.version} ` +
            `ready for new installs (${what}).`,
        );
      });
      const stop = (): void => {
        server
          .close()
          .then(() => hosting.close())
          .then(() => app.close())
          .then(
            () => process.exit(0),
            () => process.exit(1),
          );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
