import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { since, sleep } from './http.js';
import { freePort, launchServer, type LaunchedServer } from './process.js';
import { firstRenderMs, timeCreate, type CreateTiming } from './provisioning.js';
import { benchStore, connect } from './wordpress.js';

/** The line `serve` prints when its warm-up is done. */
const WARMED_UP = /Warm-up done in [\d.]+ s: WordPress (\S+) ready for new installs/;
/** As long as the new user waits before creating the first install, at most. */
const WAIT_MS = 60_000;

export interface FirstInstall {
  /** The machine cache the fresh data directory started with. */
  cache: 'warm' | 'cold';
  /** From the server's start-up message to its warm-up line; NaN when none came within 60 s. */
  warmUpMs: number;
  timing: CreateTiming;
  /** The server's time for the install's first page (its access log). */
  firstRenderMs: number;
}

/**
 * `wpfleet serve` on a fresh, empty data directory with the given machine cache: waits until it
 * says its warm-up is done (60 s at most), then creates one install and times it from the POST
 * to the first 200 of its home page, polled every 50 ms.
 */
async function firstInstall(cacheDir: string, cache: FirstInstall['cache']): Promise<FirstInstall> {
  const store = await benchStore({ WPFLEET_CACHE_DIR: cacheDir });
  let launched: LaunchedServer;
  try {
    launched = await launchServer(store.env, await freePort(), /Try it:/);
  } catch (err) {
    await store.dispose();
    throw err;
  }
  const t0 = performance.now();
  let warmUpMs = Number.NaN;
  let version: string | undefined;
  while (since(t0) < WAIT_MS) {
    version = WARMED_UP.exec(launched.recent())?.[1];
    if (version !== undefined) {
      warmUpMs = since(t0);
      break;
    }
    await sleep(100);
  }
  const releaseRoot = path.join(store.config.dataDir, 'releases', version ?? '', 'wordpress');
  const wp = await connect(store, launched, { releaseRoot, releaseAddMs: Number.NaN });
  try {
    const timing = await timeCreate(wp, 'firstinstall', 300_000);
    const render = await firstRenderMs(store.config.dataDir, timing.install.id);
    return { cache, warmUpMs, timing, firstRenderMs: render };
  } catch (err) {
    console.error(`the first install failed; the server's last output:\n${wp.recentOutput()}`);
    throw err;
  } finally {
    await wp.stop();
  }
}

/**
 * The first install on a fresh data directory, twice: with an empty machine cache (a new
 * user's first start: the release is fetched from Debian's packages, the tests' download cache
 * not used), then with the cache that run filled, as a second data directory on the machine
 * finds it.
 */
export async function firstInstallFigures(): Promise<FirstInstall[]> {
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-bench-cache-'));
  try {
    const cold = await firstInstall(cacheDir, 'cold');
    const warm = await firstInstall(cacheDir, 'warm');
    return [warm, cold];
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
}

const sec = (ms: number): string => (Number.isNaN(ms) ? 'n/a' : `${(ms / 1000).toFixed(2)} s`);

/** Prints the figures beside the median of the installs created on a data directory in use. */
export function printFirstInstall(figures: FirstInstall[], createMedianMs: number): void {
  console.log(
    `  first install on a fresh data directory, after the warm-up (create → first 200); ` +
      `median above on a data directory in use: ${sec(createMedianMs)}`,
  );
  for (const f of figures) {
    const t = f.timing;
    console.log(
      `    ${f.cache} machine cache: first 200 ${sec(t.first200Ms)} (database ready ` +
        `${sec(t.installedMs)}, first render ${f.firstRenderMs} ms), active ${sec(t.activeMs)}; ` +
        `warm-up done ${sec(f.warmUpMs)} after the start (waited for it, 60 s at most)`,
    );
  }
}
