import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { Inventory } from './inventory.types.js';

/** What is stored of an install's inventory: the last good one and the last failure after it. */
export interface InventoryRecord {
  installId: string;
  /** Null until a refresh succeeds. */
  inventory: Inventory | null;
  /** When `inventory` was read (ISO 8601). */
  refreshedAt: string | null;
  /** Why the latest refresh failed; null when the latest succeeded. */
  error: string | null;
  failedAt: string | null;
}

export class InventoryRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async find(installId: string): Promise<InventoryRecord | undefined> {
    const row = await this.db
      .selectFrom('install_inventory')
      .selectAll()
      .where('install_id', '=', installId)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    return {
      installId: row.install_id,
      // Written by saveInventory() alone, from an Inventory the agent client had validated.
      inventory: row.inventory === null ? null : (JSON.parse(row.inventory) as Inventory),
      refreshedAt: row.refreshed_at,
      error: row.error,
      failedAt: row.failed_at,
    };
  }

  /** Stores a refresh's inventory, replacing the previous one and clearing any failure. */
  async saveInventory(installId: string, inventory: Inventory, refreshedAt: string): Promise<void> {
    const values = {
      inventory: JSON.stringify(inventory),
      refreshed_at: refreshedAt,
      error: null,
      failed_at: null,
    };
    await this.db
      .insertInto('install_inventory')
      .values({ install_id: installId, ...values })
      .onConflict((oc) => oc.column('install_id').doUpdateSet(values))
      .execute();
  }

  /** Records a failed refresh; the last good inventory stays. */
  async saveFailure(installId: string, error: string, failedAt: string): Promise<void> {
    await this.db
      .insertInto('install_inventory')
      .values({
        install_id: installId,
        inventory: null,
        refreshed_at: null,
        error,
        failed_at: failedAt,
      })
      .onConflict((oc) => oc.column('install_id').doUpdateSet({ error, failed_at: failedAt }))
      .execute();
  }

  async delete(installId: string): Promise<void> {
    await this.db.deleteFrom('install_inventory').where('install_id', '=', installId).execute();
  }
}
