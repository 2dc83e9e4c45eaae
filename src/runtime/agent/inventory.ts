/**
 * The agent's `GET /inventory`: everything wpfleet keeps about an install, read inside WordPress
 * in one call (agent/wpfleet-agent/inventory.php; docs/operations.md).
 */
import type {
  AvailableUpdate,
  DatabaseEngine,
  Inventory,
  InventoryPlugin,
  InventoryTheme,
} from '../../core/inventory/inventory.types.js';
import { readPluginEntry, readThemeEntry } from './extensions.js';
import { AgentError, Reader, type AgentClient } from './client.js';
import { readUser } from './users.js';

/** Reads the install's inventory; throws AgentError (`bad_response` when a field is missing). */
export async function getInventory(agent: AgentClient): Promise<Inventory> {
  return readInventory(new Reader(await agent.call('GET', 'inventory')));
}

function readInventory(r: Reader): Inventory {
  const core = r.object('core');
  const php = r.object('php');
  const database = r.object('database');
  const updates = r.object('updates');
  const checked = updates.object('checked_at');
  const sqlite = database.nullableObject('sqlite_integration');
  return {
    agentVersion: r.string('agent_version'),
    core: {
      version: core.string('version'),
      dbVersion: core.integer('db_version'),
      dbVersionStored: core.integer('db_version_stored'),
      dbUpgradeNeeded: core.boolean('db_upgrade_needed'),
      locale: core.string('locale'),
      multisite: core.boolean('multisite'),
      home: core.string('home'),
      siteurl: core.string('siteurl'),
    },
    php: {
      version: php.string('version'),
      extensions: php.strings('extensions'),
      memoryLimit: php.string('memory_limit'),
    },
    database: {
      engine: readEngine(database.string('engine')),
      serverVersion: database.nullableString('server_version'),
      serverInfo: database.nullableString('server_info'),
      sqliteIntegration:
        sqlite === null
          ? null
          : {
              version: sqlite.nullableString('version'),
              dropinVersion: sqlite.nullableString('dropin_version'),
            },
    },
    plugins: r.list('plugins').map(readPlugin),
    themes: r.list('themes').map(readTheme),
    translations: r.list('translations').map((t) => ({
      type: t.string('type'),
      slug: t.string('slug'),
      language: t.string('language'),
      version: t.string('version'),
      updated: t.string('updated'),
    })),
    users: r.list('users').map(readUser),
    usersTotal: r.integer('users_total'),
    updates: {
      core: updates.list('core').map((o) => ({
        response: o.string('response'),
        version: o.string('version'),
        locale: o.string('locale'),
        phpVersion: o.nullableString('php_version'),
        package: o.nullableString('package'),
      })),
      checkedAt: {
        core: checked.nullableInteger('core'),
        plugins: checked.nullableInteger('plugins'),
        themes: checked.nullableInteger('themes'),
      },
    },
  };
}

function readEngine(engine: string): DatabaseEngine {
  if (engine === 'sqlite' || engine === 'mysql' || engine === 'mariadb') return engine;
  throw new AgentError(200, 'bad_response', `The inventory names an unknown database "${engine}".`);
}

function readUpdate(r: Reader): AvailableUpdate | null {
  const u = r.nullableObject('update');
  if (u === null) return null;
  return {
    version: u.string('version'),
    requires: u.nullableString('requires'),
    requiresPhp: u.nullableString('requires_php'),
    tested: u.nullableString('tested'),
    package: u.nullableString('package'),
  };
}

function readPlugin(p: Reader): InventoryPlugin {
  return { ...readPluginEntry(p), update: readUpdate(p) };
}

function readTheme(t: Reader): InventoryTheme {
  return { ...readThemeEntry(t), update: readUpdate(t) };
}
