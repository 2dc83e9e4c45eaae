import type { Kysely, Selectable } from 'kysely';
import type { DB, InstallsTable } from '../../db/schema.js';
import { toCount } from '../shared/count.js';
import type { Page, PageRequest } from '../shared/page.js';

export type InstallRow = Selectable<InstallsTable>;

/** An install as read: its row and the name of its primary domain, in one query. */
export type InstallRecord = InstallRow & { primary_domain: string | null };

export interface InstallFilter {
  accountId: string;
  /** Restricts to these installs (a partial user's); null for all of the account. */
  ids: readonly string[] | null;
}

export class InstallsRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async insert(row: InstallRow): Promise<void> {
    await this.db.insertInto('installs').values(row).execute();
  }

  private live(filter: InstallFilter) {
    let q = this.db
      .selectFrom('installs')
      .where('installs.account_id', '=', filter.accountId)
      .where('installs.deleted_at', 'is', null);
    if (filter.ids !== null) {
      q =
        filter.ids.length === 0
          ? q.where('installs.id', '=', '')
          : q.where('installs.id', 'in', filter.ids);
    }
    return q;
  }

  private records(filter: InstallFilter) {
    return this.live(filter)
      .leftJoin('domains as d', (j) =>
        j.onRef('d.install_id', '=', 'installs.id').on('d.is_primary', '=', 1),
      )
      .selectAll('installs')
      .select('d.name as primary_domain');
  }

  findLive(accountId: string, id: string): Promise<InstallRecord | undefined> {
    return this.records({ accountId, ids: null }).where('installs.id', '=', id).executeTakeFirst();
  }

  async list(filter: InstallFilter, page: PageRequest): Promise<Page<InstallRecord>> {
    const [items, count] = await Promise.all([
      this.records(filter)
        .orderBy('installs.created_at')
        .orderBy('installs.id')
        .limit(page.limit)
        .offset(page.offset)
        .execute(),
      this.live(filter)
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .executeTakeFirstOrThrow(),
    ]);
    return { items, total: toCount(count.n) };
  }

  listForSites(accountId: string, siteIds: readonly string[]): Promise<InstallRecord[]> {
    if (siteIds.length === 0) return Promise.resolve([]);
    return this.records({ accountId, ids: null })
      .where('installs.site_id', 'in', siteIds)
      .orderBy('installs.created_at')
      .orderBy('installs.id')
      .execute();
  }

  listLiveIds(accountId: string, ids: readonly string[]): Promise<{ id: string; name: string }[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.live({ accountId, ids }).select(['installs.id', 'installs.name']).execute();
  }

  async nameTaken(name: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('installs')
      .select('id')
      .where('name', '=', name)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return row !== undefined;
  }

  async environmentTaken(
    siteId: string,
    environment: string,
    exceptId: string | null,
  ): Promise<boolean> {
    let q = this.db
      .selectFrom('installs')
      .select('id')
      .where('site_id', '=', siteId)
      .where('environment', '=', environment)
      .where('deleted_at', 'is', null);
    if (exceptId !== null) q = q.where('id', '!=', exceptId);
    return (await q.executeTakeFirst()) !== undefined;
  }

  async update(
    id: string,
    changes: Partial<
      Pick<
        InstallRow,
        | 'site_id'
        | 'environment'
        | 'status'
        | 'php_version'
        | 'wp_version'
        | 'release_version'
        | 'table_prefix'
        | 'agent_secret'
        | 'status_reason'
      >
    >,
  ): Promise<void> {
    await this.db.updateTable('installs').set(changes).where('id', '=', id).execute();
  }

  /**
   * Moves a live install from one status to another; false when it is not (or no longer) in
   * `from`, so that of two concurrent changes only one happens.
   */
  async changeStatus(
    id: string,
    from: string,
    to: Pick<InstallRow, 'status' | 'status_reason'>,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('installs')
      .set(to)
      .where('id', '=', id)
      .where('status', '=', from)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** A live install by its name or id, for operator commands (not scoped to an account). */
  findLiveByNameOrId(nameOrId: string): Promise<InstallRow | undefined> {
    return this.db
      .selectFrom('installs')
      .selectAll()
      .where('deleted_at', 'is', null)
      .where((eb) => eb.or([eb('name', '=', nameOrId), eb('id', '=', nameOrId)]))
      .executeTakeFirst();
  }

  /**
   * Whether any live install runs on this WordPress release, or a pending core update is about
   * to move one onto it (its job may have added the release and not switched yet).
   */
  async releaseInUse(version: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('installs')
      .select('id')
      .where('release_version', '=', version)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (row !== undefined) return true;
    // The payload is the contract's JSON, `{"version":"6.5.5","reinstall":false}`; a version
    // holds no LIKE wildcards.
    const pending = await this.db
      .selectFrom('jobs')
      .select('id')
      .where('type', '=', 'install.core_update')
      .where('state', 'in', ['queued', 'running'])
      .where('payload', 'like', `%"version":${JSON.stringify(version)}%`)
      .executeTakeFirst();
    return pending !== undefined;
  }

  /** Any install by id, deleted or not, for the runtime's jobs (not scoped to an account). */
  findAny(id: string): Promise<InstallRow | undefined> {
    return this.db.selectFrom('installs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * Holds the install's row until the transaction ends, so that two concurrent requests cannot
   * both pass a per-install throttle. The update changes nothing; on PostgreSQL it takes the row
   * lock, and SQLite's write lock is already held.
   */
  async lock(id: string): Promise<void> {
    await this.db
      .updateTable('installs')
      .set((eb) => ({ status: eb.ref('status') }))
      .where('id', '=', id)
      .execute();
  }

  /**
   * Records a page purge: every server's edge drops the install's pages rendered before it.
   * Returns the install's new count (0 when there is no such install).
   */
  async bumpPagesGeneration(id: string): Promise<number> {
    const row = await this.db
      .updateTable('installs')
      .set((eb) => ({ pages_generation: eb('pages_generation', '+', 1) }))
      .where('id', '=', id)
      .returning('pages_generation')
      .executeTakeFirst();
    return row?.pages_generation ?? 0;
  }

  async markDeleted(id: string, at: string): Promise<void> {
    await this.db.updateTable('installs').set({ deleted_at: at }).where('id', '=', id).execute();
  }
}
