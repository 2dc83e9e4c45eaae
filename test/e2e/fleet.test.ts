import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startHosted, type Hosted, type HostedInstall } from '../helpers/hosted.js';
import {
  fakeRelease,
  helloMarker,
  plainMarker,
  writeTestPackages,
  type FixtureZip,
} from '../helpers/package-fixtures.js';
import { siteRequest } from '../helpers/site.js';

/**
 * Fleet operations as a user runs them: `wpfleet plugins|themes|core … --all|--installs` as a
 * child process on the store of a running `wpfleet serve` with four real WordPress installs,
 * each install's result checked against the page WordPress then renders.
 */

interface Report {
  ok: boolean;
  total: number;
  succeeded: number;
  failed: number;
  skipped: number;
  results: {
    install: { id: string; name: string };
    ok: boolean;
    skipped?: boolean;
    result?: Record<string, unknown>;
    error?: { code: string; message: string };
  }[];
}

const NAMES = ['fleeta', 'fleetb', 'fleetc', 'fleetd'];
const NEW_CORE = '6.1.99';

describe('fleet operations on real WordPress', () => {
  let hosted: Hosted | undefined;
  let cliEnv: Record<string, string>;
  let scratch: string;
  let zips: FixtureZip[];
  let visits = 0;

  const h = (): Hosted => {
    if (hosted === undefined) throw new Error('wpfleet serve did not start');
    return hosted;
  };
  const cli = (args: string[]): Promise<CliResult> => runCli(args, cliEnv);
  /** A fleet command with --json: its report, its exit code and its progress (stderr). */
  const fleet = async (
    args: string[],
  ): Promise<{ code: number; report: Report; stderr: string }> => {
    const r = await cli([...args, '--json']);
    // One JSON document on stdout, whatever the progress printed meanwhile.
    expect(r.stdout.trim().split('\n'), r.stderr).toHaveLength(1);
    return { code: r.code, report: JSON.parse(r.stdout) as Report, stderr: r.stderr };
  };
  /** The home page as WordPress renders it now (a query of its own: never the page cache). */
  const home = async (name: string): Promise<string> => {
    visits += 1;
    const r = await siteRequest(h().serve.url, `${name}.localhost`, `/?fleet=${visits}`);
    expect(r.status).toBe(200);
    return r.body;
  };
  const byName = (report: Report): Record<string, Report['results'][number]> =>
    Object.fromEntries(report.results.map((r) => [r.install.name, r]));

  beforeAll(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-fleet-e2e-'));
    zips = (await writeTestPackages(scratch)).filter(
      (z) => !(z.slug === 'wpfleet-hello' && z.version === '2.0.0'),
    );
    hosted = await startHosted({ WPFLEET_WPORG: 'off' });
    cliEnv = { ...hosted.store.env, WPFLEET_PORT: hosted.port, WPFLEET_WPORG: 'off' };
    const added = await cli(['mirror', 'add', ...zips.map((z) => z.file)]);
    expect(added.code, added.stderr).toBe(0);
    const ids: string[] = [];
    for (const name of NAMES) {
      const created = await hosted.api<HostedInstall>('POST', '/v1/installs', {
        name,
        account_id: hosted.accountId,
      });
      expect(created.status).toBe(201);
      ids.push(created.body.id);
    }
    for (const id of ids) await hosted.waitActive(id);
  }, 360_000);

  afterAll(async () => {
    await hosted?.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('--installs acts on those installs only', async () => {
    const { code, report, stderr } = await fleet([
      'plugins',
      'install',
      'wpfleet-hello',
      '--version',
      '1.0.0',
      '--activate',
      '--installs',
      'fleeta,fleetb,fleetc',
    ]);
    expect(code, stderr).toBe(0);
    expect(report).toMatchObject({ ok: true, total: 3, succeeded: 3, failed: 0, skipped: 0 });
    expect(report.results.map((r) => r.install.name)).toEqual(['fleeta', 'fleetb', 'fleetc']);
    expect(report.results[0]?.result).toMatchObject({
      slug: 'wpfleet-hello',
      version_before: null,
      version_after: '1.0.0',
      active: true,
    });
    for (const name of ['fleeta', 'fleetb', 'fleetc']) {
      expect(await home(name)).toContain(helloMarker('1.0.0'));
    }
    expect(await home('fleetd')).not.toContain('wpfleet-hello');
  });

  it('updates a plugin on every install: one without it fails, the others are updated, the exit code says so', async () => {
    const { code, report, stderr } = await fleet(['plugins', 'update', 'wpfleet-hello', '--all']);
    expect(code).toBe(1);
    // Progress on stderr, one line per install without a terminal.
    const lines = stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^update plugin wpfleet-hello: 4 installs, \d+ at a time \(0\/4\)$/);
    expect(lines.filter((l) => /: fleetd failed .*\(\d\/4\)$/.test(l))).toHaveLength(1);
    expect(lines.filter((l) => /: fleet[abc] done .*\(\d\/4\)$/.test(l))).toHaveLength(3);
    expect(lines.at(-1)).toMatch(/\(4\/4\)$/);
    expect(lines).toHaveLength(5);
    expect(report).toMatchObject({ ok: false, total: 4, succeeded: 3, failed: 1, skipped: 0 });
    expect(report.results.map((r) => r.install.name)).toEqual(NAMES);
    const results = byName(report);
    for (const name of ['fleeta', 'fleetb', 'fleetc']) {
      expect(results[name]).toMatchObject({
        ok: true,
        result: { version_before: '1.0.0', version_after: '1.1.0', active: true },
      });
      expect(await home(name)).toContain(helloMarker('1.1.0'));
    }
    expect(results.fleetd).toEqual({
      install: { id: expect.any(String) as unknown, name: 'fleetd' },
      ok: false,
      error: {
        code: 'plugin_not_installed',
        message: 'The plugin wpfleet-hello is not installed.',
      },
      ms: expect.any(Number) as unknown,
    });
    // The text form says the same, one line per install and a summary.
    const text = await cli(['plugins', 'update', 'wpfleet-hello', '--installs', 'fleetd,fleeta']);
    expect(text.code).toBe(1);
    expect(text.stdout.trim().split('\n')).toEqual([
      'fleetd: failed: The plugin wpfleet-hello is not installed. (plugin_not_installed)',
      'fleeta: plugin wpfleet-hello updated: 1.1.0 (active)',
      '1 of 2 installs done, 1 failed',
    ]);
  });

  it('refuses an unknown install before acting on any', async () => {
    const r = await cli([
      'plugins',
      'deactivate',
      'wpfleet-hello',
      '--installs',
      'fleeta,nosuch',
      '--json',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Install nosuch not found');
    expect(await home('fleeta')).toContain(helloMarker('1.1.0'));
    // A theme that neither the install nor the mirror has: "not installed" comes first.
    const theme = await fleet(['themes', 'update', 'wpfleet-nothing', '--installs', 'fleeta']);
    expect(theme.code).toBe(1);
    expect(theme.report.results[0]?.error).toEqual({
      code: 'theme_not_installed',
      message: 'The theme wpfleet-nothing is not installed.',
    });
    const both = await cli(['plugins', 'deactivate', 'fleeta', 'wpfleet-hello', '--all']);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('give the slug alone');
  });

  it('installs and activates a theme on the installs named', async () => {
    const { code, report } = await fleet([
      'themes',
      'install',
      'wpfleet-plain',
      '--activate',
      '--installs',
      'fleetc,fleetd',
      '--concurrency',
      '1',
    ]);
    expect(code).toBe(0);
    expect(report).toMatchObject({ ok: true, total: 2, succeeded: 2 });
    expect(await home('fleetd')).toContain(plainMarker('1.1.0'));
    expect(await home('fleeta')).not.toContain('data-theme-version');
  });

  it('queues a core update per install and waits for all of them', async () => {
    // Debian's 6.1.9 as another version.
    const base = path.join(h().store.config.dataDir, 'releases', '6.1.9', 'wordpress');
    const { dir } = fakeRelease(base, scratch, NEW_CORE);
    const added = await cli(['releases', 'add', '--from', dir, '--no-verify']);
    expect(added.code, added.stderr).toBe(0);

    const { code, report, stderr } = await fleet([
      'core',
      'update',
      '--installs',
      'fleeta,fleetb',
      '--version',
      NEW_CORE,
    ]);
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/^core updates: fleet[ab] updated \(2\/2\)$/m);
    expect(report).toMatchObject({ ok: true, total: 2, succeeded: 2 });
    for (const r of report.results) {
      expect(r.result).toMatchObject({
        version_before: '6.1.9',
        version: NEW_CORE,
        state: 'succeeded',
      });
    }
    const generator = async (name: string): Promise<string | undefined> =>
      /<meta name="generator" content="WordPress ([^"]+)"/.exec(await home(name))?.[1];
    expect(await generator('fleeta')).toBe(NEW_CORE);
    expect(await generator('fleetb')).toBe(NEW_CORE);
    expect(await generator('fleetc')).toBe('6.1.9');
  });
});
