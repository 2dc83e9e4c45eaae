/**
 * The agent's core operations (agent/wpfleet-agent/core.php): the database upgrade after a
 * release switch, and WordPress options by name.
 */
import type {
  DatabaseUpgrade,
  OptionsUpdate,
  OptionValues,
} from '../../core/site-agent/operations.types.js';
import { Reader, type AgentClient, type Json } from './client.js';

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
