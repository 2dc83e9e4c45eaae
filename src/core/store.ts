import { sql, type Kysely } from 'kysely';
import type { Engine } from '../db/engine.js';
import { resourceOfTable, uniqueViolation } from '../db/errors.js';
import type { DB } from '../db/schema.js';
import { ValidationError } from './errors.js';
import { AccountsRepository } from './accounts/accounts.repository.js';
import { ActivityRepository } from './activity/activity.repository.js';
import { BackupsRepository } from './backups/backups.repository.js';
import { CronRepository } from './cron/cron.repository.js';
import { CredentialsRepository } from './credentials/credentials.repository.js';
import { DomainsRepository } from './domains/domains.repository.js';
import { InstallSettingsRepository } from './installs/install-settings.repository.js';
import { InstallsRepository } from './installs/installs.repository.js';
import { InventoryRepository } from './inventory/inventory.repository.js';
import { JobsRepository } from './jobs/jobs.repository.js';
import { SitesRepository } from './sites/sites.repository.js';
import { SshKeysRepository } from './ssh-keys/ssh-keys.repository.js';
import { UsersRepository } from './users/users.repository.js';

/** Every repository, bound to one connection or transaction. */
export class Repositories {
  readonly accounts: AccountsRepository;
  readonly activity: ActivityRepository;
  readonly backups: BackupsRepository;
  readonly credentials: CredentialsRepository;
  readonly cron: CronRepository;
  readonly domains: DomainsRepository;
  readonly installs: InstallsRepository;
  readonly inventory: InventoryRepository;
  readonly installSettings: InstallSettingsRepository;
  readonly jobs: JobsRepository;
  readonly sites: SitesRepository;
  readonly sshKeys: SshKeysRepository;
  readonly users: UsersRepository;

  constructor(db: Kysely<DB>) {
    this.accounts = new AccountsRepository(db);
    this.activity = new ActivityRepository(db);
    this.backups = new BackupsRepository(db);
    this.credentials = new CredentialsRepository(db);
    this.cron = new CronRepository(db);
    this.domains = new DomainsRepository(db);
    this.installs = new InstallsRepository(db);
    this.inventory = new InventoryRepository(db);
    this.installSettings = new InstallSettingsRepository(db);
    this.jobs = new JobsRepository(db);
    this.sites = new SitesRepository(db);
    this.sshKeys = new SshKeysRepository(db);
    this.users = new UsersRepository(db);
  }
}

/**
 * The services' only way to the database: `read` for queries, `transaction` for every change, so
 * that a change, its activity row and its job commit together or not at all.
 */
export class Store {
  readonly read: Repositories;

  constructor(
    private readonly db: Kysely<DB>,
    readonly engine: Engine,
  ) {
    this.read = new Repositories(db);
  }

  async transaction<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    try {
      return await this.run(work);
    } catch (err) {
      const unique = uniqueViolation(err);
      if (unique === null) throw err;
      const resource = resourceOfTable(unique.table);
      throw ValidationError.field(
        resource,
        unique.column,
        'taken',
        `${unique.column} has already been taken`,
        'value_unavailable',
      );
    }
  }

  private async run<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    if (this.engine === 'postgres') {
      return this.db.transaction().execute((trx) => work(new Repositories(trx)));
    }
    // BEGIN IMMEDIATE takes SQLite's write lock up front, so a transaction that reads before it
    // writes cannot fail half-way when another process (the CLI) wrote in between.
    return this.db.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn);
      try {
        const result = await work(new Repositories(conn));
        await sql`commit`.execute(conn);
        return result;
      } catch (err) {
        await sql`rollback`.execute(conn);
        throw err;
      }
    });
  }
}
