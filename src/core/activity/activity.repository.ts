import type { Kysely, Selectable } from 'kysely';
import type { ActivityTable, DB } from '../../db/schema.js';
import type { Actor } from '../actor.js';
import { nowIso } from '../shared/ids.js';

export type ActivityRow = Selectable<ActivityTable>;

export interface ActivityEntry {
  action: string;
  targetType: string;
  targetId: string;
  details?: Record<string, unknown>;
}

export class ActivityRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async record(actor: Pick<Actor, 'accountId' | 'label'>, entry: ActivityEntry): Promise<void> {
    await this.db
      .insertInto('activity')
      .values({
        account_id: actor.accountId,
        actor: actor.label,
        action: entry.action,
        target_type: entry.targetType,
        target_id: entry.targetId,
        details: JSON.stringify(entry.details ?? {}),
        created_at: nowIso(),
      })
      .execute();
  }

  listForAccount(accountId: string, limit: number): Promise<ActivityRow[]> {
    return this.db
      .selectFrom('activity')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }
}
