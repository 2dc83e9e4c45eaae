import type { Kysely } from 'kysely';
import type { Engine } from '../engine.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations change tables that the typed schema does not know yet */
export async function up(db: Kysely<any>, _engine: Engine): Promise<void> {
  // Hardening settings of an install (src/core/installs/install-settings.ts). An install without
  // a row has the defaults, so installs made before this migration need none written for them.
  await db.schema
    .createTable('install_settings')
    .addColumn('install_id', 'text', (c) => c.primaryKey().references('installs.id'))
    .addColumn('wp_debug', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('disallow_file_edit', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('file_protection', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('login_path', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}
