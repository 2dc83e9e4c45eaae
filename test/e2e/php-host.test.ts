import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHosted, type Hosted, type HostedInstall } from '../helpers/hosted.js';
import { alive } from '../helpers/processes.js';
import { siteRequest, waitFor } from '../helpers/site.js';

/** The PHP host processes among a process's children (their command line names host.js). */
function phpHosts(pid: number): number[] {
  const hosts: number[] = [];
  for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
    const children = fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
    for (const child of children.split(' ').filter((c) => c.trim() !== '')) {
      const cmdline = fs.readFileSync(`/proc/${child}/cmdline`, 'utf8');
      if (cmdline.includes('runtime/php/wasm/host.js')) hosts.push(Number(child));
    }
  }
  return hosts;
}

/**
 * The PHP host process of a real `wpfleet serve`: it runs while WordPress is served, it exits
 * when its installs idle out, and it does not outlive a server killed with SIGKILL.
 */
describe('the PHP host process', () => {
  let hosted: Hosted | undefined;
  let install: HostedInstall;

  const h = (): Hosted => {
    if (hosted === undefined) throw new Error('wpfleet serve did not start');
    return hosted;
  };
  // Past the page cache, so that PHP answers.
  const home = () =>
    siteRequest(h().serve.url, `${install.name}.localhost`, '/', {
      headers: { 'cache-control': 'no-cache' },
    });

  beforeAll(async () => {
    hosted = await startHosted({ WPFLEET_PHP_IDLE_SECONDS: '2' });
    const made = await h().api<HostedInstall>('POST', '/v1/installs', {
      name: 'phphost',
      account_id: h().accountId,
    });
    expect(made.status).toBe(201);
    install = await h().waitActive(made.body.id);
  });

  afterAll(async () => {
    await hosted?.stop();
  });

  it('serves WordPress from one host process and ends it when the install idles out', async () => {
    expect((await home()).status).toBe(200);
    const pid = h().serve.child.pid ?? 0;
    const [host] = phpHosts(pid);
    expect(host).toBeGreaterThan(0);
    await waitFor(
      'the idle host process to exit',
      () => Promise.resolve(alive(host ?? 0) ? undefined : true),
      20_000,
    );
    expect(phpHosts(pid)).toEqual([]);
  });

  it('does not outlive a server killed with SIGKILL, and a restarted server serves again', async () => {
    expect((await home()).status).toBe(200);
    const [host] = phpHosts(h().serve.child.pid ?? 0);
    expect(host).toBeGreaterThan(0);
    h().serve.child.kill('SIGKILL');
    await h().serve.exited;
    await waitFor(
      'the orphaned host process to exit',
      () => Promise.resolve(alive(host ?? 0) ? undefined : true),
      10_000,
    );
    await h().restart();
    expect((await home()).status).toBe(200);
  });
});
