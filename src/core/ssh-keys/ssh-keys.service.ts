import type { Actor } from '../actor.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { isUuid, newId, nowIso } from '../shared/ids.js';
import type { Page, PageRequest } from '../shared/page.js';
import type { Store } from '../store.js';
import { parsePublicKey } from './public-key.js';
import type { SshKeyRow } from './ssh-keys.repository.js';

const MAX_KEY_LENGTH = 16_384;

/** The authenticated user's SSH keys on the account (SFTP/SSH gateway access). */
export class SshKeysService {
  constructor(private readonly store: Store) {}

  list(actor: Actor, page: PageRequest): Promise<Page<SshKeyRow>> {
    return this.store.read.sshKeys.list(actor.accountId, actor.userId, page);
  }

  async create(actor: Actor, publicKey: string): Promise<SshKeyRow> {
    const parsed = publicKey.length <= MAX_KEY_LENGTH ? parsePublicKey(publicKey) : null;
    if (parsed === null) {
      throw ValidationError.field(
        'SshKey',
        'public_key',
        'invalid',
        'Public key must be an OpenSSH public key such as "ssh-ed25519 AAAA… comment"',
      );
    }
    return this.store.transaction(async (r) => {
      if (
        (await r.sshKeys.findByFingerprint(actor.accountId, actor.userId, parsed.fingerprint)) !==
        undefined
      ) {
        throw ValidationError.field(
          'SshKey',
          'public_key',
          'taken',
          'Public key has already been added',
          'value_unavailable',
        );
      }
      const row: SshKeyRow = {
        id: newId(),
        account_id: actor.accountId,
        user_id: actor.userId,
        public_key: parsed.canonical,
        fingerprint: parsed.fingerprint,
        comment: parsed.comment,
        created_at: nowIso(),
      };
      await r.sshKeys.insert(row);
      await r.activity.record(actor, {
        action: 'ssh_key.create',
        targetType: 'ssh_key',
        targetId: row.id,
        details: { fingerprint: row.fingerprint, comment: row.comment },
      });
      return row;
    });
  }

  async delete(actor: Actor, id: string): Promise<void> {
    await this.store.transaction(async (r) => {
      const key = isUuid(id)
        ? await r.sshKeys.findById(actor.accountId, actor.userId, id)
        : undefined;
      if (key === undefined) throw new NotFoundError('SshKey');
      await r.sshKeys.delete(key.id);
      await r.activity.record(actor, {
        action: 'ssh_key.delete',
        targetType: 'ssh_key',
        targetId: key.id,
        details: { fingerprint: key.fingerprint },
      });
    });
  }
}
