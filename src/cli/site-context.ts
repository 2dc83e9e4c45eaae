import type { Command } from 'commander';
import pino, { type Logger } from 'pino';
import { createApp, createHosting, type App, type Hosting } from '../composition.js';
import { operatorActor, type Actor } from '../core/actor.js';
import type { InstallRow } from '../core/installs/installs.repository.js';
import { releaseProvider } from '../runtime/release-provider.js';
import { configFrom, withStoreOptions, type StoreFlags } from './options.js';
import { CliError } from './output.js';

export interface SiteFlags extends StoreFlags {
  json?: boolean;
  port?: string;
}

/** What a command on one install works with; the CLI acts as the operator of its account. */
export interface SiteContext {
  app: App;
  hosting: Hosting;
  install: InstallRow;
  actor: Actor;
}

/** The log of a command: warnings only, on stderr, so that stdout keeps the answer (and --json). */
export function commandLog(): Logger {
  return pino({ level: 'warn' }, pino.destination(2));
}

/** The options of every command on one install: the store's, the server's port, --json. */
export function withSiteOptions(command: Command): Command {
  return withStoreOptions(command)
    .option('--port <port>', "the server's port, part of the install's address (default 8080)")
    .option('--json', 'print JSON');
}

/**
 * Runs `work` on the install named (by name or id), with this process's own PHP for it; the
 * running server sees every change through the store and the install's files.
 */
export async function withSite<T>(
  flags: SiteFlags,
  nameOrId: string,
  work: (site: SiteContext) => Promise<T>,
): Promise<T> {
  const config = configFrom({ ...flags });
  const app = await createApp(config);
  try {
    const install = await app.services.installs.findForOperator(nameOrId);
    const hosting = createHosting(app, releaseProvider(config), commandLog());
    try {
      return await work({ app, hosting, install, actor: operatorActor(install.account_id) });
    } finally {
      await hosting.close();
    }
  } finally {
    await app.close();
  }
}

/** Prints `data` as JSON with --json, else the text (a string or lines). */
export function print(flags: { json?: boolean }, data: unknown, text: string | string[]): void {
  if (flags.json === true) {
    console.log(JSON.stringify(data));
    return;
  }
  console.log(Array.isArray(text) ? text.join('\n') : text);
}

/** Rows as aligned columns, for lists. */
export function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/** `on`/`off` (and true/false, yes/no, 1/0) as a boolean. */
export function onOff(value: string, option: string): boolean {
  const v = value.toLowerCase();
  if (['on', 'true', 'yes', '1'].includes(v)) return true;
  if (['off', 'false', 'no', '0'].includes(v)) return false;
  throw new CliError(`${option} must be on or off`);
}
