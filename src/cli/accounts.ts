import type { Command } from 'commander';
import { createApp } from '../composition.js';
import { SCOPES, type Scope } from '../core/actor.js';
import { configFrom, withStoreOptions, type StoreFlags } from './options.js';
import { CliError } from './output.js';

interface AccountFlags extends StoreFlags {
  name: string;
  ownerEmail?: string;
  siteLimit?: string;
  json?: boolean;
}

interface CredentialFlags extends StoreFlags {
  account?: string;
  user?: string;
  scopes: string;
  json?: boolean;
}

function parseScopes(raw: string): Scope[] {
  const scopes = [
    ...new Set(
      raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),
  ];
  const bad = scopes.find((s) => !(SCOPES as readonly string[]).includes(s));
  if (bad !== undefined || scopes.length === 0) {
    throw new CliError(`--scopes: expected a comma-separated list of ${SCOPES.join(', ')}`);
  }
  return scopes as Scope[];
}

export function accountCommands(program: Command): void {
  const accounts = program.command('accounts').description('manage accounts (tenants)');
  withStoreOptions(accounts.command('create'))
    .description('create an account and its owner user')
    .requiredOption('--name <name>', 'account name')
    .option('--owner-email <email>', 'email of the owner user')
    .option('--site-limit <n>', 'most sites the account may have')
    .option('--json', 'print JSON')
    .action(async (flags: AccountFlags) => {
      const siteLimit = flags.siteLimit === undefined ? null : Number(flags.siteLimit);
      if (siteLimit !== null && (!Number.isInteger(siteLimit) || siteLimit < 0)) {
        throw new CliError('--site-limit: expected a whole number');
      }
      const app = await createApp(configFrom({ ...flags }));
      try {
        const { account } = await app.services.accounts.create({
          name: flags.name,
          ownerEmail: flags.ownerEmail,
          siteLimit,
        });
        console.log(
          flags.json === true
            ? JSON.stringify({ id: account.id })
            : `created account ${account.id}`,
        );
      } finally {
        await app.close();
      }
    });

  const credentials = program.command('credentials').description('manage API credentials');
  withStoreOptions(credentials.command('create'))
    .description('issue a credential (WP Engine Basic pair, MainWP and WisPanel tokens)')
    .option('--account <id>', 'account it acts for (default: the first account)')
    .option('--user <id>', 'user it acts as (default: the account owner)')
    .option('--scopes <list>', 'read,write,delete', 'read,write,delete')
    .option('--json', 'print JSON')
    .action(async (flags: CredentialFlags) => {
      const scopes = parseScopes(flags.scopes);
      const app = await createApp(configFrom({ ...flags }));
      try {
        const accountId = flags.account ?? (await app.services.accounts.first()).id;
        const c = await app.services.credentials.create(accountId, scopes, flags.user);
        const out = {
          account_id: c.account_id,
          username: c.username,
          password: c.password,
          mainwp_token: c.mainwp_token,
          wispanel_token: c.wispanel_token,
        };
        console.log(
          flags.json === true
            ? JSON.stringify(out)
            : Object.entries(out)
                .map(([k, v]) => `${k}: ${v}`)
                .join('\n'),
        );
      } finally {
        await app.close();
      }
    });
}
