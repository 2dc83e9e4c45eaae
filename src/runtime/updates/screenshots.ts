import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { VisualCheck, VisualDiff } from '../../core/updates/ports.js';
import { compareFiles } from './visual-diff.js';

/** Debian's Chromium (package `chromium`). */
export const CHROMIUM = '/usr/bin/chromium';

/** The window every screenshot is taken in, so that two of them compare pixel for pixel. */
export const VIEWPORT = { width: 1280, height: 900 };
const NAVIGATION_TIMEOUT_MS = 60_000;

export interface ScreenshotDeps {
  dataDir: string;
  /** Defaults to Debian's Chromium. */
  executablePath?: string;
  /** The install's host as visitors reach it. */
  host(installId: string): Promise<string>;
  /** `http://<host>[:port]`: the edge this server listens on. */
  origin(host: string): string;
}

/**
 * Screenshots of an install's home page with Chromium through playwright-core, through this
 * server's own edge: the install's host resolves to 127.0.0.1, requests to any other host are
 * refused (a page must not differ because a CDN answered slowly), the page cache is bypassed,
 * animations stop and the caret hides, in a fixed 1280×900 window, the whole page.
 */
export class ChromiumScreenshots implements VisualCheck {
  constructor(private readonly deps: ScreenshotDeps) {}

  async screenshot(installId: string, file: string): Promise<void> {
    const executablePath = this.deps.executablePath ?? CHROMIUM;
    if (!fs.existsSync(executablePath)) {
      throw new Error(
        `the visual check needs Chromium, and there is none at ${executablePath}: install it (apt-get install chromium) or skip the check (--no-visual-check)`,
      );
    }
    const host = await this.deps.host(installId);
    const url = `${this.deps.origin(host)}/`;
    const out = path.join(this.deps.dataDir, file);
    await fsp.mkdir(path.dirname(out), { recursive: true });
    const browser = await chromium.launch({
      executablePath,
      args: [`--host-resolver-rules=MAP ${host} 127.0.0.1`, '--disable-gpu', '--hide-scrollbars'],
    });
    try {
      const context = await browser.newContext({
        viewport: VIEWPORT,
        deviceScaleFactor: 1,
        reducedMotion: 'reduce',
        serviceWorkers: 'block',
        extraHTTPHeaders: { 'cache-control': 'no-cache' },
      });
      await context.route('**/*', (route) => {
        const target = new URL(route.request().url());
        return target.hostname === host ? route.continue() : route.abort('blockedbyclient');
      });
      const page = await context.newPage();
      const response = await page.goto(url, { waitUntil: 'load', timeout: NAVIGATION_TIMEOUT_MS });
      if (response === null) throw new Error(`${url} gave the browser no response`);
      await page.waitForLoadState('networkidle', { timeout: 10_000 }).catch(() => undefined);
      await page.screenshot({ path: out, fullPage: true, animations: 'disabled', caret: 'hide' });
    } catch (err) {
      const text = err instanceof Error ? err.message.split('\n')[0] : String(err);
      throw new Error(`the screenshot of ${url} failed: ${text ?? ''}`);
    } finally {
      await browser.close().catch(() => undefined);
    }
  }

  compare(before: string, after: string, diff: string): Promise<VisualDiff> {
    const at = (rel: string): string => path.join(this.deps.dataDir, rel);
    return compareFiles(at(before), at(after), at(diff));
  }
}
