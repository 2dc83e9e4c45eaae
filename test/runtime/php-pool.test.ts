import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PhpCrashError, PhpTimeoutError, WasmRuntime } from '../../src/runtime/php/wasm/pool.js';
import type { SiteMount } from '../../src/runtime/php/types.js';
import { ensureBuilt } from '../helpers/cli.js';
import { alive } from '../helpers/processes.js';
import { waitFor } from '../helpers/site.js';

/** The pool's promises on a tiny PHP site: no WordPress needed to make PHP hang or die. */
describe('the php-wasm pool', () => {
  let dir: string;
  let site: SiteMount;
  let runtime: WasmRuntime;
  const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

  beforeAll(async () => {
    await ensureBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-pool-'));
    const core = path.join(dir, 'core');
    fs.mkdirSync(path.join(core, 'wp-content'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'content'));
    fs.writeFileSync(
      path.join(core, 'index.php'),
      `<?php if (isset($_GET['sleep'])) { sleep((int) $_GET['sleep']); } echo 'php ' . PHP_VERSION . ' ' . getmypid();`,
    );
    fs.writeFileSync(path.join(dir, 'wp-config.php'), '<?php');
    site = {
      installId: 'pool-test',
      phpVersion: '8.3',
      releaseDir: core,
      contentDir: path.join(dir, 'content'),
      configFile: path.join(dir, 'wp-config.php'),
      absoluteUrl: 'http://pool.localhost',
    };
    runtime = new WasmRuntime({
      perInstall: 1,
      total: 2,
      idleMs: 1500,
      timeoutMs: 4000,
      queueMs: 30_000,
    });
  });

  afterAll(async () => {
    await runtime.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const get = (url: string) =>
    runtime.request(site, { method: 'GET', url, headers: { host: 'pool.localhost' } });

  it('serves PHP from a worker thread of its host process', async () => {
    const res = await get('/');
    expect(res.status).toBe(200);
    expect(text(res.body)).toMatch(/^php 8\.3\./);
    expect(runtime.stats()).toMatchObject({ activeInstalls: 1, instances: 1 });
  });

  it('replaces a hung instance and answers the next request', async () => {
    await expect(get('/?sleep=30')).rejects.toBeInstanceOf(PhpTimeoutError);
    const next = await get('/');
    expect(next.status).toBe(200);
  });

  it('survives an instance killed mid-request', async () => {
    const slow = expect(get('/?sleep=3')).rejects.toBeInstanceOf(PhpCrashError);
    // Let the request reach PHP, then kill the instance under it.
    await new Promise((r) => setTimeout(r, 500));
    await runtime.unload(site.installId);
    await slow;
    expect((await get('/')).status).toBe(200);
  });

  it('survives its PHP host process killed mid-request', async () => {
    const slow = expect(get('/?sleep=3')).rejects.toBeInstanceOf(PhpCrashError);
    await new Promise((r) => setTimeout(r, 500));
    const pid = runtime.hostPid;
    expect(pid).toBeGreaterThan(0);
    process.kill(pid ?? 0, 'SIGKILL');
    await slow;
    expect((await get('/')).status).toBe(200);
    expect(runtime.hostPid).not.toBe(pid);
  });

  it('queues requests beyond the per-install limit instead of failing them', async () => {
    const answers = await Promise.all([get('/?sleep=1'), get('/'), get('/')]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(runtime.stats().instances).toBe(1);
  });

  it('runs another PHP version after a change, and unloads idle installs', async () => {
    const res = await runtime.request(
      { ...site, phpVersion: '8.2' },
      { method: 'GET', url: '/', headers: {} },
    );
    expect(text(res.body)).toMatch(/^php 8\.2\./);
    await waitFor(
      'the idle install to unload',
      () => Promise.resolve(runtime.stats().instances === 0 ? true : undefined),
      10_000,
    );
    expect(runtime.stats().activeInstalls).toBe(0);
  });

  it('ends the PHP host process, and all its memory, with the last instance', async () => {
    expect((await get('/')).status).toBe(200);
    const pid = runtime.hostPid ?? 0;
    expect(alive(pid)).toBe(true);
    await runtime.unload(site.installId);
    expect(runtime.hostPid).toBeUndefined();
    await waitFor(
      'the host process to exit',
      () => Promise.resolve(alive(pid) ? undefined : true),
      10_000,
    );
  });
});
