import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, createHosting } from '../../src/composition.js';
import { releaseProvider } from '../../src/runtime/release-provider.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startHosted, type Hosted } from '../helpers/hosted.js';
import {
  fakeRelease,
  helloPlugin,
  writeSafeUpdatePackages,
  zipFiles,
} from '../helpers/package-fixtures.js';
import { siteRequest, waitFor, type SiteResponse } from '../helpers/site.js';
import { inspectStore } from '../helpers/snapshot.js';

interface Outcome {
  install: string;
  job_id: string;
  state: string;
  items: { kind: string; slug: string; version_before: string | null; version: string }[];
  visual: {
    difference: number | null;
    threshold: number;
    before: string;
    after: string | null;
    diff: string | null;
  } | null;
  reason: string | null;
  record: Record<string, unknown> | null;
}

interface PluginRow {
  slug: string;
  version: string;
  active: boolean;
  update: string | null;
}

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Safe updates on real WordPress (SQLite), driven through `wpfleet updates` against a running
 * server: a version that breaks the front end and one that repaints the page are rolled back to
 * the snapshot, with the reason and the images recorded; one that changes a few pixels is kept.
 */
describe('safe updates with visual rollback', () => {
  let hosted: Hosted | undefined;
  let cliEnv: Record<string, string>;
  let scratch: string;
  let dataDir: string;
  let installId: string;
  const name = 'e2esafe';
  const host = `${name}.localhost`;

  const h = (): Hosted => {
    if (hosted === undefined) throw new Error('wpfleet serve did not start');
    return hosted;
  };
  const cli = (args: string[]): Promise<CliResult> => runCli(args, cliEnv);
  const json = async <T>(args: string[]): Promise<T> => {
    const r = await cli([...args, '--json']);
    if (r.code !== 0) throw new Error(`wpfleet ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };
  /** `updates apply` with --json: its exit code and its one JSON document. */
  const apply = async (args: string[]): Promise<{ code: number; outcome: Outcome }> => {
    const r = await cli(['updates', 'apply', name, ...args, '--json']);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    return { code: r.code, outcome: JSON.parse(r.stdout) as Outcome };
  };
  let visits = 0;
  /** The home page as WordPress renders it now (a query of its own passes the page cache by). */
  const home = (): Promise<SiteResponse> => {
    visits += 1;
    return siteRequest(h().serve.url, host, `/?visit=${visits}`);
  };
  const plugin = async (slug: string): Promise<PluginRow | undefined> =>
    (await json<PluginRow[]>(['plugins', 'list', name])).find((p) => p.slug === slug);
  const pluginFile = (slug: string): string =>
    fs.readFileSync(
      path.join(dataDir, 'installs', installId, 'wp-content', 'plugins', slug, `${slug}.php`),
      'utf8',
    );
  const activity = async (action: string): Promise<Record<string, unknown>[]> => {
    const store = inspectStore(h().store);
    try {
      const rows = await store.db
        .selectFrom('activity')
        .select(['details'])
        .where('action', '=', action)
        .where('target_id', '=', installId)
        .execute();
      return rows.map((r) => JSON.parse(r.details) as Record<string, unknown>);
    } finally {
      await store.close();
    }
  };

  beforeAll(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-safe-update-'));
    const zips = await writeSafeUpdatePackages(scratch);
    // wpfleet-hello 2.0.0 fatals as WordPress loads it: the agent's update itself fails.
    for (const version of ['1.0.0', '2.0.0']) {
      const file = path.join(scratch, `wpfleet-hello.${version}.zip`);
      zips.push({
        kind: 'plugin',
        slug: 'wpfleet-hello',
        version,
        file: await zipFiles(helloPlugin(version), file),
      });
    }
    hosted = await startHosted({ WPFLEET_WPORG: 'off' });
    cliEnv = { ...hosted.store.env, WPFLEET_PORT: hosted.port, WPFLEET_WPORG: 'off' };
    dataDir = hosted.store.env.WPFLEET_DATA ?? '';
    await json(['mirror', 'add', ...zips.map((z) => z.file)]);
    const created = await json<{ id: string; status: string }>(['installs', 'create', name]);
    expect(created.status).toBe('active');
    installId = created.id;
    for (const slug of ['wpfleet-fragile', 'wpfleet-paint', 'wpfleet-hello']) {
      await json(['plugins', 'install', name, slug, '--version', '1.0.0', '--activate']);
    }
  }, 400_000);

  afterAll(async () => {
    await hosted?.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('lists the updates the mirror offers', async () => {
    const offers = await json<{ kind: string; slug: string; version: string; update: string }[]>([
      'updates',
      'list',
      name,
    ]);
    expect(offers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'plugin',
          slug: 'wpfleet-fragile',
          version: '1.0.0',
          update: '2.0.0',
        }),
        expect.objectContaining({
          kind: 'plugin',
          slug: 'wpfleet-paint',
          version: '1.0.0',
          update: '2.0.0',
        }),
      ]) as unknown,
    );
  });

  it('keeps an update that changes a few pixels, below the threshold', async () => {
    // With a custom login path, that is the login page checked (wp-login.php answers 404 then).
    await json(['settings', name, '--login-path', 'my-door']);
    const { code, outcome } = await apply(['--plugins', 'wpfleet-paint@1.1.0']);
    expect(`${code} ${outcome.reason ?? ''}`).toBe('0 ');
    expect(outcome).toMatchObject({
      state: 'succeeded',
      items: [
        { kind: 'plugin', slug: 'wpfleet-paint', version_before: '1.0.0', version_after: '1.1.0' },
      ],
    });
    const visual = outcome.visual;
    expect(visual?.threshold).toBe(0.01);
    // The dot is there, and it is all that changed.
    expect(visual?.difference).toBeGreaterThan(0);
    expect(visual?.difference).toBeLessThanOrEqual(0.01);
    for (const image of [visual?.before, visual?.after, visual?.diff]) {
      const file = path.join(dataDir, image ?? '');
      expect(fs.readFileSync(file).subarray(0, 8)).toEqual(PNG_MAGIC);
    }
    expect(outcome.record?.health).toMatchObject({
      before: { login: { path: '/my-door', status: 200, problem: null } },
      after: {
        home: { path: '/', status: 200, problem: null, titleShown: true },
        login: { path: '/my-door', status: 200, problem: null },
      },
    });
    expect(await plugin('wpfleet-paint')).toMatchObject({ version: '1.1.0', active: true });
    expect((await home()).body).toContain('id="wpfleet-paint"');
    const [succeeded] = await activity('update.succeeded');
    expect(succeeded).toMatchObject({ job_id: outcome.job_id, visual: { diff: visual?.diff } });
    // The snapshot is gone once the update stands; the images stay.
    expect(fs.existsSync(path.join(dataDir, path.dirname(visual?.diff ?? ''), 'snapshot'))).toBe(
      false,
    );
  });

  it('rolls back an update that repaints the page, keeping its diff image', async () => {
    const { code, outcome } = await apply(['--plugins', 'wpfleet-paint@2.0.0']);
    expect(code).toBe(1);
    expect(outcome.state).toBe('rolled_back');
    expect(outcome.reason).toMatch(
      /^rolled back: the home page looks different: \d+\.\d\d% of its pixels changed, more than the threshold of 1\.00%$/,
    );
    const visual = outcome.visual;
    expect(visual?.difference).toBeGreaterThan(0.3);
    const diff = path.join(dataDir, visual?.diff ?? '');
    expect(visual?.diff).toBe(`updates/${installId}/${outcome.job_id}/diff.png`);
    expect(fs.readFileSync(diff).subarray(0, 8)).toEqual(PNG_MAGIC);
    // The job's record and the activity log name the images and the reason.
    const steps = outcome.record?.steps as Record<string, { reason: string; visual: unknown }>;
    expect(steps['update.rolled_back']).toMatchObject({ visual: { diff: visual?.diff } });
    const rolledBack = await activity('update.rolled_back');
    expect(rolledBack).toContainEqual(
      expect.objectContaining({
        job_id: outcome.job_id,
        home_status: 200,
        visual: expect.objectContaining({ diff: visual?.diff }) as unknown,
      }),
    );
    // Back at 1.1.0, in WordPress and on disk, and the page as it was.
    expect(await plugin('wpfleet-paint')).toMatchObject({ version: '1.1.0', active: true });
    expect(pluginFile('wpfleet-paint')).toContain('Version: 1.1.0');
    const page = await home();
    expect(page.status).toBe(200);
    expect(page.body).toContain('width:4px;height:4px');
  });

  it('rolls back an update that breaks the front end with a fatal error', async () => {
    const { code, outcome } = await apply(['--plugins', 'wpfleet-fragile']);
    expect(code).toBe(1);
    expect(outcome).toMatchObject({
      state: 'rolled_back',
      items: [{ slug: 'wpfleet-fragile', version_before: '1.0.0', version: '2.0.0' }],
    });
    expect(outcome.reason).toMatch(/^rolled back: \/ shows a critical error/);
    // The update itself went through before the check caught it.
    const steps = outcome.record?.steps as Record<string, Record<string, unknown>>;
    expect(steps['update.applied']).toMatchObject({
      items: [{ slug: 'wpfleet-fragile', version_before: '1.0.0', version_after: '2.0.0' }],
    });
    // The pictures of the site before and of the broken page after go with the record.
    const shots = [outcome.visual?.before, outcome.visual?.after];
    expect(shots.map((f) => f?.replace(/^.*\//, ''))).toEqual(['before.png', 'after.png']);
    for (const f of shots) {
      expect(fs.readFileSync(path.join(dataDir, f ?? '')).subarray(0, 8)).toEqual(PNG_MAGIC);
    }
    const page = await home();
    expect(page.status).toBe(200);
    expect(page.body).toContain('wpfleet-fragile 1.0.0');
    expect(await plugin('wpfleet-fragile')).toMatchObject({ version: '1.0.0', active: true });
    expect(pluginFile('wpfleet-fragile')).toContain('Version: 1.0.0');
    expect(await activity('update.rolled_back')).toContainEqual(
      expect.objectContaining({
        job_id: outcome.job_id,
        reason: expect.stringMatching(/critical error/) as unknown,
      }),
    );
  });

  it('rolls back an update WordPress refuses, its database too, without a visual check', async () => {
    const { code, outcome } = await apply(['--plugins', 'wpfleet-hello', '--no-visual-check']);
    expect(code).toBe(1);
    expect(outcome).toMatchObject({ state: 'rolled_back', visual: null });
    // WordPress updated the files, then deactivated the plugin that fataled: both go back.
    expect(outcome.reason).toMatch(
      /^rolled back: the update failed: The plugin wpfleet-hello\/wpfleet-hello\.php was updated but is now inactive: Plugin failed to reactivate due to a fatal error/,
    );
    const steps = outcome.record?.steps as Record<string, unknown>;
    expect(Object.keys(steps)).not.toContain('update.before-shot');
    expect(await plugin('wpfleet-hello')).toMatchObject({ version: '1.0.0', active: true });
    expect(pluginFile('wpfleet-hello')).toContain('Version: 1.0.0');
    const page = await home();
    expect(page.status).toBe(200);
    expect(page.body).toContain('wpfleet-hello 1.0.0');
  });

  it('rolls back after the server is killed between the update and its checks', async () => {
    // The test hook kills serve (SIGKILL) the moment the update is recorded as applied.
    await h().restart({ WPFLEET_CRASH_AT: 'update.applied' });
    const { outcome } = await apply([
      '--plugins',
      'wpfleet-paint@2.0.0',
      '--no-visual-check',
      '--no-wait',
    ]);
    expect(outcome.state).toBe('queued');
    expect((await h().serve.exited).signal).toBe('SIGKILL');
    expect(pluginFile('wpfleet-paint')).toContain('Version: 2.0.0');

    // The next start takes the job again: it cannot know the update finished, so it goes back.
    await h().restart();
    const store = inspectStore(h().store);
    try {
      const failed = await waitFor(
        'the interrupted update to end',
        async () => {
          const row = await store.db
            .selectFrom('jobs')
            .select(['state', 'error'])
            .where('id', '=', outcome.job_id)
            .executeTakeFirst();
          return row?.state === 'failed' ? row : undefined;
        },
        120_000,
        500,
      );
      expect(failed.error).toBe('rolled back: the update was interrupted before its checks passed');
    } finally {
      await store.close();
    }
    expect(await plugin('wpfleet-paint')).toMatchObject({ version: '1.1.0', active: true });
    expect(pluginFile('wpfleet-paint')).toContain('Version: 1.1.0');
    expect((await home()).status).toBe(200);
  }, 300_000);

  it('rolls back a core update that repaints the page, with the visual check', async () => {
    // Debian's 6.1.9 as "6.1.99", whose core paints a block over every page.
    const base = path.join(dataDir, 'releases', '6.1.9', 'wordpress');
    const fake = fakeRelease(base, scratch, '6.1.99', (root) => {
      fs.appendFileSync(
        path.join(root, 'wp-includes', 'functions.php'),
        `\nadd_action( 'wp_footer', function () { echo '<div style="position:absolute;top:0;left:0;width:100%;height:2000px;background:#1d4ed8"></div>'; } );\n`,
      );
    });
    const added = await cli(['releases', 'add', '--from', fake.dir, '--checksums', fake.checksums]);
    expect(added.code, added.stderr).toBe(0);
    const app = await createApp(h().store.config);
    const hosting = createHosting(
      app,
      releaseProvider(h().store.config),
      pino({ level: 'silent' }),
    );
    try {
      // Without --visual-check, --threshold is refused before anything is queued.
      const refused = await cli([
        'core',
        'update',
        name,
        '--version',
        '6.1.99',
        '--threshold',
        '0.5',
      ]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('--threshold goes with --visual-check');
      const queued = await json<{ job_id: string; state: string }>([
        'core',
        'update',
        name,
        '--version',
        '6.1.99',
        '--visual-check',
        '--no-wait',
      ]);
      expect(queued.state).toBe('queued');
      const jobId = queued.job_id;
      const failed = await waitFor(
        'the core update to end',
        async () => {
          const row = await app.store.read.jobs.findById(h().accountId, jobId);
          return row?.state === 'failed' || row?.state === 'succeeded' ? row : undefined;
        },
        180_000,
        500,
      );
      expect(failed.error).toMatch(
        /^updating to WordPress 6\.1\.99 failed and the install was put back on WordPress 6\.1\.9: the home page looks different: \d+\.\d\d% of its pixels changed, more than the threshold of 1\.00%$/,
      );
      const steps = (
        JSON.parse(failed.result ?? '{}') as {
          steps: Record<string, { visual?: { diff: string; difference: number } }>;
        }
      ).steps;
      const visual = steps['core.rollback']?.visual;
      expect(visual?.diff).toBe(`updates/${installId}/${jobId}/diff.png`);
      expect(visual?.difference).toBeGreaterThan(0.3);
      expect(fs.readFileSync(path.join(dataDir, visual?.diff ?? '')).subarray(0, 8)).toEqual(
        PNG_MAGIC,
      );
      expect(await app.store.read.installs.findAny(installId)).toMatchObject({
        release_version: '6.1.9',
      });
      const page = await home();
      expect(page.status).toBe(200);
      expect(page.body).toContain('content="WordPress 6.1.9"');
    } finally {
      await hosting.close();
      await app.close();
    }
  }, 300_000);

  it("applies safe updates across installs with --installs: a rollback is that install's failure", async () => {
    interface Report {
      ok: boolean;
      total: number;
      failed: number;
      results: {
        install: { name: string };
        ok: boolean;
        error?: { code: string; message: string };
        result?: { state: string };
      }[];
    }
    // Every update the install has together (a fatal among them): all rolled back.
    const all = await cli(['updates', 'apply', '--installs', name, '--no-visual-check', '--json']);
    expect(all.code).toBe(1);
    const report = JSON.parse(all.stdout) as Report;
    expect(report).toMatchObject({ ok: false, total: 1, failed: 1 });
    expect(report.results[0]).toMatchObject({
      install: { name },
      ok: false,
      error: { code: 'rolled_back' },
    });
    expect(report.results[0]?.error?.message).toMatch(/^rolled back: /);
    expect(all.stderr).toContain('safe updates');
    expect(await plugin('wpfleet-paint')).toMatchObject({ version: '1.1.0', active: true });
    // A version the install already has is nothing to do, not a failure.
    const none = await cli([
      'updates',
      'apply',
      '--installs',
      name,
      '--plugins',
      'wpfleet-paint@1.1.0',
      '--json',
    ]);
    expect(none.code, none.stderr).toBe(0);
    expect((JSON.parse(none.stdout) as Report).results[0]).toMatchObject({
      ok: true,
      result: { state: 'up_to_date' },
    });
  }, 300_000);
});
