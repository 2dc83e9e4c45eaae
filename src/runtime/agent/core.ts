/**
 * The agent's core operations (agent/wpfleet-agent/core.php): the database upgrade after a
 * release switch, and WordPress options by name.
 */
import { Reader, type AgentClient, type Json } from './client.js';

export interface DatabaseUpgrade {
  /** The install's `db_version` option before and after wp_upgrade(). */
  dbVersionBefore: number;
  dbVersionAfter: number;
  /** False when the database was already at the release's version. */
  upgraded: boolean;
  wordpressVersion: string;
}

export interface OptionValues {
  /** get_option() of each name that exists, as JSON (serialized values unserialized). */
  values: Json;
  /** Names with no option. */
  missing: string[];
}

export interface OptionsUpdate {
  /** get_option() of each name after the update. */
  values: Json;
  /** The values before, of the names that existed. */
  previous: Json;
  /** Names whose value changed (update_option() answers false for an unchanged value). */
  changed: string[];
}

/** wp_upgrade(), as wp-admin/upgrade.php runs it, against the install's current release. */
export async function upgradeDatabase(agent: AgentClient): Promise<DatabaseUpgrade> {
  const r = new Reader(await agent.call('POST', 'core/upgrade-db', {}));
  return {
    dbVersionBefore: r.integer('db_version_before'),
    dbVersionAfter: r.integer('db_version_after'),
    upgraded: r.boolean('upgraded'),
    wordpressVersion: r.string('wordpress_version'),
  };
}

/** 1 to 100 option names; the agent's own `wpfleet_agent_*` records are refused. */
export async function getOptions(agent: AgentClient, names: string[]): Promise<OptionValues> {
  const r = new Reader(await agent.call('POST', 'options/get', { names }));
  return { values: r.record('values'), missing: r.strings('missing') };
}

/**
 * update_option() of each name (1 to 100; no null values). The agent writes any name but its
 * own: which options a caller may set is for the control plane to decide.
 */
export async function setOptions(agent: AgentClient, values: Json): Promise<OptionsUpdate> {
  const r = new Reader(await agent.call('POST', 'options', { values }));
  return {
    values: r.record('values'),
    previous: r.record('previous'),
    changed: r.strings('changed'),
  };
}
