import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Page,
  type Response,
} from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startHosted, type Hosted, type HostedInstall } from '../helpers/hosted.js';

/**
 * A real browser on a hosted install: Debian's Chromium, driven by playwright-core (which never
 * downloads a browser of its own), opens the site and wp-admin and must see every request answered.
 * Chromium resolves every *.localhost name to the loopback address by itself.
 */
const CHROMIUM = process.env.WPFLEET_TEST_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Where the screenshots go, overwritten by each run, for a person to look at. */
const SCREENSHOTS = path.join(os.tmpdir(), 'wpfleet-e2e-screenshots');
const NAME = 'e2ebrowser';
/** A request ("METHOD url") to Gravatar, the one other origin WordPress's pages use. */
const GRAVATAR = /^[A-Z]+ https?:\/\/([a-z0-9-]+\.)*gravatar\.com\//;

/** What the browser asked for and got during one visit. */
interface Visit {
  /** Every http(s) request, as "METHOD url". */
  requests: string[];
  /** Same-origin requests that failed at the network level or were answered 4xx/5xx. */
  failed: string[];
  /** Requests to any other origin (which this machine cannot reach). */
  crossOrigin: string[];
  /** Uncaught JavaScript errors of the page. */
  pageErrors: string[];
  /** Resource types of the same-origin responses that came back, e.g. stylesheet: 3. */
  loaded: Record<string, number>;
}

describe('a hosted WordPress install in a browser', () => {
  let hosted: Hosted | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let page: Page;
  let origin: string;
  let visit: Visit;

  const newVisit = (): Visit => ({
    requests: [],
    failed: [],
    crossOrigin: [],
    pageErrors: [],
    loaded: {},
  });

  /** Opens `url` and waits until the network has been quiet, so late XHRs are counted too. */
  const open = async (url: string): Promise<{ response: Response | null; visit: Visit }> => {
    visit = newVisit();
    const response = await page.goto(url, { waitUntil: 'networkidle' });
    const seen = visit;
    console.log(
      `${url}: ${seen.requests.length} requests (${JSON.stringify(seen.loaded)}), ` +
        `${seen.crossOrigin.length} cross-origin${seen.crossOrigin.map((r) => `\n  ${r}`).join('')}`,
    );
    return { response, visit: seen };
  };

  const screenshot = async (name: string): Promise<string> => {
    const file = path.join(SCREENSHOTS, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  };

  /**
   * No same-origin request failed and no script threw. The only other origin allowed is
   * Gravatar, whose avatars WordPress core has the browser load directly (the admin bar, the
   * comments); they fail on a machine without internet, which says nothing about wpfleet.
   */
  const expectClean = (seen: Visit): void => {
    expect(seen.failed).toEqual([]);
    expect(seen.pageErrors).toEqual([]);
    expect(seen.requests.length).toBeGreaterThan(0);
    expect(seen.crossOrigin.filter((r) => !GRAVATAR.test(r))).toEqual([]);
  };

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium is missing at ${CHROMIUM}, which the browser test needs. Install Debian's ` +
          `package as root: apt-get update && apt-get install -y --no-install-recommends ` +
          `chromium (.ci/run does this), or set WPFLEET_TEST_CHROMIUM to another Chromium.`,
      );
    }
    hosted = await startHosted();
    origin = `http://${NAME}.localhost:${hosted.port}`;
    const created = await hosted.api<HostedInstall>('POST', '/v1/installs', {
      name: NAME,
      account_id: hosted.accountId,
    });
    expect(created.status).toBe(201);
    await hosted.waitActive(created.body.id);

    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    // A plain launch uses a fresh temporary profile, removed on close.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(60_000);
    visit = newVisit();
    context.on('request', (req) => {
      const url = new URL(req.url());
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return;
      visit.requests.push(`${req.method()} ${req.url()}`);
      if (url.origin !== origin) visit.crossOrigin.push(`${req.method()} ${req.url()}`);
    });
    context.on('requestfailed', (req) => {
      if (new URL(req.url()).origin !== origin) return;
      visit.failed.push(`${req.method()} ${req.url()}: ${req.failure()?.errorText ?? 'failed'}`);
    });
    context.on('response', (res) => {
      if (new URL(res.url()).origin !== origin) return;
      const type = res.request().resourceType();
      visit.loaded[type] = (visit.loaded[type] ?? 0) + 1;
      if (res.status() >= 400) {
        visit.failed.push(`${res.request().method()} ${res.url()}: ${res.status()}`);
      }
    });
    page = await context.newPage();
    page.on('pageerror', (err) => visit.pageErrors.push(`${page.url()}: ${err.message}`));
  });

  afterAll(async () => {
    await browser?.close();
    await hosted?.stop();
  });

  it('opens the home page with all its requests answered', async () => {
    const { response, visit: seen } = await open(`${origin}/`);
    expect(response?.status()).toBe(200);
    expect(page.url()).toBe(`${origin}/`);
    expect(await page.title()).toContain(NAME);
    expect(await page.locator('meta[name="generator"]').getAttribute('content')).toBe(
      'WordPress 6.1.9',
    );
    expectClean(seen);
    expect(seen.loaded.stylesheet ?? 0).toBeGreaterThan(0);
    const shot = await screenshot('home');
    expect(fs.statSync(shot).size).toBeGreaterThan(1000);
  });

  it('logs in through the single-use link and shows a styled Dashboard', async () => {
    const cli = await runCli(
      ['installs', 'login', NAME, '--port', hosted?.port ?? ''],
      hosted?.store.env ?? {},
    );
    expect(cli.code).toBe(0);
    const link = cli.stdout.trim();
    expect(new URL(link).origin).toBe(origin);

    const { response, visit: seen } = await open(link);
    expect(response?.status()).toBe(200);
    expect(response?.request().redirectedFrom()?.url()).toBe(link);
    expect(page.url()).toBe(`${origin}/wp-admin/`);
    expect(await page.title()).toMatch(/^Dashboard ‹ /);
    expect(await page.locator('#wpadminbar').isVisible()).toBe(true);
    expect(await page.locator('#dashboard-widgets').isVisible()).toBe(true);
    // The admin stylesheets applied: the menu has WordPress's dark background.
    expect(
      await page.evaluate<string>(
        "getComputedStyle(document.getElementById('adminmenuback')).backgroundColor",
      ),
    ).toBe('rgb(29, 35, 39)');
    expectClean(seen);
    expect(seen.loaded.stylesheet ?? 0).toBeGreaterThan(0);
    expect(seen.loaded.script ?? 0).toBeGreaterThan(0);
    const shot = await screenshot('wp-admin');
    expect(fs.statSync(shot).size).toBeGreaterThan(1000);
  });

  it('lists the posts and the plugins in wp-admin', async () => {
    const posts = await open(`${origin}/wp-admin/edit.php`);
    expect(posts.response?.status()).toBe(200);
    expect(page.url()).toBe(`${origin}/wp-admin/edit.php`);
    expect(await page.title()).toMatch(/^Posts ‹ /);
    expect(await page.locator('#the-list').textContent()).toContain('Hello world!');
    expectClean(posts.visit);
    await screenshot('posts');

    const plugins = await open(`${origin}/wp-admin/plugins.php`);
    expect(plugins.response?.status()).toBe(200);
    expect(page.url()).toBe(`${origin}/wp-admin/plugins.php`);
    expect(await page.title()).toMatch(/^Plugins ‹ /);
    expect(await page.locator('#the-list').count()).toBe(1);
    expectClean(plugins.visit);
    await screenshot('plugins');
  });
});
