import type { Kysely, Selectable } from 'kysely';
import type { AccountUsersTable, DB, UsersTable } from '../../db/schema.js';
import { roleFromColumn, roleToColumn, type AccountRole } from './roles.js';

export type UserRow = Selectable<UsersTable>;
/** A user's membership of an account, with the role decoded from its column. */
export type Membership = Omit<Selectable<AccountUsersTable>, 'roles'> & { role: AccountRole };
export type MemberRow = UserRow & Pick<Membership, 'account_id' | 'role' | 'invite_accepted'>;

export interface MemberInstall {
  user_id: string;
  id: string;
  name: string;
}

function decoded<R extends { roles: string }>(row: R): Omit<R, 'roles'> & { role: AccountRole } {
  const { roles, ...rest } = row;
  return { ...rest, role: roleFromColumn(roles) };
}

/** Users are platform-wide identities; memberships tie them to accounts with roles. */
export class UsersRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async insertUser(row: UserRow): Promise<void> {
    await this.db.insertInto('users').values(row).execute();
  }

  findUserById(id: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findUserByEmail(email: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
  }

  async insertMembership(membership: Membership): Promise<void> {
    const { role, ...row } = membership;
    await this.db
      .insertInto('account_users')
      .values({ ...row, roles: roleToColumn(role) })
      .execute();
  }

  private members(accountId: string) {
    return this.db
      .selectFrom('account_users as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .selectAll('u')
      .select(['m.account_id', 'm.roles', 'm.invite_accepted'])
      .where('m.account_id', '=', accountId);
  }

  async findMember(accountId: string, userId: string): Promise<MemberRow | undefined> {
    const row = await this.members(accountId).where('m.user_id', '=', userId).executeTakeFirst();
    return row === undefined ? undefined : decoded(row);
  }

  async listMembers(accountId: string): Promise<MemberRow[]> {
    const rows = await this.members(accountId).orderBy('m.created_at').orderBy('u.id').execute();
    return rows.map(decoded);
  }

  async updateRole(accountId: string, userId: string, role: AccountRole): Promise<void> {
    await this.db
      .updateTable('account_users')
      .set({ roles: roleToColumn(role) })
      .where('account_id', '=', accountId)
      .where('user_id', '=', userId)
      .execute();
  }

  async deleteMembership(accountId: string, userId: string): Promise<void> {
    await this.db
      .deleteFrom('account_user_installs')
      .where('account_id', '=', accountId)
      .where('user_id', '=', userId)
      .execute();
    await this.db
      .deleteFrom('account_users')
      .where('account_id', '=', accountId)
      .where('user_id', '=', userId)
      .execute();
  }

  /** Owners of the account, for the last-owner rule. */
  async countOwners(accountId: string): Promise<number> {
    const rows = await this.db
      .selectFrom('account_users')
      .select('roles')
      .where('account_id', '=', accountId)
      .execute();
    return rows.filter((r) => roleFromColumn(r.roles).level === 'owner').length;
  }

  async replaceInstallAccess(
    accountId: string,
    userId: string,
    installIds: readonly string[],
  ): Promise<void> {
    await this.db
      .deleteFrom('account_user_installs')
      .where('account_id', '=', accountId)
      .where('user_id', '=', userId)
      .execute();
    if (installIds.length === 0) return;
    await this.db
      .insertInto('account_user_installs')
      .values(
        installIds.map((install_id) => ({ account_id: accountId, user_id: userId, install_id })),
      )
      .execute();
  }

  /** Live installs each member of the account may touch (limited members only have rows here). */
  listInstallAccess(accountId: string, userIds: readonly string[]): Promise<MemberInstall[]> {
    if (userIds.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('account_user_installs as a')
      .innerJoin('installs as i', 'i.id', 'a.install_id')
      .select(['a.user_id', 'i.id', 'i.name'])
      .where('a.account_id', '=', accountId)
      .where('a.user_id', 'in', userIds)
      .where('i.deleted_at', 'is', null)
      .orderBy('i.name')
      .execute();
  }
}
