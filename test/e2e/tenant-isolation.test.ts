import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MARIADB_URL, startHosted, type Hosted, type HostedInstall } from '../helpers/hosted.js';
import { siteRequest } from '../helpers/site.js';
import { treeState } from '../helpers/tree.js';

const PROBE = fs.readFileSync(new URL('../fixtures/php/sandbox-probe.php', import.meta.url));
/** Loads the probe inside WordPress, as any plugin's code runs: on `init`, on request. */
const LOADER = `<?php
if ( isset( $_GET['wpfleet_probe'] ) ) {
	add_action( 'init', function () {
		require WP_CONTENT_DIR . '/plugins/wpfleet-probe/probe.php';
		exit;
	} );
}
`;

const DATABASES: [string, Record<string, string>][] = [
  ['SQLite', {}],
  ['MariaDB', { WPFLEET_WP_DATABASE_URL: MARIADB_URL }],
];

/**
 * One tenant's plugin against the platform and its neighbours, on real WordPress served by
 * `wpfleet serve`: it tries to change the release every install shares, to read and write
 * another install's files and database by host path, `..` and symlinks, to run processes and to
 * reach loopback services and the database's admin account. Every attempt fails, and the other
 * install and the release are byte for byte what they were.
 */
describe.each(DATABASES)('tenant isolation on %s', (_database, env) => {
  let hosted: Hosted | undefined;
  let a: HostedInstall;
  let b: HostedInstall;
  let dataDir: string;
  const h = (): Hosted => {
    if (hosted === undefined) throw new Error('wpfleet serve did not start');
    return hosted;
  };
  const installDir = (i: HostedInstall) => path.join(dataDir, 'installs', i.id);
  const releaseDir = () => path.join(dataDir, 'releases', a.wp_version ?? '', 'wordpress');

  const probe = async (params: Record<string, string>) => {
    const query = new URLSearchParams({ wpfleet_probe: '1', ...params }).toString();
    const res = await siteRequest(h().serve.url, `${a.name}.localhost`, `/?${query}`);
    expect(res.status, res.body).toBe(200);
    return JSON.parse(res.body) as Record<string, unknown>;
  };

  beforeAll(async () => {
    hosted = await startHosted(env);
    dataDir = hosted.store.config.dataDir;
    const create = async (name: string) => {
      const created = await h().api<HostedInstall>('POST', '/v1/installs', {
        name,
        account_id: h().accountId,
      });
      expect(created.status).toBe(201);
      return h().waitActive(created.body.id);
    };
    [a, b] = await Promise.all([create('tenanta'), create('tenantb')]);
    const plugin = path.join(installDir(a), 'wp-content', 'plugins', 'wpfleet-probe');
    fs.mkdirSync(plugin, { recursive: true });
    fs.writeFileSync(path.join(plugin, 'probe.php'), PROBE);
    const mu = path.join(installDir(a), 'wp-content', 'mu-plugins');
    fs.writeFileSync(path.join(mu, 'wpfleet-probe-loader.php'), LOADER);
  });

  afterAll(async () => {
    await hosted?.stop();
  });

  it('cannot change the release, the other install, or leave a symlink', async () => {
    const release = treeState(releaseDir());
    const other = treeState(installDir(b));
    const r = await probe({ files: '1', other: installDir(b) });
    expect(r).toEqual({
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
      read_own_config: true,
      write_own_config: false,
      read_other_config_host_path: false,
      read_other_config_dotdot: false,
      read_other_db_host_path: false,
      write_other_content: false,
      write_other_content_dotdot: false,
      symlink_absolute: false,
      symlink_relative: false,
      symlink_into_release: false,
      read_via_link: false,
    });
    expect(treeState(releaseDir())).toEqual(release);
    expect(treeState(installDir(b))).toEqual(other);
    const links = Object.values(treeState(installDir(a))).filter((v) => v.startsWith('link:'));
    expect(links).toEqual([]);
    // What the probe tried to plant is served by neither install.
    for (const host of [a.name, b.name]) {
      const planted = await siteRequest(h().serve.url, `${host}.localhost`, '/wpfleet-probe.txt');
      expect(planted.status).not.toBe(200);
    }
    const home = await siteRequest(h().serve.url, `${b.name}.localhost`, '/');
    expect(home.status).toBe(200);
    expect(home.body).toContain('<meta name="generator" content="WordPress');
  });

  it('runs no process', async () => {
    expect(await probe({ processes: '1' })).toEqual({
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

  it('reaches neither the platform nor loopback, private or metadata addresses', async () => {
    const port = new URL(h().serve.url).port;
    expect(await probe({ network: '1', port, listen: '0' })).toMatchObject({
      loopback_service: false,
      loopback_by_name: false,
      private_10: false,
      metadata_169_254: false,
    });
  });

  it("reaches MySQL only as its own user, never as root or another install's user", async () => {
    const config = fs.readFileSync(path.join(installDir(b), 'wp-config.php'), 'utf8');
    const define = (name: string) =>
      new RegExp(`define\\(\\s*'${name}',\\s*'([^']*)'`).exec(config)?.[1] ?? '';
    const r = await probe({ mysql: '1', user: define('DB_USER'), password: define('DB_PASSWORD') });
    // On SQLite no install has MySQL at all; on MariaDB A's own WordPress just served from it.
    expect(r).toEqual({ given_user: 'refused', root: 'refused' });
  });
});
