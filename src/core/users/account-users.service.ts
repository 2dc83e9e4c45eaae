import { actsAsOwner, requireAccountManager, type Actor } from '../actor.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.js';
import { isEmail } from '../shared/email.js';
import { isUuid, newId, nowIso } from '../shared/ids.js';
import { requiredName } from '../shared/text.js';
import type { Repositories, Store } from '../store.js';
import { isLimited, isOwner, type AccountRole } from './roles.js';
import type { MemberRow, UserRow } from './users.repository.js';
import type { AccountUserChanges, AccountUserView, NewAccountUser } from './users.types.js';

const RESOURCE = 'AccountUser';

/** The people of an account and their roles. */
export class AccountUsersService {
  constructor(private readonly store: Store) {}

  /**
   * What every operation here starts with: the actor's own account, and the right to manage it.
   * A dialect calls it before reading its own words for roles, so that a caller without that
   * right learns only that (404/403), whatever the body says.
   */
  requireManager(actor: Actor, accountId: string): void {
    if (accountId !== actor.accountId) throw new NotFoundError('Account');
    requireAccountManager(actor);
  }

  async list(actor: Actor, accountId: string): Promise<AccountUserView[]> {
    this.requireManager(actor, accountId);
    return this.views(
      this.store.read,
      actor.accountId,
      await this.store.read.users.listMembers(accountId),
    );
  }

  async get(actor: Actor, accountId: string, userId: string): Promise<AccountUserView> {
    this.requireManager(actor, accountId);
    const member = await this.find(this.store.read, accountId, userId);
    const [view] = await this.views(this.store.read, accountId, [member]);
    if (view === undefined) throw new NotFoundError(RESOURCE);
    return view;
  }

  async create(actor: Actor, accountId: string, input: NewAccountUser): Promise<AccountUserView> {
    this.requireManager(actor, accountId);
    const role = input.role;
    if (isOwner(role) && !actsAsOwner(actor)) throw new ForbiddenError();
    const firstName = requiredName(RESOURCE, 'first_name', input.first_name, 100);
    const lastName = requiredName(RESOURCE, 'last_name', input.last_name, 100);
    const email = input.email.trim().toLowerCase();
    if (!isEmail(email))
      throw ValidationError.field(
        RESOURCE,
        'email',
        'invalid',
        'Email is not a valid email address',
      );

    const userId = await this.store.transaction(async (r) => {
      const now = nowIso();
      let user: UserRow | undefined = await r.users.findUserByEmail(email);
      if (user !== undefined && (await r.users.findMember(accountId, user.id)) !== undefined) {
        throw ValidationError.field(
          RESOURCE,
          'email',
          'taken',
          'Email is already a user of this account',
          'value_unavailable',
        );
      }
      if (user === undefined) {
        user = {
          id: newId(),
          email,
          first_name: firstName,
          last_name: lastName,
          phone: null,
          mfa_enabled: 0,
          created_at: now,
        };
        await r.users.insertUser(user);
      }
      await r.users.insertMembership({
        account_id: accountId,
        user_id: user.id,
        role,
        invite_accepted: 0,
        created_at: now,
      });
      await this.setInstallAccess(r, accountId, user.id, role, input.install_ids);
      await r.activity.record(actor, {
        action: 'account_user.create',
        targetType: 'user',
        targetId: user.id,
        details: { email, role, install_ids: input.install_ids ?? [] },
      });
      return user.id;
    });
    return this.get(actor, accountId, userId);
  }

  async update(
    actor: Actor,
    accountId: string,
    userId: string,
    changes: AccountUserChanges,
  ): Promise<AccountUserView> {
    this.requireManager(actor, accountId);
    const role = changes.role;
    await this.store.transaction(async (r) => {
      const member = await this.find(r, accountId, userId);
      if ((isOwner(member.role) || isOwner(role)) && !actsAsOwner(actor))
        throw new ForbiddenError();
      if (isOwner(member.role) && !isOwner(role)) await this.requireAnotherOwner(r, accountId);
      await r.users.updateRole(accountId, member.id, role);
      await this.setInstallAccess(r, accountId, member.id, role, changes.install_ids);
      await r.activity.record(actor, {
        action: 'account_user.update',
        targetType: 'user',
        targetId: member.id,
        details: { role, install_ids: changes.install_ids ?? null },
      });
    });
    return this.get(actor, accountId, userId);
  }

  /** Removes the user from the account; the user itself stays (it may belong to others). */
  async delete(actor: Actor, accountId: string, userId: string): Promise<void> {
    this.requireManager(actor, accountId);
    await this.store.transaction(async (r) => {
      const member = await this.find(r, accountId, userId);
      if (isOwner(member.role)) {
        if (!actsAsOwner(actor)) throw new ForbiddenError();
        await this.requireAnotherOwner(r, accountId);
      }
      await r.users.deleteMembership(accountId, member.id);
      // Re-adding the person later must not bring old credentials back.
      await r.credentials.revokeForMember(accountId, member.id, nowIso());
      await r.activity.record(actor, {
        action: 'account_user.delete',
        targetType: 'user',
        targetId: member.id,
        details: { email: member.email },
      });
    });
  }

  private async find(r: Repositories, accountId: string, userId: string): Promise<MemberRow> {
    const member = isUuid(userId) ? await r.users.findMember(accountId, userId) : undefined;
    if (member === undefined) throw new NotFoundError(RESOURCE);
    return member;
  }

  private async requireAnotherOwner(r: Repositories, accountId: string): Promise<void> {
    // Under the account's lock, so two owners cannot demote or remove each other at once.
    await r.accounts.lock(accountId);
    if ((await r.users.countOwners(accountId)) <= 1) {
      throw ValidationError.field(
        RESOURCE,
        'roles',
        'last_owner',
        'The last owner of an account cannot be removed or demoted',
      );
    }
  }

  /** Limited members get exactly the listed installs; other roles see every install. */
  private async setInstallAccess(
    r: Repositories,
    accountId: string,
    userId: string,
    role: AccountRole,
    installIds: string[] | undefined,
  ): Promise<void> {
    if (!isLimited(role)) {
      await r.users.replaceInstallAccess(accountId, userId, []);
      return;
    }
    if (installIds === undefined) return;
    const wanted = [...new Set(installIds)];
    const found = wanted.every(isUuid) ? await r.installs.listLiveIds(accountId, wanted) : [];
    if (found.length !== wanted.length) {
      throw ValidationError.field(
        RESOURCE,
        'install_ids',
        'not_found',
        'Install ids must name installs of this account',
        'access_error',
      );
    }
    await r.users.replaceInstallAccess(accountId, userId, wanted);
  }

  private async views(
    r: Repositories,
    accountId: string,
    members: MemberRow[],
  ): Promise<AccountUserView[]> {
    const ownerCount = members.some((m) => isOwner(m.role))
      ? await r.users.countOwners(accountId)
      : 0;
    const limitedIds = members.filter((m) => isLimited(m.role)).map((m) => m.id);
    const access = await r.users.listInstallAccess(accountId, limitedIds);
    return members.map((member) => ({
      member,
      installs: isLimited(member.role)
        ? access.filter((a) => a.user_id === member.id).map((a) => ({ id: a.id, name: a.name }))
        : null,
      lastOwner: isOwner(member.role) ? ownerCount <= 1 : null,
    }));
  }
}
