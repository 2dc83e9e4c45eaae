import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MysqlAdmin } from '../../src/runtime/databases/mysql-admin.js';
import type { PhpRuntime, PhpScriptResult, SiteMount } from '../../src/runtime/php/types.js';
import { Provisioner } from '../../src/runtime/provision/provisioner.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-warm-'));
  dirs.push(dir);
  return dir;
}

/** A runtime that answers WordPress's installer script after a pause, and counts what it ran. */
function fakeRuntime(): PhpRuntime & { scripts: SiteMount[]; spares: unknown[] } {
  const scripts: SiteMount[] = [];
  const spares: unknown[] = [];
  return {
    kind: 'fake',
    versions: ['8.3'],
    scripts,
    spares,
    request: () => Promise.reject(new Error('no requests in this test')),
    async runScript(site: SiteMount): Promise<PhpScriptResult> {
      scripts.push(site);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const result = { installed: true, wp_version: '6.1.9', php_version: '8.3.0' };
      return { exitCode: 0, stdout: JSON.stringify(result), stderr: '' };
    },
    prewarm: (base) => spares.push(base),
    unload: () => Promise.resolve(),
    stats: () => ({ activeInstalls: 0, instances: 0, queued: 0, evictions: 0 }),
    close: () => Promise.resolve(),
  };
}

/** A provisioner over a tiny release; only what the warm-up touches is real. */
function provisioner(
  runtime: PhpRuntime,
  mysql: MysqlAdmin | null,
  release: (dir: string) => Promise<{ version: string; dir: string }> = (dir) =>
    Promise.resolve({ version: '6.1.9', dir }),
) {
  const dataDir = tmp();
  const releaseDir = path.join(dataDir, 'releases', '6.1.9', 'wordpress');
  fs.mkdirSync(path.join(releaseDir, 'wp-content'), { recursive: true });
  const plugin = path.join(dataDir, 'plugins', 'sqlite-database-integration');
  fs.mkdirSync(plugin, { recursive: true });
  fs.writeFileSync(path.join(plugin, 'db.copy'), '<?php // {SQLITE_IMPLEMENTATION_FOLDER_PATH}');
  const agentFile = path.join(dataDir, 'agent.php');
  fs.writeFileSync(agentFile, '<?php');
  const calls = { ensure: 0, plugin: 0 };
  const p = new Provisioner({
    store: undefined as never,
    installs: undefined as never,
    runtime,
    releases: {
      ensure: () => {
        calls.ensure += 1;
        return release(releaseDir);
      },
      dir: (version) => path.join(dataDir, 'releases', version, 'wordpress'),
      sqlitePlugin: () => {
        calls.plugin += 1;
        return Promise.resolve(plugin);
      },
    },
    edge: {
      origin: (host) => `http://${host}`,
      get: () => Promise.reject(new Error('no edge in this test')),
    },
    dataDir,
    agentFile,
    mysql,
    templatePhpVersion: '8.3',
  });
  return { p, dataDir, releaseDir, calls };
}

describe('Provisioner.warmUp', () => {
  it('readies the release, one template however many ask at once, and a spare PHP', async () => {
    const runtime = fakeRuntime();
    const { p, dataDir, releaseDir, calls } = provisioner(runtime, null);
    const [a, b] = await Promise.all([p.warmUp(), p.warmUp()]);
    expect(a).toEqual({ version: '6.1.9', template: true });
    expect(b).toEqual(a);
    // WordPress's installer ran once, for the template; the second caller waited for it.
    expect(runtime.scripts).toHaveLength(1);
    expect(runtime.scripts[0]).toMatchObject({ phpVersion: '8.3', releaseDir });
    expect(calls.ensure).toBe(2);
    const template = path.join(dataDir, 'templates', 'wordpress-6.1.9-sqlite', 'template.json');
    expect(JSON.parse(fs.readFileSync(template, 'utf8'))).toEqual({ wp_version: '6.1.9' });
    expect(runtime.spares).toEqual([
      { phpVersion: '8.3', releaseDir },
      { phpVersion: '8.3', releaseDir },
    ]);

    // Once built, the template is found, not built again.
    await p.warmUp();
    expect(runtime.scripts).toHaveLength(1);
  });

  it('with MySQL as WordPress database, readies the release and a spare but no template', async () => {
    const runtime = fakeRuntime();
    const { p, dataDir, releaseDir, calls } = provisioner(
      runtime,
      new MysqlAdmin('mysql://root@127.0.0.1:1'),
    );
    expect(await p.warmUp()).toEqual({ version: '6.1.9', template: false });
    expect(calls).toEqual({ ensure: 1, plugin: 0 });
    expect(runtime.scripts).toEqual([]);
    expect(fs.existsSync(path.join(dataDir, 'templates'))).toBe(false);
    expect(runtime.spares).toEqual([{ phpVersion: '8.3', releaseDir }]);
  });

  it('fails when the release cannot be had, building nothing', async () => {
    const runtime = fakeRuntime();
    const { p, dataDir } = provisioner(runtime, null, () =>
      Promise.reject(new Error('no release')),
    );
    await expect(p.warmUp()).rejects.toThrow('no release');
    expect(runtime.scripts).toEqual([]);
    expect(runtime.spares).toEqual([]);
    expect(fs.existsSync(path.join(dataDir, 'templates'))).toBe(false);
  });
});
