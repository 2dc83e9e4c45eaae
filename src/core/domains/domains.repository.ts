import type { Kysely, Selectable } from 'kysely';
import type { DB, DomainsTable } from '../../db/schema.js';
import { toCount } from '../shared/count.js';
import type { Page, PageRequest } from '../shared/page.js';

export type DomainRow = Selectable<DomainsTable>;

export class DomainsRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async insert(row: DomainRow): Promise<void> {
    await this.db.insertInto('domains').values(row).execute();
  }

  findById(installId: string, id: string): Promise<DomainRow | undefined> {
    return this.db
      .selectFrom('domains')
      .selectAll()
      .where('install_id', '=', installId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  findByName(name: string): Promise<DomainRow | undefined> {
    return this.db.selectFrom('domains').selectAll().where('name', '=', name).executeTakeFirst();
  }

  findByIds(ids: readonly string[]): Promise<DomainRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('domains').selectAll().where('id', 'in', ids).execute();
  }

  findPrimary(installId: string): Promise<DomainRow | undefined> {
    return this.db
      .selectFrom('domains')
      .selectAll()
      .where('install_id', '=', installId)
      .where('is_primary', '=', 1)
      .executeTakeFirst();
  }

  async list(installId: string, page: PageRequest): Promise<Page<DomainRow>> {
    const [items, count] = await Promise.all([
      this.db
        .selectFrom('domains')
        .selectAll()
        .where('install_id', '=', installId)
        .orderBy('created_at')
        .orderBy('id')
        .limit(page.limit)
        .offset(page.offset)
        .execute(),
      this.countForInstall(installId),
    ]);
    return { items, total: count };
  }

  async countForInstall(installId: string): Promise<number> {
    const row = await this.db
      .selectFrom('domains')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('install_id', '=', installId)
      .executeTakeFirstOrThrow();
    return toCount(row.n);
  }

  async setPrimary(installId: string, id: string): Promise<void> {
    await this.db
      .updateTable('domains')
      .set({ is_primary: 0 })
      .where('install_id', '=', installId)
      .where('id', '!=', id)
      .execute();
    await this.db.updateTable('domains').set({ is_primary: 1 }).where('id', '=', id).execute();
  }

  async setRedirect(id: string, redirectToId: string | null): Promise<void> {
    await this.db
      .updateTable('domains')
      .set({ redirect_to_id: redirectToId })
      .where('id', '=', id)
      .execute();
  }

  /** Domains that redirect to this one lose the redirect when it goes. */
  async delete(id: string): Promise<void> {
    await this.db
      .updateTable('domains')
      .set({ redirect_to_id: null })
      .where('redirect_to_id', '=', id)
      .execute();
    await this.db.deleteFrom('domains').where('id', '=', id).execute();
  }

  async deleteForInstall(installId: string): Promise<void> {
    await this.db
      .updateTable('domains')
      .set({ redirect_to_id: null })
      .where('install_id', '=', installId)
      .execute();
    await this.db.deleteFrom('domains').where('install_id', '=', installId).execute();
  }
}
