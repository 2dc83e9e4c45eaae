import type { Actor } from '../actor.js';
import { OWNER } from '../users/roles.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { newId, nowIso } from '../shared/ids.js';
import type { Page, PageRequest } from '../shared/page.js';
import type { Store } from '../store.js';
import type { AccountRow } from './accounts.repository.js';

export interface NewAccount {
  name: string;
  ownerEmail?: string | undefined;
  siteLimit?: number | null | undefined;
}

export interface CreatedAccount {
  account: AccountRow;
  ownerUserId: string;
}

export class AccountsService {
  constructor(private readonly store: Store) {}

  /** A credential acts for exactly one account, so that is the whole list. */
  async list(actor: Actor, page: PageRequest): Promise<Page<AccountRow>> {
    const account = await this.store.read.accounts.findById(actor.accountId);
    const all = account === undefined ? [] : [account];
    return { items: all.slice(page.offset, page.offset + page.limit), total: all.length };
  }

  async get(actor: Actor, id: string): Promise<AccountRow> {
    const account =
      id === actor.accountId ? await this.store.read.accounts.findById(id) : undefined;
    if (account === undefined) throw new NotFoundError('Account');
    return account;
  }

  /** Operator action (CLI and first start): a new tenant with its owner user. */
  async create(input: NewAccount): Promise<CreatedAccount> {
    const name = input.name.trim();
    if (name === '')
      throw ValidationError.field('Account', 'name', 'blank', 'Name cannot be empty');
    if (name.length > 255) {
      throw ValidationError.field(
        'Account',
        'name',
        'too_long',
        'Name is too long (maximum is 255 characters)',
      );
    }
    const now = nowIso();
    const account: AccountRow = {
      id: newId(),
      name,
      nickname: name,
      site_limit: input.siteLimit ?? null,
      created_at: now,
    };
    const email = (
      input.ownerEmail ?? `owner-${account.id.slice(0, 8)}@wpfleet.invalid`
    ).toLowerCase();
    const ownerUserId = await this.store.transaction(async (r) => {
      await r.accounts.insert(account);
      const existing = await r.users.findUserByEmail(email);
      const userId = existing?.id ?? newId();
      if (existing === undefined) {
        await r.users.insertUser({
          id: userId,
          email,
          first_name: 'Account',
          last_name: 'Owner',
          phone: null,
          mfa_enabled: 0,
          created_at: now,
        });
      }
      await r.users.insertMembership({
        account_id: account.id,
        user_id: userId,
        role: OWNER,
        invite_accepted: 1,
        created_at: now,
      });
      await r.activity.record(
        { accountId: account.id, label: 'cli' },
        {
          action: 'account.create',
          targetType: 'account',
          targetId: account.id,
          details: { name },
        },
      );
      return userId;
    });
    return { account, ownerUserId };
  }

  async count(): Promise<number> {
    return this.store.read.accounts.count();
  }

  /** Every account, for the operator (the CLI). */
  listForOperator(): Promise<AccountRow[]> {
    return this.store.read.accounts.listAll();
  }

  /** The operator's own account (the first one made), used when a command names none. */
  async first(): Promise<AccountRow> {
    const account = await this.store.read.accounts.findFirst();
    if (account === undefined) throw new NotFoundError('Account');
    return account;
  }
}
