/**
 * The agent's cron module (agent/wpfleet-agent/cron.php): runs an install's due events the way
 * wp-cron.php does, and says which ran.
 */
import type { CronRunResult } from '../../core/site-agent/operations.types.js';
import { Reader, type AgentClient } from './client.js';

export async function runDueEvents(
  agent: AgentClient,
  options: { maxSeconds: number },
): Promise<CronRunResult> {
  const r = new Reader(await agent.call('POST', 'cron/run', { max_seconds: options.maxSeconds }));
  return {
    maintenance: r.boolean('maintenance'),
    locked: r.boolean('locked'),
    ran: r.list('ran').map((e) => ({
      hook: e.string('hook'),
      timestamp: e.integer('timestamp'),
      schedule: e.nullableString('schedule'),
      error: e.nullableString('error'),
    })),
    incomplete: r.boolean('incomplete'),
    nextEvent: r.nullableInteger('next_event'),
  };
}
