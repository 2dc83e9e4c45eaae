import type { Command } from 'commander';
import { loadConfig, type Config } from '../config.js';

export interface StoreFlags {
  data?: string;
  databaseUrl?: string;
}

/** The options every command shares with `serve`, so each can work on the same store. */
export function withStoreOptions(command: Command): Command {
  return command
    .option('--data <dir>', 'data directory (default ./data, or WPFLEET_DATA)')
    .option(
      '--database-url <url>',
      'postgres://… or sqlite:<file> (default: SQLite in the data directory; or DATABASE_URL)',
    );
}

export function configFrom(flags: StoreFlags & Record<string, unknown>): Config {
  return loadConfig(
    {
      data: flags.data,
      databaseUrl: flags.databaseUrl,
      port: typeof flags.port === 'string' ? flags.port : undefined,
      host: typeof flags.host === 'string' ? flags.host : undefined,
      baseDomain: typeof flags.baseDomain === 'string' ? flags.baseDomain : undefined,
      trustProxy: typeof flags.trustProxy === 'boolean' ? flags.trustProxy : undefined,
      wpDatabaseUrl: typeof flags.wpDatabaseUrl === 'string' ? flags.wpDatabaseUrl : undefined,
    },
    process.env,
  );
}
