import type { Kysely, Selectable } from 'kysely';
import type { DB, SitesTable } from '../../db/schema.js';
import { toCount } from '../shared/count.js';
import type { Page, PageRequest } from '../shared/page.js';

export type SiteRow = Selectable<SitesTable>;

export class SitesRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async insert(row: SiteRow): Promise<void> {
    await this.db.insertInto('sites').values(row).execute();
  }

  findById(accountId: string, id: string): Promise<SiteRow | undefined> {
    return this.db
      .selectFrom('sites')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  async list(accountId: string, page: PageRequest): Promise<Page<SiteRow>> {
    const [items, total] = await Promise.all([
      this.db
        .selectFrom('sites')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('created_at')
        .orderBy('id')
        .limit(page.limit)
        .offset(page.offset)
        .execute(),
      this.count(accountId),
    ]);
    return { items, total };
  }

  async count(accountId: string): Promise<number> {
    const row = await this.db
      .selectFrom('sites')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('account_id', '=', accountId)
      .executeTakeFirstOrThrow();
    return toCount(row.n);
  }

  async rename(id: string, name: string): Promise<void> {
    await this.db.updateTable('sites').set({ name }).where('id', '=', id).execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('sites').where('id', '=', id).execute();
  }
}
