import { since, sleep } from './http.js';

export interface LoopResult {
  /** Milliseconds each call took. */
  samples: number[];
  /** Calls that failed or returned false. */
  errors: number;
}

export interface RunningLoop {
  /** Ends the loop after the call in flight; resolves with what it measured. */
  stop(): Promise<LoopResult>;
}

/**
 * Calls `once` again and again, `pauseMs` apart, until stopped, until `maxCalls` calls, or until
 * `maxMs` has passed, whichever comes first; times each call.
 */
export function startLoop(
  once: () => Promise<boolean>,
  options: { pauseMs: number; maxMs: number; maxCalls: number },
): RunningLoop {
  const state = { stopped: false };
  const samples: number[] = [];
  let errors = 0;
  const deadline = performance.now() + options.maxMs;
  const done = (async (): Promise<LoopResult> => {
    while (!state.stopped && performance.now() < deadline && samples.length < options.maxCalls) {
      const t = performance.now();
      const ok = await once().catch(() => false);
      samples.push(since(t));
      if (!ok) errors += 1;
      if (options.pauseMs > 0) await sleep(options.pauseMs);
    }
    return { samples, errors };
  })();
  return {
    stop() {
      state.stopped = true;
      return done;
    },
  };
}
