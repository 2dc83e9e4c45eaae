import type { Kysely, Selectable } from 'kysely';
import type { DB, InstallSettingsTable } from '../../db/schema.js';
import { nowIso } from '../shared/ids.js';
import { DEFAULT_INSTALL_SETTINGS, type InstallSettings } from './install-settings.js';

type InstallSettingsRow = Selectable<InstallSettingsTable>;

function fromRow(row: InstallSettingsRow): InstallSettings {
  return {
    wpDebug: row.wp_debug === 1,
    disallowFileEdit: row.disallow_file_edit === 1,
    fileProtection: row.file_protection === 1,
    loginPath: row.login_path,
  };
}

/** An install's hardening settings: one row per install that changed them, else the defaults. */
export class InstallSettingsRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async get(installId: string): Promise<InstallSettings> {
    const row = await this.db
      .selectFrom('install_settings')
      .selectAll()
      .where('install_id', '=', installId)
      .executeTakeFirst();
    return row === undefined ? { ...DEFAULT_INSTALL_SETTINGS } : fromRow(row);
  }

  /** Stores the whole set (checked by the caller: see withChanges). */
  async put(installId: string, settings: InstallSettings): Promise<void> {
    const values = {
      wp_debug: settings.wpDebug ? 1 : 0,
      disallow_file_edit: settings.disallowFileEdit ? 1 : 0,
      file_protection: settings.fileProtection ? 1 : 0,
      login_path: settings.loginPath,
      updated_at: nowIso(),
    };
    await this.db
      .insertInto('install_settings')
      .values({ install_id: installId, ...values })
      .onConflict((oc) => oc.column('install_id').doUpdateSet(values))
      .execute();
  }

  async delete(installId: string): Promise<void> {
    await this.db.deleteFrom('install_settings').where('install_id', '=', installId).execute();
  }
}
