import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WasmRuntime } from '../../src/runtime/php/wasm/pool.js';
import type { RefusedConnection, SiteMount } from '../../src/runtime/php/types.js';
import { ensureBuilt } from '../helpers/cli.js';
import { MARIADB_URL } from '../helpers/hosted.js';
import { treeState } from '../helpers/tree.js';

/**
 * What PHP running in one install can do to the platform, the shared release and other
 * installs: a probe in install A's wp-content tries every way out the issue names and reports.
 * No WordPress is needed for the sandbox itself (php-site.ts, sandbox-fs.ts, network-gate.ts);
 * test/e2e/tenant-isolation.test.ts repeats the probe inside real WordPress.
 */
describe('the php-wasm sandbox', () => {
  let dir: string;
  let release: string;
  let siteA: SiteMount;
  let siteB: SiteMount;
  let runtime: WasmRuntime;
  let listener: net.Server;
  let listenerPort: number;
  const connections: string[] = [];
  const refused: RefusedConnection[] = [];
  const dbUser = `wpfsbx_${randomBytes(3).toString('hex')}`;
  const dbPassword = randomBytes(12).toString('hex');
  const admin = async <T>(
    work: (c: Awaited<ReturnType<typeof createConnection>>) => Promise<T>,
  ) => {
    const c = await createConnection({ uri: MARIADB_URL });
    try {
      return await work(c);
    } finally {
      await c.end();
    }
  };

  const probe = async (site: SiteMount, params: Record<string, string>) => {
    const query = new URLSearchParams(params).toString();
    const res = await runtime.request(site, {
      method: 'GET',
      url: `/wp-content/probe.php?${query}`,
      headers: { host: 'a.localhost' },
    });
    const text = Buffer.from(res.body).toString('utf8');
    expect(res.status, text).toBe(200);
    return JSON.parse(text) as Record<string, unknown>;
  };

  beforeAll(async () => {
    await ensureBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-sandbox-'));
    release = path.join(dir, 'release');
    fs.mkdirSync(path.join(release, 'wp-includes'), { recursive: true });
    fs.mkdirSync(path.join(release, 'wp-content'));
    fs.writeFileSync(path.join(release, 'index.php'), '<?php echo "core";');
    fs.writeFileSync(path.join(release, 'wp-includes', 'version.php'), '<?php $v = 1;');
    const install = (name: string): SiteMount => {
      const root = path.join(dir, 'installs', name);
      fs.mkdirSync(path.join(root, 'wp-content', 'uploads'), { recursive: true });
      fs.mkdirSync(path.join(root, 'wp-content', 'database'));
      fs.writeFileSync(path.join(root, 'wp-config.php'), `<?php define('SECRET', '${name}');`);
      fs.writeFileSync(path.join(root, 'wp-content', 'database', '.ht.sqlite'), `db of ${name}`);
      return {
        installId: `sandbox-${name}`,
        phpVersion: '8.3',
        releaseDir: release,
        contentDir: path.join(root, 'wp-content'),
        configFile: path.join(root, 'wp-config.php'),
        absoluteUrl: `http://${name}.localhost`,
      };
    };
    siteA = {
      ...install('a'),
      database: { host: '127.0.0.1', port: 3306, user: dbUser },
    };
    siteB = install('b');
    fs.copyFileSync(
      new URL('../fixtures/php/sandbox-probe.php', import.meta.url),
      path.join(siteA.contentDir, 'probe.php'),
    );
    listener = net.createServer((socket) => {
      connections.push(String(socket.remotePort));
      socket.end('hello\n');
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    listenerPort = (listener.address() as net.AddressInfo).port;
    await admin(async (c) => {
      await c.query(`CREATE USER ${c.escape(dbUser)}@'%' IDENTIFIED BY ${c.escape(dbPassword)}`);
    });
    runtime = new WasmRuntime({
      perInstall: 1,
      total: 2,
      idleMs: 60_000,
      timeoutMs: 30_000,
      onRefused: (c) => refused.push(c),
    });
  });

  afterAll(async () => {
    await runtime.close();
    await new Promise((resolve) => listener.close(resolve));
    await admin((c) => c.query(`DROP USER IF EXISTS ${c.escape(dbUser)}@'%'`));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('cannot change the shared release, its own wp-config.php, or make a symlink', async () => {
    const releaseBefore = treeState(release);
    const configBefore = fs.readFileSync(siteA.configFile, 'utf8');
    const b = path.dirname(siteB.configFile);
    const r = await probe(siteA, { files: '1', other: b });
    expect(r).toMatchObject({
      // Its own wp-content is writable, so the checks below are not failing for another reason.
      write_own_content: true,
      write_release_new: false,
      write_release_core: false,
      append_release_core: false,
      open_release_rw: false,
      truncate_release_core: false,
      unlink_release_core: false,
      rename_release_core: false,
      mkdir_release: false,
      rmdir_release: false,
      touch_release: false,
      chmod_release: false,
      write_own_config: false,
      read_own_config: true,
      symlink_absolute: false,
      symlink_relative: false,
      symlink_into_release: false,
    });
    expect(treeState(release)).toEqual(releaseBefore);
    expect(fs.readFileSync(siteA.configFile, 'utf8')).toBe(configBefore);
    const links = Object.entries(treeState(siteA.contentDir)).filter(([, v]) =>
      v.startsWith('link:'),
    );
    expect(links).toEqual([]);
  });

  it('sees nothing of another install, by host path, `..` or a link', async () => {
    const bBefore = treeState(path.dirname(siteB.configFile));
    const r = await probe(siteA, { files: '1', other: path.dirname(siteB.configFile) });
    expect(r).toMatchObject({
      read_other_config_host_path: false,
      read_other_config_dotdot: false,
      read_other_db_host_path: false,
      write_other_content: false,
      write_other_content_dotdot: false,
      read_via_link: false,
    });
    expect(treeState(path.dirname(siteB.configFile))).toEqual(bBefore);
    // B still runs its own config.
    fs.writeFileSync(
      path.join(siteB.contentDir, 'secret.php'),
      "<?php require '/wp-config.php'; echo SECRET;",
    );
    const res = await runtime.request(siteB, {
      method: 'GET',
      url: '/wp-content/secret.php',
      headers: {},
    });
    expect(Buffer.from(res.body).toString()).toBe('b');
  });

  it('runs no process', async () => {
    const r = await probe(siteA, { processes: '1' });
    expect(r).toEqual({
      exec: false,
      passthru: false,
      pcntl_exec: false,
      popen: false,
      proc_open: false,
      shell_exec: false,
      system: false,
      calls: 'refused',
      disable_functions_changed: false,
    });
  });

  it('reaches no loopback, private or link-local address, and cannot listen', async () => {
    const listenPort = await freePort();
    const r = await probe(siteA, {
      network: '1',
      port: String(listenerPort),
      listen: String(listenPort),
    });
    expect(r).toMatchObject({
      loopback_service: false,
      loopback_by_name: false,
      private_10: false,
      metadata_169_254: false,
      listen: false,
    });
    expect(connections).toEqual([]);
    // Nothing listens on the port PHP asked for.
    await expect(connectTo(listenPort)).rejects.toThrow();
    expect(refused.map((c) => `${c.installId} ${c.host}:${c.port}`)).toEqual(
      expect.arrayContaining([
        `sandbox-a 127.0.0.1:${listenerPort}`,
        `sandbox-a 169.254.169.254:80`,
      ]),
    );
  });

  it("logs in to MySQL only as the install's own user", async () => {
    const r = await probe(siteA, { mysql: '1', user: dbUser, password: dbPassword });
    expect(r).toMatchObject({ given_user: 'connected', root: 'refused' });
    expect(refused.some((c) => c.reason.includes('logging in to MySQL as "root"'))).toBe(true);
  });

  it('gives an install without a database no MySQL at all', async () => {
    fs.copyFileSync(
      path.join(siteA.contentDir, 'probe.php'),
      path.join(siteB.contentDir, 'probe.php'),
    );
    const r = await probe(siteB, { mysql: '1', user: dbUser, password: dbPassword });
    expect(r).toMatchObject({ given_user: 'refused', root: 'refused' });
  });

  it('opens private blocks the operator allows', async () => {
    const open = new WasmRuntime({
      perInstall: 1,
      total: 1,
      idleMs: 60_000,
      timeoutMs: 30_000,
      networkAllow: ['127.0.0.1/32'],
    });
    try {
      const res = await open.request(siteA, {
        method: 'GET',
        url: `/wp-content/probe.php?network=1&port=${listenerPort}&listen=0`,
        headers: {},
      });
      const r = JSON.parse(Buffer.from(res.body).toString()) as Record<string, unknown>;
      expect(r).toMatchObject({ loopback_service: 'hello', metadata_169_254: false });
      expect(connections.length).toBeGreaterThan(0);
    } finally {
      await open.close();
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => {
        resolve(port);
      });
    });
  });
}

function connectTo(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.end();
      resolve();
    });
    socket.on('error', reject);
  });
}
