/**
 * When an install's WordPress cron is run (docs/operations.md, "Scheduled events"): only when an
 * event is due, at most once a minute, and after failures less and less often. Pure: the
 * scheduler (src/runtime/cron/) and the store's claim (cron.repository.ts) apply it.
 */

/** WordPress's own pace: wp-cron.php is spawned at most once a minute (WP_CRON_LOCK_TIMEOUT). */
export const CRON_RUN_INTERVAL_MS = 60_000;

/** The longest wait between attempts of an install whose cron keeps failing. */
export const CRON_MAX_BACKOFF_MS = 60 * 60_000;

/**
 * Whether the install has an event to run: its next event (unix seconds, null for none) is
 * at or before now, as wp-cron.php compares them. An install with nothing due is never run,
 * however long it has been idle.
 */
export function cronDue(nextEvent: number | null, nowMs: number): boolean {
  return nextEvent !== null && nextEvent * 1000 <= nowMs;
}

/**
 * When an install may run again after a run that started at `startedMs`: a minute later, or,
 * after `failures` failed runs in a row, 1, 2, 4 … minutes later, up to an hour. A failure is
 * thus retried the next minute, and one that repeats backs off.
 */
export function nextRunAt(startedMs: number, failures: number): number {
  if (failures <= 1) return startedMs + CRON_RUN_INTERVAL_MS;
  const delay = CRON_RUN_INTERVAL_MS * 2 ** Math.min(failures - 1, 30);
  return startedMs + Math.min(delay, CRON_MAX_BACKOFF_MS);
}
