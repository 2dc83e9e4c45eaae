import { phpUnserialize, type PhpArray, type PhpValue } from './php-unserialize.js';

/**
 * What the scheduler needs of WordPress's `cron` option: when its events are due. The option is
 * a serialized array of timestamp => hook => key => {schedule, args, interval}, plus
 * `version => 2` (wp-includes/cron.php, _get_cron_array/_set_cron_array).
 */
export interface CronOption {
  /** Every event's due time, in unix seconds, earliest first (one per event, repeats kept). */
  events: number[];
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
  const events: number[] = [];
  if (!isArray(value)) return { events };
  for (const [timestamp, hooks] of value) {
    if (typeof timestamp !== 'number' || !isArray(hooks)) continue;
    for (const instances of hooks.values()) {
      if (!isArray(instances)) continue;
      for (let i = 0; i < instances.size; i++) events.push(timestamp);
    }
  }
  events.sort((a, b) => a - b);
  return { events };
}

/**
 * The earliest event's time (unix seconds), or null when none is scheduled: also with no `cron`
 * row at all (a database WordPress has not set cron up in) or an empty value.
 */
export function nextCronEvent(stored: Uint8Array | string | null): number | null {
  if (stored === null || stored.length === 0) return null;
  const { events } = parseCronOption(stored);
  return events[0] ?? null;
}
