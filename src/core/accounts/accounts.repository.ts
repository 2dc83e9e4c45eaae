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

  async setSiteLimit(id: string, siteLimit: number | null): Promise<void> {
    await this.db
      .updateTable('accounts')
      .set({ site_limit: siteLimit })
      .where('id', '=', id)
      .execute();
  }
}
