import type { Actor, Scope } from '../actor.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { isUuid, newId, nowIso } from '../shared/ids.js';
import {
  hashMainwpKey,
  hashSecret,
  randomHex,
  randomToken,
  secretMatches,
} from '../shared/secrets.js';
import type { Store } from '../store.js';
import { isLimited, isOwner } from '../users/roles.js';
import type { CredentialRow, CredentialWithRole } from './credentials.repository.js';

/** A new credential's secrets, shown once and never stored in plain. */
export interface IssuedCredential {
  account_id: string;
  user_id: string;
  /** WP Engine Basic auth: the API user id and its password. */
  username: string;
  password: string;
  /** MainWP Dashboard v2 Bearer token, `<secret hex>==<key hex>` as MainWP issues them. */
  mainwp_token: string;
  /** WisPanel Bearer key, `wsp_` and 48 hex digits. */
  wispanel_token: string;
  scopes: Scope[];
}

export class CredentialsService {
  constructor(private readonly store: Store) {}

  /** Issues a credential acting for a member of the account (the first owner by default). */
  async create(accountId: string, scopes: Scope[], userId?: string): Promise<IssuedCredential> {
    if (scopes.length === 0) {
      throw ValidationError.field('Credential', 'scopes', 'blank', 'Scopes cannot be empty');
    }
    return this.store.transaction(async (r) => {
      const account = await r.accounts.findById(accountId);
      if (account === undefined) throw new NotFoundError('Account');
      const members = await r.users.listMembers(accountId);
      const member =
        userId === undefined
          ? members.find((m) => isOwner(m.role))
          : members.find((m) => m.id === userId);
      if (member === undefined) throw new NotFoundError('User');

      const password = randomToken(24);
      const mainwpKey = randomHex(20);
      const mainwpSecret = randomHex(20);
      const wispanel = `wsp_${randomHex(24)}`;
      const row: CredentialRow = {
        id: newId(),
        account_id: accountId,
        user_id: member.id,
        scopes: scopes.join(','),
        password_hash: hashSecret(password),
        mainwp_key_hash: hashMainwpKey(`ck_${mainwpKey}`),
        mainwp_secret_hash: hashSecret(`cs_${mainwpSecret}`),
        wispanel_hash: hashSecret(wispanel),
        created_at: nowIso(),
        revoked_at: null,
      };
      await r.credentials.insert(row);
      await r.activity.record(
        { accountId, label: 'cli' },
        {
          action: 'credential.create',
          targetType: 'credential',
          targetId: row.id,
          details: { scopes },
        },
      );
      return {
        account_id: accountId,
        user_id: member.id,
        username: row.id,
        password,
        mainwp_token: `${mainwpSecret}==${mainwpKey}`,
        wispanel_token: wispanel,
        scopes,
      };
    });
  }

  /** WP Engine Basic auth. Returns null for any unknown, revoked or wrong credential. */
  async authenticateBasic(username: string, password: string): Promise<Actor | null> {
    // Usernames are credential ids; anything else (a NUL byte, say) must not reach the database.
    if (!isUuid(username)) return null;
    const row = await this.store.read.credentials.findById(username);
    if (row === undefined || !secretMatches(password, row.password_hash)) return null;
    return this.actorFor(row);
  }

  async authenticateMainwp(token: string): Promise<Actor | null> {
    const [secret, key] = token.split('==');
    if (secret === undefined || key === undefined || secret === '' || key === '') return null;
    const row = await this.store.read.credentials.findByMainwpKey(hashMainwpKey(`ck_${key}`));
    if (row === undefined || !secretMatches(`cs_${secret}`, row.mainwp_secret_hash)) return null;
    return this.actorFor(row);
  }

  async authenticateWispanel(token: string): Promise<Actor | null> {
    const row = await this.store.read.credentials.findByWispanelToken(hashSecret(token));
    return row === undefined ? null : this.actorFor(row);
  }

  private async actorFor(row: CredentialWithRole): Promise<Actor> {
    const access = isLimited(row.role)
      ? await this.store.read.users.listInstallAccess(row.account_id, [row.user_id])
      : null;
    return {
      accountId: row.account_id,
      userId: row.user_id,
      label: `credential:${row.id}`,
      scopes: new Set(row.scopes.split(',') as Scope[]),
      role: row.role,
      installIds: access === null ? null : new Set(access.map((a) => a.id)),
    };
  }
}
