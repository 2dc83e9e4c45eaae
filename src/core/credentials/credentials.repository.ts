import type { Kysely, Selectable } from 'kysely';
import type { CredentialsTable, DB } from '../../db/schema.js';
import { roleFromColumn, type AccountRole } from '../users/roles.js';

export type CredentialRow = Selectable<CredentialsTable>;

/** A live credential with the role its user holds on its account, read in one query. */
export type CredentialWithRole = CredentialRow & { role: AccountRole };

async function withRole(
  query: Promise<(CredentialRow & { roles: string }) | undefined>,
): Promise<CredentialWithRole | undefined> {
  const row = await query;
  if (row === undefined) return undefined;
  const { roles, ...credential } = row;
  return { ...credential, role: roleFromColumn(roles) };
}

export class CredentialsRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async insert(row: CredentialRow): Promise<void> {
    await this.db.insertInto('credentials').values(row).execute();
  }

  /** A member who leaves an account takes its credentials there with it, for good. */
  async revokeForMember(accountId: string, userId: string, at: string): Promise<void> {
    await this.db
      .updateTable('credentials')
      .set({ revoked_at: at })
      .where('account_id', '=', accountId)
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .execute();
  }

  // A credential whose user has left the account no longer authenticates.
  private live() {
    return this.db
      .selectFrom('credentials as c')
      .innerJoin('account_users as m', (j) =>
        j.onRef('m.account_id', '=', 'c.account_id').onRef('m.user_id', '=', 'c.user_id'),
      )
      .selectAll('c')
      .select('m.roles')
      .where('c.revoked_at', 'is', null);
  }

  findById(id: string): Promise<CredentialWithRole | undefined> {
    return withRole(this.live().where('c.id', '=', id).executeTakeFirst());
  }

  findByMainwpKey(keyHash: string): Promise<CredentialWithRole | undefined> {
    return withRole(this.live().where('c.mainwp_key_hash', '=', keyHash).executeTakeFirst());
  }

  findByWispanelToken(tokenHash: string): Promise<CredentialWithRole | undefined> {
    return withRole(this.live().where('c.wispanel_hash', '=', tokenHash).executeTakeFirst());
  }
}
