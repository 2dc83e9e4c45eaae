import fs from 'node:fs';
import path from 'node:path';
import { siteLayout } from '../../src/runtime/sites/site-files.js';
import { since, sleep } from './http.js';
import { createInstall, type Install, type WordPressServer } from './wordpress.js';

export interface CreateTiming {
  install: Install;
  /** POST /v1/installs answered 201. */
  postMs: number;
  /** The install's files (wp-config.php, wp-content) are in place: the job has started. */
  filesMs: number;
  /** The API first showed a wp_version: the install's database is installed (template or installer). */
  installedMs: number;
  /** The first 200 of the home page through the edge (polled every 50 ms). */
  first200Ms: number;
  /** The API first showed status active. */
  activeMs: number;
  /** Status codes the edge answered while polling, with their counts. */
  edgeStatuses: Map<number, number>;
}

const POLL_MS = 50;

/** Polls `probe` on a 50 ms grid from `t0` until it returns true or the deadline passes. */
async function pollFrom(
  t0: number,
  deadline: number,
  probe: () => Promise<boolean>,
): Promise<void> {
  let tick = 0;
  while (performance.now() < deadline) {
    if (await probe()) return;
    tick += 1;
    await sleep(Math.max(0, t0 + tick * POLL_MS - performance.now()));
  }
  throw new Error('timed out polling the new install');
}

/**
 * Creates an install and times it: from sending the POST to the first 200 of its home page
 * through the edge, with what the API shows on the way.
 */
export async function timeCreate(
  wp: WordPressServer,
  name: string,
  timeoutMs: number,
): Promise<CreateTiming> {
  const t0 = performance.now();
  const deadline = t0 + timeoutMs;
  const install = await createInstall(wp, name);
  const postMs = since(t0);
  const edgeStatuses = new Map<number, number>();
  let first200Ms = Number.NaN;
  let filesMs = Number.NaN;
  let installedMs = Number.NaN;
  const configFile = siteLayout(wp.store.config.dataDir, install.id).configFile;
  let activeMs = Number.NaN;
  await Promise.all([
    pollFrom(t0, deadline, async () => {
      const r = await wp.site(name, '/').catch(() => undefined);
      const status = r?.status ?? 0;
      edgeStatuses.set(status, (edgeStatuses.get(status) ?? 0) + 1);
      if (status !== 200) return false;
      first200Ms = since(t0);
      return true;
    }),
    pollFrom(t0, deadline, async () => {
      if (Number.isNaN(filesMs) && fs.existsSync(configFile)) filesMs = since(t0);
      const r = await wp.api<Install>('GET', `/v1/installs/${install.id}`);
      if (r.body.wp_version !== null && Number.isNaN(installedMs)) installedMs = since(t0);
      if (r.body.status !== 'active') return false;
      activeMs = since(t0);
      return true;
    }),
  ]);
  return { install, postMs, filesMs, installedMs, first200Ms, activeMs, edgeStatuses };
}

/**
 * How long the edge took (server side, from the install's access log) to answer the first 200
 * of `/`: the first page WordPress rendered, on the PHP instance the installer booted.
 */
export async function firstRenderMs(dataDir: string, installId: string): Promise<number> {
  const file = path.join(dataDir, 'logs', `${installId}.access.log`);
  // The edge writes its log lines in batches, every 100 ms: give the line a moment to land.
  for (let waited = 0; waited <= 1000; waited += POLL_MS) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    for (const line of text.split('\n')) {
      const m = /"GET \/ HTTP\/[\d.]+" 200 .* (\d+)ms$/.exec(line);
      if (m !== null) return Number(m[1]);
    }
    await sleep(POLL_MS);
  }
  return Number.NaN;
}
