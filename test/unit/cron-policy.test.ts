import { describe, expect, it } from 'vitest';
import {
  cronDue,
  CRON_MAX_BACKOFF_MS,
  CRON_RUN_INTERVAL_MS,
  nextRunAt,
} from '../../src/core/cron/cron-policy.js';

const NOW = Date.parse('2026-03-01T10:00:00.000Z');
const MINUTE = 60_000;

describe('when an install has events due', () => {
  it('is due once its earliest event has come, as wp-cron.php compares them', () => {
    expect(cronDue(NOW / 1000, NOW)).toBe(true);
    expect(cronDue(NOW / 1000 - 3600, NOW)).toBe(true);
    expect(cronDue(NOW / 1000 + 1, NOW)).toBe(false);
  });

  it('is never due with nothing scheduled, however long it has been idle', () => {
    expect(cronDue(null, NOW)).toBe(false);
    expect(cronDue(null, Number.MAX_SAFE_INTEGER)).toBe(false);
  });
});

describe('when an install may run again', () => {
  it('is a minute after a run that did not fail, and a minute after the first failure', () => {
    expect(CRON_RUN_INTERVAL_MS).toBe(MINUTE);
    expect(nextRunAt(NOW, 0)).toBe(NOW + MINUTE);
    expect(nextRunAt(NOW, 1)).toBe(NOW + MINUTE);
  });

  it('backs off after repeated failures, doubling up to an hour', () => {
    expect([2, 3, 4, 5, 6, 7, 8, 100].map((n) => (nextRunAt(NOW, n) - NOW) / MINUTE)).toEqual([
      2, 4, 8, 16, 32, 60, 60, 60,
    ]);
    expect(CRON_MAX_BACKOFF_MS).toBe(60 * MINUTE);
  });
});
