import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PhpBusyError, type SiteMount } from '../../src/runtime/php/types.js';
import { WasmRuntime, type WasmPoolOptions } from '../../src/runtime/php/wasm/pool.js';
import { ensureBuilt } from '../helpers/cli.js';

/**
 * One capacity of PHP instances shared by any number of installs, on tiny PHP sites: each answers
 * with its own name (from its wp-content) and the instance's process id, and sleeps on request.
 */
describe('PHP instances shared by more installs than they number', () => {
  let dir: string;
  const sites = new Map<string, SiteMount>();
  let runtime: WasmRuntime | undefined;

  beforeAll(async () => {
    await ensureBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-capacity-'));
    const core = path.join(dir, 'core');
    fs.mkdirSync(path.join(core, 'wp-content'), { recursive: true });
    fs.writeFileSync(
      path.join(core, 'index.php'),
      `<?php if (isset($_GET['sleep'])) { sleep((int) $_GET['sleep']); }
echo trim(file_get_contents(__DIR__ . '/wp-content/name.txt')) . ' ' . getmypid();`,
    );
    fs.writeFileSync(path.join(dir, 'wp-config.php'), '<?php');
    for (const name of ['one', 'two', 'three', 'four', 'five']) {
      const content = path.join(dir, name);
      fs.mkdirSync(content);
      fs.writeFileSync(path.join(content, 'name.txt'), name);
      sites.set(name, {
        installId: `capacity-${name}`,
        phpVersion: '8.3',
        releaseDir: core,
        contentDir: content,
        configFile: path.join(dir, 'wp-config.php'),
        absoluteUrl: `http://${name}.localhost`,
      });
    }
  });

  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
  });

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const start = (options: Partial<WasmPoolOptions>): WasmRuntime => {
    runtime = new WasmRuntime({
      perInstall: 1,
      total: 2,
      idleMs: 60_000,
      timeoutMs: 60_000,
      queueMs: 60_000,
      ...options,
    });
    return runtime;
  };
  const site = (name: string): SiteMount => {
    const s = sites.get(name);
    if (s === undefined) throw new Error(`no site ${name}`);
    return s;
  };
  /** The install's answer: its name and the process id of the instance that served it. */
  const visit = async (r: WasmRuntime, name: string, query = ''): Promise<{ pid: number }> => {
    const res = await r.request(site(name), { method: 'GET', url: `/${query}`, headers: {} });
    const [served, pid] = Buffer.from(res.body).toString('utf8').split(' ');
    expect(res.status).toBe(200);
    expect(served).toBe(name);
    return { pid: Number(pid) };
  };

  it('serves five installs in turn, twice round, on two instances', async () => {
    const r = start({ total: 2 });
    const pids: number[] = [];
    for (let round = 0; round < 2; round++) {
      for (const name of ['one', 'two', 'three', 'four', 'five'])
        pids.push((await visit(r, name)).pid);
    }
    // Round and round, the next install is always the least recently used one: each visit
    // after the first two took the place of the instance two visits before it.
    expect(new Set(pids).size).toBe(10);
    expect(r.stats()).toMatchObject({ instances: 2, activeInstalls: 2, queued: 0, evictions: 8 });
  });

  it('evicts the least recently used idle instance', async () => {
    const r = start({ total: 2 });
    const one = await visit(r, 'one');
    const two = await visit(r, 'two');
    expect((await visit(r, 'one')).pid).toBe(one.pid);
    // "two" was used less recently than "one": it goes.
    const three = await visit(r, 'three');
    expect((await visit(r, 'one')).pid).toBe(one.pid);
    expect((await visit(r, 'two')).pid).not.toBe(two.pid);
    // Now "three" is the least recently used.
    expect((await visit(r, 'one')).pid).toBe(one.pid);
    expect((await visit(r, 'three')).pid).not.toBe(three.pid);
    expect(r.stats().evictions).toBe(3);
  });

  it('gives up a spare before evicting an install', async () => {
    const r = start({ total: 2 });
    const one = await visit(r, 'one');
    r.prewarm({ phpVersion: '8.3', releaseDir: site('one').releaseDir });
    expect(r.stats().instances).toBe(2);
    // Another PHP version: the spare does not fit it, so it makes room.
    const res = await r.request(
      { ...site('two'), phpVersion: '8.2' },
      { method: 'GET', url: '/', headers: {} },
    );
    expect(res.status).toBe(200);
    expect((await visit(r, 'one')).pid).toBe(one.pid);
    expect(r.stats()).toMatchObject({ instances: 2, evictions: 0 });
  });

  it('fails a request with PhpBusyError after the queue timeout while all are busy', async () => {
    const r = start({ total: 2, queueMs: 1000 });
    const busy = [visit(r, 'one', '?sleep=4'), visit(r, 'two', '?sleep=4')];
    await expect(visit(r, 'three')).rejects.toBeInstanceOf(PhpBusyError);
    expect(r.stats().queued).toBe(0);
    // The busy ones were not disturbed, and once they are done there is room again.
    await Promise.all(busy);
    await visit(r, 'three');
    expect(r.stats()).toMatchObject({ queued: 0, evictions: 1 });
  });

  it('serves a waiting request as soon as another install frees its instance', async () => {
    const r = start({ total: 2 });
    const done: string[] = [];
    const track = (name: string, query = ''): Promise<void> =>
      visit(r, name, query).then(() => {
        done.push(name);
      });
    const all = [track('one', '?sleep=2'), track('two', '?sleep=2'), track('three')];
    expect(r.stats().queued).toBe(1);
    await Promise.all(all);
    expect(done[2]).toBe('three');
    expect(r.stats()).toMatchObject({ queued: 0, evictions: 1 });
  });

  it('serves waiters of different installs in the order they came', async () => {
    const r = start({ total: 1 });
    const done: string[] = [];
    const track = (name: string, query = ''): Promise<void> =>
      visit(r, name, query).then(() => {
        done.push(name);
      });
    const all = [track('one', '?sleep=1'), track('two', '?sleep=1'), track('three'), track('one')];
    await Promise.all(all);
    expect(done).toEqual(['one', 'two', 'three', 'one']);
    expect(r.stats().evictions).toBe(3);
  });
});
