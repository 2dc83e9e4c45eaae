import type { Kysely, Selectable } from 'kysely';
import type { DB, SitesTable } from '../../db/schema.js';
import { toCount } from '../shared/count.js';
import type { Page, PageRequest } from '../shared/page.js';

export type SiteRow = Selectable<SitesTable>;

/**
 * Which sites a reader sees: all of the account's, or (for a partial user, given the installs it
 * may touch) only the sites holding one of those installs.
 */
export interface SiteFilter {
  accountId: string;
  installIds: readonly string[] | null;
}

export class SitesRepository {
  constructor(private readonly db: Kysely<DB>) {}

  private visible(filter: SiteFilter) {
    const q = this.db.selectFrom('sites').where('sites.account_id', '=', filter.accountId);
    const ids = filter.installIds;
    if (ids === null) return q;
    if (ids.length === 0) return q.where('sites.id', '=', '');
    return q.where('sites.id', 'in', (eb) =>
      eb
        .selectFrom('installs')
        .select('installs.site_id')
        .where('installs.id', 'in', ids)
        .where('installs.deleted_at', 'is', null)
        .where('installs.site_id', 'is not', null)
        .$narrowType<{ site_id: string }>(),
    );
  }

  async insert(row: SiteRow): Promise<void> {
    await this.db.insertInto('sites').values(row).execute();
  }

  findById(filter: SiteFilter, id: string): Promise<SiteRow | undefined> {
    return this.visible(filter).selectAll().where('sites.id', '=', id).executeTakeFirst();
  }

  async list(filter: SiteFilter, page: PageRequest): Promise<Page<SiteRow>> {
    const [items, count] = await Promise.all([
      this.visible(filter)
        .selectAll()
        .orderBy('sites.created_at')
        .orderBy('sites.id')
        .limit(page.limit)
        .offset(page.offset)
        .execute(),
      this.visible(filter)
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .executeTakeFirstOrThrow(),
    ]);
    return { items, total: toCount(count.n) };
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
