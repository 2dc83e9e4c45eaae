import { setTimeout as sleep } from 'node:timers/promises';
import { PhpBusyError } from '../php/types.js';

/** How long one provisioning attempt keeps asking for PHP while every instance stays busy. */
export const PHP_TURN_BUDGET_MS = 10 * 60_000;
const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 30_000;

/** What `run` gave when PHP was busy: a PhpBusyError, or a result `busy` says is one (a 503). */
export interface TurnOptions<T> {
  busy?: (result: T) => boolean;
  budgetMs?: number;
}

/**
 * Runs `run` until it gets its turn on PHP. Every instance busy is no fault of the install: the
 * step waits (1 s, 2 s, 4 s… 30 s at most between tries, each try itself queued for PHP) and tries
 * again, within the job's attempt so that it is not counted as a failed one. Only after `budgetMs`
 * of trying does it fail, as any other error.
 */
export async function inTurn<T>(
  what: string,
  run: () => Promise<T>,
  options: TurnOptions<T> = {},
): Promise<T> {
  const budgetMs = options.budgetMs ?? PHP_TURN_BUDGET_MS;
  const started = Date.now();
  let delay = FIRST_DELAY_MS;
  for (;;) {
    let busy: string;
    try {
      const result = await run();
      if (options.busy?.(result) !== true) return result;
      busy = 'PHP was busy';
    } catch (err) {
      if (!(err instanceof PhpBusyError)) throw err;
      busy = err.message;
    }
    if (Date.now() - started + delay > budgetMs) {
      throw new Error(`${what}: PHP stayed busy for ${Math.round(budgetMs / 1000)} s (${busy})`);
    }
    await sleep(delay);
    delay = Math.min(MAX_DELAY_MS, delay * 2);
  }
}
