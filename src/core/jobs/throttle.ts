import { RateLimitedError } from '../errors.js';
import type { Repositories } from '../store.js';

/**
 * Refuses a job that was already asked for on this install within the interval. The jobs table
 * is the record of when, so the limit holds across restarts and processes.
 */
export async function throttleJob(
  r: Repositories,
  installId: string,
  type: string,
  intervalMs: number,
  message: string,
): Promise<void> {
  await r.installs.lock(installId);
  const last = await r.jobs.lastCreatedAt(installId, [type]);
  const waitMs = last === undefined ? 0 : Date.parse(last) + intervalMs - Date.now();
  if (waitMs > 0) throw new RateLimitedError(message, Math.ceil(waitMs / 1000));
}
