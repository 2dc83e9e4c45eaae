import { phpUnserialize, type PhpArray, type PhpValue } from './php-unserialize.js';

/**
 * What the scheduler needs of WordPress's `cron` option: its events and when they are due. The
 * option is a serialized array of timestamp => hook => key => {schedule, args, interval}, plus
 * `version => 2` (wp-includes/cron.php, _get_cron_array/_set_cron_array).
 */
export interface CronEvent {
  /** When it is due, unix seconds. */
  at: number;
  hook: string;
  /** Its recurrence (`hourly`…); null for a single event. */
  schedule: string | null;
}

export interface CronOption {
  /** Every event (one per instance: a hook scheduled with other arguments counts again), earliest first. */
  events: CronEvent[];
  /**
   * When wp-cron.php next finds an event to run: the first timestamp in the option's own order.
   * WordPress keeps the option sorted, and a run stops at the first timestamp still ahead, so
   * an event stored after it (written by hand out of order) waits for it, here as there.
   */
  next: number | null;
}

function isArray(value: PhpValue): value is PhpArray {
  return value instanceof Map;
}

/**
 * Reads a stored `cron` option value. As WordPress's _get_cron_array() does, a value that is not
 * an array holds no events; entries whose key is not a timestamp (`version`) or whose value is
 * not an array of hooks are not events. A value that is not valid serialized PHP throws
 * (PhpUnserializeError): the caller reports it rather than take it for "nothing due".
 */
export function parseCronOption(stored: Uint8Array | string): CronOption {
  const value = phpUnserialize(stored);
  const events: CronEvent[] = [];
  let next: number | null = null;
  if (!isArray(value)) return { events, next };
  for (const [at, hooks] of value) {
    if (typeof at !== 'number' || !isArray(hooks)) continue;
    const before = events.length;
    for (const [hook, instances] of hooks) {
      if (!isArray(instances)) continue;
      for (const instance of instances.values()) {
        const schedule = isArray(instance) ? instance.get('schedule') : undefined;
        events.push({
          at,
          hook: String(hook),
          schedule: typeof schedule === 'string' && schedule !== '' ? schedule : null,
        });
      }
    }
    if (next === null && events.length > before) next = at;
  }
  // Stable: events of one timestamp keep WordPress's order, the order wp-cron.php runs them in.
  events.sort((a, b) => a.at - b.at);
  return { events, next };
}

/**
 * When the install next has an event to run (unix seconds; CronOption.next), or null when none
 * is scheduled: also with no `cron` row at all (a database WordPress has not set cron up in) or
 * an empty value.
 */
export function nextCronEvent(stored: Uint8Array | string | null): number | null {
  if (stored === null || stored.length === 0) return null;
  return parseCronOption(stored).next;
}
