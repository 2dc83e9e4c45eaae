import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/composition.js';
import { operatorActor, type Actor } from '../../src/core/actor.js';
import type { InstallRow } from '../../src/core/installs/installs.repository.js';
import type { JobRow } from '../../src/core/jobs/jobs.repository.js';
import { recordedStepNames } from '../../src/core/jobs/steps.js';
import { MAINTENANCE_FLAG } from '../../src/runtime/backups/maintenance.js';
import { siteLayout } from '../../src/runtime/sites/site-files.js';
import { runCli } from '../helpers/cli.js';
import { MARIADB_URL, startHosted, type Hosted, type HostedInstall } from '../helpers/hosted.js';
import { siteRequest, waitFor } from '../helpers/site.js';
import { treeState } from '../helpers/tree.js';
import { writeWpScript } from '../helpers/wp-script.js';

/**
 * Clones and copies between environments on real WordPress (Debian's 6.1.9) served by
 * `wpfleet serve`: the service (or the CLI) queues `install.clone` / `install.copy`, serve's job
 * runner takes a backup of the source and restores it onto the target, URLs rewritten.
 */
const DATABASES: [string, Record<string, string>][] = [
  ['SQLite', {}],
  ['MariaDB', { WPFLEET_WP_DATABASE_URL: MARIADB_URL }],
];

/** A plugin that marks every page it is active on. */
const PLUGIN = `<?php
/*
Plugin Name: Clone Marker
Version: 1.0.0
*/
add_action('wp_footer', function () { echo '<!-- clone-marker-active -->'; });
`;

/** Inserts a published post linking to the install's own address; answers its id. */
const INSERT_POST = `
$title = (string) ($_GET['title'] ?? 'Post');
$id = wp_insert_post(array(
  'post_title' => $title,
  'post_status' => 'publish',
  'post_content' => '<p>Body of ' . $title . '</p><p><a href="' . home_url('/about/') . '">About</a></p>',
), true);
if (is_wp_error($id)) { http_response_code(500); echo json_encode(array('error' => $id->get_error_message())); exit; }
echo json_encode(array('id' => $id, 'path' => wp_parse_url(get_permalink($id), PHP_URL_PATH)));
`;

const ACTIVATE_AND_TITLE = `
require_once ABSPATH . 'wp-admin/includes/plugin.php';
if (isset($_GET['plugin'])) {
  $r = activate_plugin((string) $_GET['plugin']);
  if (is_wp_error($r)) { http_response_code(500); echo json_encode(array('error' => $r->get_error_message())); exit; }
}
if (isset($_GET['blogname'])) update_option('blogname', (string) $_GET['blogname']);
echo json_encode(array('ok' => true));
`;

describe.each(DATABASES)('clone and staging on %s', (_db, env) => {
  let hosted: Hosted | undefined;
  let app: App;
  let actor: Actor;
  let source: InstallRow;
  let clone: InstallRow;
  let staging: InstallRow;
  let postPath = '';
  const tag = _db === 'SQLite' ? 's' : 'm';
  const SRC = `clsrc${tag}`;
  const DST = `cldst${tag}`;
  const STG = `clstg${tag}`;

  const h = (): Hosted => {
    if (hosted === undefined) throw new Error('wpfleet serve did not start');
    return hosted;
  };
  /** `wpfleet ARGS`; clone and staging get the server's port, part of the addresses they print. */
  const cli = (args: string[]) =>
    runCli(
      ['clone', 'staging'].includes(args[0] ?? '') ? [...args, '--port', h().port] : args,
      h().store.env,
    );
  const content = (install: Pick<InstallRow, 'id'>): string =>
    siteLayout(h().store.config.dataDir, install.id).contentDir;
  const url = (name: string): string => `http://${name}.localhost:${h().port}`;
  const page = (name: string, p: string) =>
    siteRequest(
      h().serve.url,
      `${name}.localhost`,
      `${p}${p.includes('?') ? '&' : '?'}r=${Math.random()}`,
      {
        headers: { 'cache-control': 'no-cache' },
      },
    );
  const row = async (id: string): Promise<InstallRow> => {
    const found = await app.store.read.installs.findAny(id);
    if (found === undefined) throw new Error('install vanished');
    return found;
  };
  /** Runs PHP inside the install's WordPress (a script dropped in its wp-content, then removed). */
  async function wp<T>(install: InstallRow, body: string, query = ''): Promise<T> {
    const script = writeWpScript(content(install), body);
    try {
      const res = await siteRequest(
        h().serve.url,
        `${install.name}.localhost`,
        `${script.url}${query}`,
      );
      expect(res.status, res.body).toBe(200);
      return JSON.parse(res.body) as T;
    } finally {
      script.remove();
    }
  }
  const finished = (jobId: string): Promise<JobRow> =>
    waitFor(
      `job ${jobId}`,
      async () => {
        const job = await app.store.read.jobs.findById(h().accountId, jobId);
        return job?.state === 'succeeded' || job?.state === 'failed' ? job : undefined;
      },
      240_000,
      250,
    );
  const actions = async (installId: string): Promise<string[]> =>
    (await app.store.read.activity.listForAccount(h().accountId, 500))
      .filter((a) => a.target_id === installId && /^install\.(clon|cop)/.test(a.action))
      .map((a) => a.action)
      .reverse();
  /** wp-content without WordPress's own SQLite file (which any request may write). */
  const ownFiles = (install: InstallRow): Record<string, string> =>
    Object.fromEntries(
      Object.entries(treeState(content(install))).filter(([rel]) => !rel.startsWith('database')),
    );

  beforeAll(async () => {
    hosted = await startHosted({ WPFLEET_WPORG: 'off', ...env });
    const created = await h().api<HostedInstall>('POST', '/v1/installs', {
      name: SRC,
      account_id: h().accountId,
    });
    expect(created.status).toBe(201);
    await h().waitActive(created.body.id);
    app = await createApp(h().store.config);
    actor = operatorActor(h().accountId);
    source = await row(created.body.id);
    const dir = path.join(content(source), 'plugins', 'clone-marker');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'clone-marker.php'), PLUGIN);
    await wp(source, ACTIVATE_AND_TITLE, '&plugin=clone-marker/clone-marker.php');
    postPath = (await wp<{ path: string }>(source, INSERT_POST, '&title=Cloned%20post')).path;
    expect(postPath).toMatch(/^\//);
  }, 360_000);

  afterAll(async () => {
    await app.close();
    await hosted?.stop();
  });

  it('clones an install: the new install serves the post and the plugin at its own address, the source is unchanged', async () => {
    const sourcePost = await page(SRC, postPath);
    expect(sourcePost.status).toBe(200);
    expect(sourcePost.body).toContain(`${url(SRC)}/about/`);
    const sourceFiles = ownFiles(source);

    const queued = await app.services.clones.clone(actor, source.id, { name: DST });
    // Answered at once, pending until the copy is in (never active as a blank WordPress).
    expect(queued.install.install.status).toBe('pending');
    // Statuses seen before the copy was done (the row is read before the job).
    const seen = new Set<string>();
    const job = await waitFor(
      'the clone job',
      async () => {
        const status = (await row(queued.install.install.id)).status;
        const j = await app.store.read.jobs.findById(h().accountId, queued.jobId);
        const copied =
          j !== undefined &&
          (j.state === 'succeeded' || recordedStepNames(j).includes('clone.done'));
        if (!copied) seen.add(status);
        return j?.state === 'succeeded' || j?.state === 'failed' ? j : undefined;
      },
      240_000,
      200,
    );
    expect(job.error).toBeNull();
    expect(job.state).toBe('succeeded');
    expect([...seen]).toEqual(['pending']);
    clone = await row(queued.install.install.id);
    expect(clone).toMatchObject({
      status: 'active',
      php_version: source.php_version,
      release_version: source.release_version,
      table_prefix: source.table_prefix,
    });
    const result = JSON.parse(job.result ?? '{}') as Record<string, unknown>;
    expect(result.urls_rewritten).toEqual([url(SRC)]);
    expect(Number(result.rows_changed)).toBeGreaterThan(0);

    const post = await page(DST, postPath);
    expect(post.status).toBe(200);
    expect(post.body).toContain('Body of Cloned post');
    expect(post.body).toContain(`${url(DST)}/about/`);
    expect(post.body).not.toContain(`${SRC}.localhost`);
    expect(post.body).toContain('<!-- clone-marker-active -->');
    expect(
      fs.existsSync(path.join(content(clone), 'plugins', 'clone-marker', 'clone-marker.php')),
    ).toBe(true);

    // The source: same files, same post with its own URLs, and the backup the clone took.
    expect(ownFiles(source)).toEqual(sourceFiles);
    const again = await page(SRC, postPath);
    expect(again.body).toContain(`${url(SRC)}/about/`);
    expect(again.body).not.toContain(`${DST}.localhost`);
    const backups = await app.store.read.backups.listForInstall(source.id);
    expect(backups.find((b) => b.id === result.source_backup_id)).toMatchObject({
      status: 'completed',
      description: `Taken to clone ${SRC} onto ${DST}`,
    });
    expect(await actions(clone.id)).toEqual(['install.clone', 'install.cloned']);
    expect(await actions(source.id)).toEqual(['install.cloned']);
  });

  it('clones into the staging environment of the same site with the CLI (--json)', async () => {
    const out = await cli([
      'clone',
      SRC,
      STG,
      '--site',
      source.site_id ?? '',
      '--environment',
      'staging',
      '--json',
    ]);
    expect(out.code, out.stderr).toBe(0);
    const answer = JSON.parse(out.stdout) as Record<string, unknown>;
    expect(answer).toMatchObject({
      name: STG,
      site_id: source.site_id,
      environment: 'staging',
      status: 'active',
      url: url(STG),
      state: 'succeeded',
    });
    staging = await row(String(answer.id));
    const home = await page(STG, '/');
    expect(home.status).toBe(200);
    expect(home.body).toContain('<!-- clone-marker-active -->');
  });

  it('fails a clone whose source goes away, leaving the new install failed with the reason', async () => {
    const queued = await app.services.clones.clone(actor, clone.id, { name: `clbad${tag}` });
    await app.services.installs.delete(actor, clone.id);
    const job = await finished(queued.jobId);
    expect(job.state).toBe('failed');
    const failed = await row(queued.install.install.id);
    expect(failed.status).toBe('failed');
    expect(failed.status_reason).toContain(`cloning ${DST} failed:`);
    expect(failed.status_reason).toContain('the source install is deleted or not running');
  });

  it('refuses copies it cannot make with clear errors, changing nothing', async () => {
    const before = ownFiles(source);
    const unknown = await cli(['staging', 'push', 'nosuchinstall', '--json']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('Install not found');
    const same = await cli(['staging', 'push', SRC, '--from', 'production', '--to', 'production']);
    expect(same.code).toBe(1);
    expect(same.stderr).toContain('cannot be copied onto itself');
    const missing = await cli(['staging', 'push', SRC, '--from', 'development']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`The site of install ${SRC} has no development install`);
    const both = await cli(['staging', 'push', SRC, '--files-only', '--database-only']);
    expect(both.code).toBe(2);
    expect(ownFiles(source)).toEqual(before);
    const copies = (await app.store.read.jobs.listForTarget(source.id)).filter(
      (j) => j.type === 'install.copy',
    );
    expect(copies).toEqual([]);
  });

  it('pushes the database only: staging posts appear on production at its address, its files stay', async () => {
    const staged = await wp<{ path: string }>(staging, INSERT_POST, '&title=Staged%20post');
    fs.mkdirSync(path.join(content(staging), 'plugins', 'staged-only'), { recursive: true });
    fs.writeFileSync(
      path.join(content(staging), 'plugins', 'staged-only', 'staged-only.php'),
      '<?php\n',
    );
    const prodOnly = path.join(content(source), 'uploads', 'prod-only.txt');
    fs.mkdirSync(path.dirname(prodOnly), { recursive: true });
    fs.writeFileSync(prodOnly, 'production only');

    const out = await cli(['staging', 'push', STG, '--database-only', '--json']);
    expect(out.code, out.stderr).toBe(0);
    const answer = JSON.parse(out.stdout) as {
      parts: string;
      state: string;
      safety_backup_id: string;
      from: { name: string };
      to: { name: string; url: string };
    };
    expect(answer).toMatchObject({
      parts: 'database',
      state: 'succeeded',
      from: { name: STG },
      to: { name: SRC, url: url(SRC) },
    });
    const post = await page(SRC, staged.path);
    expect(post.status).toBe(200);
    expect(post.body).toContain('Body of Staged post');
    expect(post.body).toContain(`${url(SRC)}/about/`);
    expect(post.body).not.toContain(`${STG}.localhost`);
    expect(fs.existsSync(path.join(content(source), 'plugins', 'staged-only'))).toBe(false);
    expect(fs.readFileSync(prodOnly, 'utf8')).toBe('production only');
    // The safety backup: production before the push, whole and intact.
    const safety = await app.store.read.backups.findAny(answer.safety_backup_id);
    expect(safety).toMatchObject({ install_id: source.id, status: 'completed' });
    const verified = await cli(['backups', 'verify', answer.safety_backup_id]);
    expect(verified.code, verified.stderr).toBe(0);
  });

  it('pushes the files only: staging plugins reach production, its database stays', async () => {
    const prodPost = await wp<{ path: string }>(source, INSERT_POST, '&title=Production%20post');
    const queued = await app.services.clones.copyBetween(actor, {
      from: staging.id,
      to: source.id,
      parts: 'files',
    });
    const job = await finished(queued.jobId);
    expect(job.error).toBeNull();
    expect(
      fs.existsSync(path.join(content(source), 'plugins', 'staged-only', 'staged-only.php')),
    ).toBe(true);
    expect(fs.existsSync(path.join(content(source), 'uploads', 'prod-only.txt'))).toBe(false);
    const post = await page(SRC, prodPost.path);
    expect(post.status).toBe(200);
    expect(post.body).toContain('Body of Production post');
    expect((await row(source.id)).status).toBe('active');
    const result = JSON.parse(job.result ?? '{}') as { urls_rewritten: string[] };
    expect(result.urls_rewritten).toEqual([]);
  });

  it('pushes both, and the safety backup it took restores production as it was', async () => {
    await wp(staging, ACTIVATE_AND_TITLE, '&blogname=Staging%20title');
    await wp(source, ACTIVATE_AND_TITLE, '&blogname=Production%20title');
    const before = await page(SRC, '/');
    expect(before.body).toContain('Production title');

    const out = await cli(['staging', 'push', SRC]);
    expect(out.code, out.stderr).toBe(0);
    const safety = /safety backup of \S+ before the copy: (\S+)/.exec(out.stdout)?.[1] ?? '';
    expect(out.stdout).toContain(`undo with: wpfleet backups restore ${SRC} ${safety}`);
    const after = await page(SRC, '/');
    expect(after.body).toContain('Staging title');
    expect(after.body).not.toContain(`${STG}.localhost`);

    const restored = await cli(['backups', 'restore', SRC, safety, '--json']);
    expect(restored.code, restored.stderr).toBe(0);
    const back = await page(SRC, '/');
    expect(back.body).toContain('Production title');
    expect(await actions(source.id)).toEqual(
      expect.arrayContaining(['install.copy', 'install.copied']) as unknown,
    );
  });

  it('finishes a clone killed in the middle of its swap once the server is back', async () => {
    await h().restart({ WPFLEET_CRASH_AT: 'restore.swapped' });
    const name = `clcrash${tag}`;
    const queued = await app.services.clones.clone(actor, source.id, { name });
    const exit = await h().serve.exited;
    expect(exit.signal).toBe('SIGKILL');
    const target = await row(queued.install.install.id);
    // Killed mid-swap: still pending, and the swapped-in files are in maintenance mode.
    expect(target.status).toBe('pending');
    expect(fs.existsSync(path.join(content(target), MAINTENANCE_FLAG))).toBe(true);

    await h().restart();
    const job = await finished(queued.jobId);
    expect(job.error).toBeNull();
    expect(JSON.parse(job.result ?? '{}')).toMatchObject({ resumed: true });
    expect((await row(target.id)).status).toBe('active');
    expect(fs.existsSync(path.join(content(target), MAINTENANCE_FLAG))).toBe(false);
    const post = await page(name, postPath);
    expect(post.status).toBe(200);
    expect(post.body).toContain(`${url(name)}/about/`);
    expect(post.body).not.toContain(`${SRC}.localhost`);
  });
});
