import { DomainError, SiteOperationError, ValidationError } from '../errors.js';

/** An install as a fleet run names it in its results. */
export interface FleetInstall {
  id: string;
  name: string;
}

export interface FleetError {
  /** WordPress's code (`plugin_not_installed`), a package source's (`unknown_slug`), or the error's kind. */
  code: string;
  message: string;
}

/**
 * What one install gave, and how long its work took (`ms`). `skipped` marks an install the
 * selection left out before anything ran (one still being provisioned, or failed): it carries
 * the reason, no time, and is not a failure.
 */
export type FleetResult<T> =
  | { install: FleetInstall; ok: true; result: T; ms: number }
  | { install: FleetInstall; ok: false; skipped?: true; error: FleetError; ms?: number };

/** Told when an install starts and when it ends (with its result). */
export type FleetEvent<T> =
  | { type: 'started'; install: FleetInstall; done: number; running: number; total: number }
  | {
      type: 'finished';
      install: FleetInstall;
      result: FleetResult<T>;
      done: number;
      running: number;
      total: number;
    };

export interface FleetRunOptions<T> {
  /** Installs worked on at once; at least 1. */
  concurrency: number;
  onEvent?: (event: FleetEvent<T>) => void;
}

/** The summary of a run, as the CLI prints it with --json and a dialect would answer it. */
export interface FleetReport<T> {
  /** No install failed (skipped ones do not count). */
  ok: boolean;
  total: number;
  succeeded: number;
  failed: number;
  skipped: number;
  results: FleetResult<T>[];
}

/** An error as one install's result: codes callers can tell apart, and the message. */
export function fleetError(err: unknown): FleetError {
  if (err instanceof SiteOperationError) return { code: err.code, message: err.message };
  if (err instanceof DomainError) {
    // The package sources' errors carry a code of their own (`unknown_slug`, `unreachable`…).
    const own = (err as { code?: unknown }).code;
    if (typeof own === 'string') return { code: own, message: err.message };
    if (err instanceof ValidationError) {
      return {
        code: err.issues[0]?.code ?? err.kind,
        message: err.issues.map((i) => i.message).join('; '),
      };
    }
    return { code: err.kind, message: err.message };
  }
  // An outcome a caller names (a safe update `rolled_back`), or a system error (`ENOSPC`).
  const own = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  if (typeof own === 'string') return { code: own, message: (err as Error).message };
  return { code: 'error', message: err instanceof Error ? err.message : String(err) };
}

/**
 * Runs `work` on every install, `concurrency` at a time, and answers one result per install in
 * the order given, whatever order they finished in. An install's failure is its result: the run
 * never stops early, and `work`'s rejections never escape.
 */
export async function runFleet<T, I extends FleetInstall>(
  installs: readonly I[],
  work: (install: I) => Promise<T>,
  options: FleetRunOptions<T>,
): Promise<FleetResult<T>[]> {
  const limit = Math.max(1, Math.floor(options.concurrency));
  const results: FleetResult<T>[] = new Array<FleetResult<T>>(installs.length);
  const total = installs.length;
  let next = 0;
  let done = 0;
  let running = 0;
  const name = (i: I): FleetInstall => ({ id: i.id, name: i.name });
  const tell = (event: FleetEvent<T>): void => {
    try {
      options.onEvent?.(event);
    } catch {
      // A listener's bug (a progress bar) must not turn into an install's failure.
    }
  };
  const lane = async (): Promise<void> => {
    for (;;) {
      const index = next;
      next += 1;
      const install = installs[index];
      if (install === undefined) return;
      running += 1;
      tell({ type: 'started', install: name(install), done, running, total });
      let result: FleetResult<T>;
      const t0 = performance.now();
      const ms = (): number => Math.round(performance.now() - t0);
      try {
        const value = await work(install);
        result = { install: name(install), ok: true, result: value, ms: ms() };
      } catch (err) {
        result = { install: name(install), ok: false, error: fleetError(err), ms: ms() };
      }
      results[index] = result;
      running -= 1;
      done += 1;
      tell({ type: 'finished', install: name(install), result, done, running, total });
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, total) }, lane));
  return results;
}

/** The report of results (skipped installs included, in the order given). */
export function fleetReport<T>(results: FleetResult<T>[]): FleetReport<T> {
  const skipped = results.filter((r) => !r.ok && r.skipped === true).length;
  const failed = results.filter((r) => !r.ok && r.skipped !== true).length;
  return {
    ok: failed === 0,
    total: results.length,
    succeeded: results.length - failed - skipped,
    failed,
    skipped,
    results,
  };
}

/**
 * How many installs a fleet operation works on at once unless told: two per core, within the
 * PHP instances the runtime may run (`phpTotal`). Each install's work is mostly its PHP running
 * WordPress (CPU-bound, one core per instance), with gaps where the control plane copies the
 * package, writes the store or waits for a PHP thread to start or exit; a second install per
 * core fills those gaps. More than that only queues for the cores and holds more PHP memory
 * (each instance 80 – 180 MB); more than `phpTotal` would wait for PHP places and evict.
 */
export function defaultFleetConcurrency(cores: number, phpTotal: number): number {
  return Math.max(1, Math.min(phpTotal, Math.max(2, cores * 2)));
}
