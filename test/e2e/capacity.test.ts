import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { siteLayout } from '../../src/runtime/sites/site-files.js';
import { startHosted, type Hosted, type HostedInstall } from '../helpers/hosted.js';
import { siteRequest, waitFor } from '../helpers/site.js';

const NAMES = ['cap1', 'cap2', 'cap3', 'cap4', 'cap5'];

/**
 * More installs than PHP instances on a real `wpfleet serve` (WPFLEET_PHP_TOTAL=2): every install
 * is provisioned and served in turn, idle instances of other installs making room; a request
 * that finds both instances busy gets a 503 with Retry-After once its queue wait (3 s) is over.
 */
describe('five WordPress installs on two PHP instances', () => {
  let hosted: Hosted | undefined;
  let installs: HostedInstall[] = [];

  const h = (): Hosted => {
    if (hosted === undefined) throw new Error('wpfleet serve did not start');
    return hosted;
  };
  // Past the page cache, so that PHP answers.
  const get = (name: string, p = '/') =>
    siteRequest(h().serve.url, `${name}.localhost`, p, {
      headers: { 'cache-control': 'no-cache' },
    });

  beforeAll(async () => {
    hosted = await startHosted({ WPFLEET_PHP_TOTAL: '2', WPFLEET_PHP_QUEUE_SECONDS: '3' });
    const made = await Promise.all(
      NAMES.map((name) =>
        h().api<HostedInstall>('POST', '/v1/installs', { name, account_id: h().accountId }),
      ),
    );
    expect(made.map((m) => m.status)).toEqual(NAMES.map(() => 201));
    installs = await Promise.all(made.map((m) => h().waitActive(m.body.id)));
  });

  afterAll(async () => {
    await hosted?.stop();
  });

  it('provisions all five and serves each home page in turn, twice round', async () => {
    expect(installs.map((i) => i.status)).toEqual(NAMES.map(() => 'active'));
    for (let round = 0; round < 2; round++) {
      for (const name of NAMES) {
        const home = await get(name);
        expect(home.status, `${name}, round ${round + 1}`).toBe(200);
        expect(home.body).toContain('<meta name="generator" content="WordPress');
        expect(home.body).toContain(`<title>${name}`);
      }
    }
  });

  it('answers 503 with Retry-After while both instances are busy, and serves again after', async () => {
    const dataDir = h().store.config.dataDir;
    // A page that says it has started, then keeps its instance busy until the test lets it go.
    const slow = installs.slice(0, 2).map((install) => {
      const content = siteLayout(dataDir, install.id).contentDir;
      fs.writeFileSync(
        path.join(content, 'slow.php'),
        `<?php file_put_contents(__DIR__ . '/slow-started', '1');
for ($i = 0; $i < 1200; $i++) { clearstatcache(); if (file_exists(__DIR__ . '/slow-release')) break; usleep(50000); }
echo 'released';`,
      );
      return { install, content, answer: get(install.name, '/wp-content/slow.php') };
    });
    for (const s of slow) {
      await waitFor(
        `${s.install.name}'s slow page to start`,
        () => Promise.resolve(fs.existsSync(path.join(s.content, 'slow-started')) || undefined),
        60_000,
        50,
      );
    }
    const busy = await get(NAMES[2] ?? '');
    expect(busy.status).toBe(503);
    expect(busy.headers['retry-after']).toBe('5');
    expect(busy.body).toContain('busy');

    for (const s of slow) fs.writeFileSync(path.join(s.content, 'slow-release'), '1');
    for (const s of slow) {
      const answer = await s.answer;
      expect(answer.status).toBe(200);
      expect(answer.body).toBe('released');
    }
    const home = await get(NAMES[2] ?? '');
    expect(home.status).toBe(200);
    expect(home.body).toContain('<meta name="generator" content="WordPress');
  });
});
