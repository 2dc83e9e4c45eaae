import type { Kysely, Selectable } from 'kysely';
import type { DB, SshKeysTable } from '../../db/schema.js';
import { toCount } from '../shared/count.js';
import type { Page, PageRequest } from '../shared/page.js';

export type SshKeyRow = Selectable<SshKeysTable>;

/** SSH keys belong to a user within an account. */
export class SshKeysRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async insert(row: SshKeyRow): Promise<void> {
    await this.db.insertInto('ssh_keys').values(row).execute();
  }

  private owned(accountId: string, userId: string) {
    return this.db
      .selectFrom('ssh_keys')
      .where('account_id', '=', accountId)
      .where('user_id', '=', userId);
  }

  findById(accountId: string, userId: string, id: string): Promise<SshKeyRow | undefined> {
    return this.owned(accountId, userId).selectAll().where('id', '=', id).executeTakeFirst();
  }

  findByFingerprint(
    accountId: string,
    userId: string,
    fingerprint: string,
  ): Promise<SshKeyRow | undefined> {
    return this.owned(accountId, userId)
      .selectAll()
      .where('fingerprint', '=', fingerprint)
      .executeTakeFirst();
  }

  async list(accountId: string, userId: string, page: PageRequest): Promise<Page<SshKeyRow>> {
    const [items, count] = await Promise.all([
      this.owned(accountId, userId)
        .selectAll()
        .orderBy('created_at')
        .orderBy('id')
        .limit(page.limit)
        .offset(page.offset)
        .execute(),
      this.owned(accountId, userId)
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .executeTakeFirstOrThrow(),
    ]);
    return { items, total: toCount(count.n) };
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('ssh_keys').where('id', '=', id).execute();
  }
}
