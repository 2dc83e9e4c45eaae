import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/composition.js';
import type { JobRow } from '../../src/core/jobs/jobs.repository.js';
import { startHosted, type Hosted, type HostedInstall } from '../helpers/hosted.js';
import { siteRequest, waitFor } from '../helpers/site.js';

/** Installs requested at once, more than the runner provisions at a time (2). */
const INSTALLS = 6;
/**
 * SIGKILLs of serve's process group, each once a provisioning job has run a moment after serve
 * started (or at most this long after it): a fixed delay alone let the installs finish between
 * kills on a fast run, and the kills then tested restarts of an idle server.
 */
const KILLS = 5;
const RUN_BEFORE_KILL_MS = 3000;
const RUNNING_BEFORE_KILL_MS = 400;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Whether any process of the group is left (signal 0 to the group tests without sending). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function provisionJobs(hosted: Hosted, ids: string[]): Promise<JobRow[]> {
  const app = await createApp(hosted.store.config);
  try {
    const jobs: JobRow[] = [];
    for (const id of ids) jobs.push(...(await app.store.read.jobs.listForTarget(id)));
    return jobs.filter((j) => j.type === 'install.provision');
  } finally {
    await app.close();
  }
}

/** Waits until a provisioning job has been running for `runningMs`, or `maxMs` have passed. */
async function untilProvisioning(
  hosted: Hosted,
  ids: string[],
  runningMs: number,
  maxMs: number,
): Promise<void> {
  const deadline = Date.now() + maxMs;
  let seenRunning: number | null = null;
  while (Date.now() < deadline) {
    const running = (await provisionJobs(hosted, ids)).some((j) => j.state === 'running');
    if (!running) seenRunning = null;
    else {
      seenRunning ??= Date.now();
      if (Date.now() - seenRunning >= runningMs) return;
    }
    await sleep(100);
  }
}

/**
 * The scenario: installs requested, then the server's whole process group killed with
 * SIGKILL again and again while they are provisioned, restarted each time as a supervisor
 * would. A restart is not the install's fault: every install must end up active and serving.
 */
describe('installs provisioned while the server is killed and restarted again and again', () => {
  let hosted: Hosted | undefined;
  const h = (): Hosted => {
    if (hosted === undefined) throw new Error('wpfleet serve did not start');
    return hosted;
  };

  beforeAll(async () => {
    hosted = await startHosted({}, { ownProcessGroup: true });
  });

  afterAll(async () => {
    await hosted?.stop();
  });

  it(`makes every install active after ${KILLS} SIGKILLs of the process group during provisioning`, async () => {
    const names = Array.from({ length: INSTALLS }, (_, i) => `restart${i + 1}`);
    const ids: string[] = [];
    for (const name of names) {
      const created = await h().api<HostedInstall>('POST', '/v1/installs', {
        name,
        account_id: h().accountId,
      });
      expect(created.status).toBe(201);
      ids.push(created.body.id);
    }

    const pendingAtKill: number[] = [];
    for (let kill = 0; kill < KILLS; kill += 1) {
      await untilProvisioning(h(), ids, RUNNING_BEFORE_KILL_MS, RUN_BEFORE_KILL_MS);
      const statuses = await Promise.all(
        ids.map(async (id) => (await h().api<HostedInstall>('GET', `/v1/installs/${id}`)).body),
      );
      pendingAtKill.push(statuses.filter((i) => i.status === 'pending').length);
      const pgid = h().serve.child.pid ?? 0;
      h().serve.killGroup();
      expect((await h().serve.exited).signal).toBe('SIGKILL');
      // Nothing of the killed server outlives it, its PHP host included (once reaped).
      await waitFor(
        'the killed process group to be gone',
        () => Promise.resolve(groupAlive(pgid) ? undefined : true),
        10_000,
        50,
      );
      await h().restart();
    }
    // The kills came while installs were being provisioned, not after.
    expect(pendingAtKill[0]).toBe(INSTALLS);
    expect(pendingAtKill.filter((n) => n > 0).length).toBeGreaterThanOrEqual(3);

    for (const [i, id] of ids.entries()) {
      const active = await h().waitActive(id, 240_000);
      expect(active.status).toBe('active');
      expect(active.wp_version).toBe('6.1.9');
      const page = await siteRequest(h().serve.url, `${names[i] ?? ''}.localhost`, '/', {
        headers: { 'cache-control': 'no-cache' },
      });
      expect(page.status).toBe(200);
      expect(page.body).toContain('content="WordPress 6.1.9"');
    }

    const jobs = await provisionJobs(h(), ids);
    expect(jobs.map((j) => j.state)).toEqual(ids.map(() => 'succeeded'));
    // Restarts interrupted provisioning, and none of them used up an attempt.
    expect(jobs.filter((j) => j.interruptions > 0).length).toBeGreaterThan(0);
    expect(jobs.every((j) => j.attempts === 1)).toBe(true);
  }, 400_000);
});
