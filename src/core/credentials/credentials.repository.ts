import type { Kysely, Selectable } from 'kysely';
import type { CredentialsTable, DB } from '../../db/schema.js';

export type CredentialRow = Selectable<CredentialsTable>;

export class CredentialsRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async insert(row: CredentialRow): Promise<void> {
    await this.db.insertInto('credentials').values(row).execute();
  }

  private live() {
    return this.db.selectFrom('credentials').selectAll().where('revoked_at', 'is', null);
  }

  findById(id: string): Promise<CredentialRow | undefined> {
    return this.live().where('id', '=', id).executeTakeFirst();
  }

  findByMainwpKey(keyHash: string): Promise<CredentialRow | undefined> {
    return this.live().where('mainwp_key_hash', '=', keyHash).executeTakeFirst();
  }

  findByWispanelToken(tokenHash: string): Promise<CredentialRow | undefined> {
    return this.live().where('wispanel_hash', '=', tokenHash).executeTakeFirst();
  }
}
