import type { Kysely, Selectable } from 'kysely';
import type { AccountsTable, DB } from '../../db/schema.js';

export type AccountRow = Selectable<AccountsTable>;

export class AccountsRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async insert(row: AccountRow): Promise<void> {
    await this.db.insertInto('accounts').values(row).execute();
  }

  findById(id: string): Promise<AccountRow | undefined> {
    return this.db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Every account, oldest first: for the operator, who acts for the platform. */
  listAll(): Promise<AccountRow[]> {
    return this.db.selectFrom('accounts').selectAll().orderBy('created_at').orderBy('id').execute();
  }

  /** The first account made, which is the operator's own. */
  findFirst(): Promise<AccountRow | undefined> {
    return this.db
      .selectFrom('accounts')
      .selectAll()
      .orderBy('created_at')
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
  }

  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('accounts')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * Holds the account row until the transaction ends, so that checks of an account-wide rule (the
   * site limit, the last owner) cannot both pass in two concurrent transactions. The update
   * changes nothing; on PostgreSQL it takes the row lock, and SQLite's write lock is already held.
   */
  async lock(id: string): Promise<void> {
    await this.db
      .updateTable('accounts')
      .set((eb) => ({ site_limit: eb.ref('site_limit') }))
      .where('id', '=', id)
      .execute();
  }

  async setSiteLimit(id: string, siteLimit: number | null): Promise<void> {
    await this.db
      .updateTable('accounts')
      .set({ site_limit: siteLimit })
      .where('id', '=', id)
      .execute();
  }
}
