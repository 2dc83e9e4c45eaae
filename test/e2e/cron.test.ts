import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/composition.js';
import type { CronRecord } from '../../src/core/cron/cron.repository.js';
import { AgentClient } from '../../src/runtime/agent/client.js';
import { getOptions, setOptions } from '../../src/runtime/agent/core.js';
import { runDueEvents } from '../../src/runtime/agent/cron.js';
import { siteLayout } from '../../src/runtime/sites/site-files.js';
import { MARIADB_URL, startHosted, type Hosted, type HostedInstall } from '../helpers/hosted.js';
import { cliJson, runCli } from '../helpers/cli.js';
import { edgeAgentTransport, siteRequest, waitFor } from '../helpers/site.js';
import { writeWpScript } from '../helpers/wp-script.js';

/**
 * Scheduled events on real WordPress (Debian's 6.1.9) served by `wpfleet serve`, whose installs
 * have WP-Cron off: the server's scheduler runs their due events through the agent. A post
 * scheduled a minute ahead is published with no visit to its site, and an install with nothing
 * due is left alone: no run, and its PHP not woken (its database untouched).
 */

/** `wpfleet installs cron INSTALL --json`. */
interface CronJson {
  install: string;
  due: number;
  events: { hook: string; at: string; schedule: string | null }[];
  runs: { runs: number; hooks_run: number; failures: number; last_error: string | null } | null;
}

interface LogLine {
  msg: string;
  install?: string;
  hooks?: string[];
  looked?: number;
}

describe('scheduled events', () => {
  let hosted: Hosted | undefined;
  let app: App | undefined;
  let busy: HostedInstall;
  let idle: HostedInstall;
  /** The idle install as it was after its first run. */
  let idleBefore: CronRecord | undefined;
  let idleFile = '';

  const h = (): Hosted => {
    if (hosted === undefined) throw new Error('wpfleet serve did not start');
    return hosted;
  };
  const logLines = (): LogLine[] =>
    h()
      .serve.printed()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine);
  const runsOf = (name: string): LogLine[] =>
    logLines().filter((l) => l.install === name && l.msg.startsWith('cron: ran '));
  const record = async (id: string): Promise<CronRecord | undefined> => {
    if (app === undefined) throw new Error('no store');
    return app.store.read.cron.find(id);
  };
  const sqliteFile = (id: string): string =>
    path.join(siteLayout(h().store.config.dataDir, id).contentDir, 'database', '.ht.sqlite');
  const accessLog = (id: string): string => {
    const file = siteLayout(h().store.config.dataDir, id).accessLog;
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  };
  /** A post's status as WordPress left it in its database, read read-only. */
  const postStatus = (id: string, postId: number): string | undefined => {
    const db = new Database(sqliteFile(id), { readonly: true, timeout: 5000 });
    try {
      const row = db
        .prepare(`SELECT post_status FROM ${tablePrefix(id)}posts WHERE ID = ?`)
        .get(postId) as { post_status: string } | undefined;
      return row?.post_status;
    } finally {
      db.close();
    }
  };
  const fileState = (id: string): string => {
    const s = fs.statSync(sqliteFile(id));
    return `${s.size}@${s.mtimeMs}`;
  };

  beforeAll(async () => {
    hosted = await startHosted({ WPFLEET_CRON_INTERVAL: '3', WPFLEET_LOG_LEVEL: 'debug' });
    app = await createApp(h().store.config);
    const [a, b] = await Promise.all(
      ['cronbusy', 'cronidle'].map((name) =>
        h().api<HostedInstall>('POST', '/v1/installs', { name, account_id: h().accountId }),
      ),
    );
    expect(a?.status).toBe(201);
    expect(b?.status).toBe(201);
    [busy, idle] = await Promise.all([
      h().waitActive(a?.body.id ?? ''),
      h().waitActive(b?.body.id ?? ''),
    ]);
  });

  afterAll(async () => {
    await app?.close();
    await hosted?.stop();
  });

  it("runs a new install's overdue events once, through its agent", async () => {
    // A new install's database comes from the release's template, whose events (update checks,
    // cleanups) were scheduled when it was built: they are overdue, so each install runs once.
    for (const install of [busy, idle]) {
      const first = await waitFor(
        `the first cron run of ${install.name}`,
        async () => {
          const r = await record(install.id);
          return r !== undefined && r.runs >= 1 ? r : undefined;
        },
        90_000,
        500,
      );
      expect(first).toMatchObject({ failures: 0, lastError: null });
      expect(first.hooksRun).toBeGreaterThan(0);
      expect(first.nextEventAt).not.toBeNull();
      // Logged once the run is recorded.
      const run = await waitFor(
        `the log of the first run of ${install.name}`,
        () => Promise.resolve(runsOf(install.name)[0]),
        10_000,
      );
      expect(run.hooks).toEqual(expect.arrayContaining(['wp_version_check']));
    }
  });

  it('publishes a post scheduled a minute ahead without any visit', async () => {
    idleBefore = await record(idle.id);
    idleFile = fileState(idle.id);
    expect(runsOf(idle.name)).toHaveLength(1);

    // The post is written by WordPress itself (one visit, before the wait), which schedules
    // publish_future_post for its date.
    const { contentDir } = siteLayout(h().store.config.dataDir, busy.id);
    const script = writeWpScript(
      contentDir,
      `$when = time() + 60;
$id = wp_insert_post([
  'post_title' => 'Scheduled by the cron test',
  'post_status' => 'future',
  'post_date_gmt' => gmdate('Y-m-d H:i:s', $when),
  'post_date' => get_date_from_gmt(gmdate('Y-m-d H:i:s', $when)),
], true);
if (is_wp_error($id)) { http_response_code(500); echo json_encode(['error' => $id->get_error_message()]); exit; }
echo json_encode(['id' => $id, 'status' => get_post_status($id), 'next' => wp_next_scheduled('publish_future_post', [$id]), 'when' => $when]);`,
    );
    let post: { id: number; status: string; next: number | false; when: number };
    try {
      const made = await siteRequest(h().serve.url, `${busy.name}.localhost`, script.url);
      expect(made.status).toBe(200);
      post = JSON.parse(made.body) as typeof post;
    } finally {
      script.remove();
    }
    expect(post.status).toBe('future');
    expect(post.next).toBe(post.when);
    // The command reads the events from the database, as the scheduler does.
    const shown = await cliJson<CronJson>(['installs', 'cron', busy.name, '--json'], h().store.env);
    expect(shown.events[0]).toEqual({
      hook: 'publish_future_post',
      at: new Date(post.when * 1000).toISOString(),
      schedule: null,
    });
    expect(shown).toMatchObject({ install: busy.name, due: 0, runs: { runs: 1, failures: 0 } });
    // The edge writes its access log after answering: the baseline is once the visit is in it.
    const scriptPath = script.url.split('?')[0] ?? script.url;
    const visits = await waitFor(
      'the visit in the access log',
      () => {
        const log = accessLog(busy.id);
        return Promise.resolve(log.includes(scriptPath) ? log : undefined);
      },
      10_000,
    );

    const published = await waitFor(
      'the scheduled post to be published',
      () => {
        const status = postStatus(busy.id, post.id);
        return Promise.resolve(status === 'publish' ? status : undefined);
      },
      180_000,
      1000,
    );
    expect(published).toBe('publish');
    // Nobody visited the site meanwhile: the edge logged no request.
    expect(accessLog(busy.id)).toBe(visits);
    // The scheduler logs the run once the agent has answered, just after WordPress wrote it.
    await waitFor(
      'the run that published it in the log',
      () =>
        Promise.resolve(
          runsOf(busy.name).find((l) => l.hooks?.includes('publish_future_post') === true),
        ),
      30_000,
    );
  });

  it("follows WordPress's cron lock and maintenance mode, and reports what hooks throw", async () => {
    // Called directly, as a connected dashboard would (through the edge, signed), in the minute
    // after the publishing run during which the scheduler leaves this install alone. Hooks come
    // from a mu-plugin of the test's; events are added to the cron option through the agent.
    const { contentDir, configFile } = siteLayout(h().store.config.dataDir, busy.id);
    fs.writeFileSync(
      path.join(contentDir, 'mu-plugins', 'cron-test-hooks.php'),
      `<?php
add_action('wpfleet_test_throws', function () { echo 'noise'; throw new RuntimeException('failed on purpose'); });
add_action('wpfleet_test_prints', function ($n) { echo 'printed by a hook'; update_option('wpfleet_test_ran', $n); });
add_action('wpfleet_test_slow', function () { $end = microtime(true) + 1.5; while (microtime(true) < $end) {} });
`,
    );
    const secret = /'WPFLEET_AGENT_SECRET', '([0-9a-f]{64})'/.exec(
      fs.readFileSync(configFile, 'utf8'),
    )?.[1];
    const agent = new AgentClient(
      edgeAgentTransport(h().serve.url, `${busy.name}.localhost`),
      secret ?? '',
    );
    const now = Math.floor(Date.now() / 1000);
    // WordPress keys an event by md5(serialize($args)), and unschedules it by that key.
    const event = (hook: string, args: string[] = []): Record<string, unknown> => {
      const serialized = `a:${args.length}:{${args.map((a, i) => `i:${i};s:${Buffer.byteLength(a)}:"${a}";`).join('')}}`;
      const key = createHash('md5').update(serialized).digest('hex');
      return { [hook]: { [key]: { schedule: false, args } } };
    };
    const schedule = async (events: Record<string, Record<string, unknown>>): Promise<void> => {
      const { values } = await getOptions(agent, ['cron']);
      // Integer-like keys keep ascending order in a JS object, so the option stays sorted.
      await setOptions(agent, { cron: { ...(values.cron as object), ...events } });
    };
    await schedule({
      [String(now - 30)]: {
        ...event('wpfleet_test_throws'),
        ...event('wpfleet_test_prints', ['after the throw']),
      },
    });

    // Another run holds the lock (set within the last 60 s): nothing runs.
    await setOptions(agent, { _transient_doing_cron: `${now}.0000000000000000000000` });
    expect(await runDueEvents(agent, { maxSeconds: 30 })).toMatchObject({
      locked: true,
      maintenance: false,
      ran: [],
    });
    await setOptions(agent, { _transient_doing_cron: '0' });
    // Maintenance mode: the signed call passes it, and nothing runs.
    await agent.setMaintenance(true);
    try {
      expect(await runDueEvents(agent, { maxSeconds: 30 })).toMatchObject({
        maintenance: true,
        ran: [],
      });
    } finally {
      await agent.setMaintenance(false);
    }

    const run = await runDueEvents(agent, { maxSeconds: 30 });
    expect(run).toMatchObject({ locked: false, maintenance: false, incomplete: false });
    expect(run.ran).toEqual(
      expect.arrayContaining([
        {
          hook: 'wpfleet_test_throws',
          timestamp: now - 30,
          schedule: null,
          error: 'RuntimeException: failed on purpose',
        },
        { hook: 'wpfleet_test_prints', timestamp: now - 30, schedule: null, error: null },
      ]),
    );
    // The next event ran after the throw, and the lock was released.
    const after = await getOptions(agent, ['wpfleet_test_ran', '_transient_doing_cron']);
    expect(after).toEqual({
      values: { wpfleet_test_ran: 'after the throw' },
      missing: ['_transient_doing_cron'],
    });

    // The time budget: no event starts once it is spent, and the rest stays scheduled.
    await schedule({
      [String(now - 20)]: event('wpfleet_test_slow'),
      [String(now - 10)]: event('wpfleet_test_prints', ['left for later']),
    });
    const budgeted = await runDueEvents(agent, { maxSeconds: 1 });
    expect(budgeted.ran.map((r) => r.hook)).toEqual(['wpfleet_test_slow']);
    expect(budgeted.incomplete).toBe(true);
    expect(budgeted.nextEvent).toBe(now - 10);
    // Run events are gone from the option; the one left for later is still there.
    const left = JSON.stringify((await getOptions(agent, ['cron'])).values.cron);
    expect(left).not.toMatch(/wpfleet_test_(throws|slow)/);
    expect(left).toContain('left for later');
  });

  it('leaves the idle install alone all the while', async () => {
    // The idle install, with nothing due for hours, was looked at and never run: no run, and
    // its database (where any call into its WordPress leaves at least the agent's nonce)
    // untouched. After the publishing run the busy install is left out for a minute: the looks
    // that follow are at the idle one alone.
    const afterPublish = (): LogLine[] => {
      const lines = logLines();
      const at = lines.findIndex((l) => l.hooks?.includes('publish_future_post') === true);
      return lines.slice(at + 1).filter((l) => l.msg === 'cron: looked at the installs');
    };
    const looks = await waitFor(
      'five more looks at the installs',
      () => {
        const found = afterPublish();
        return Promise.resolve(found.length >= 5 ? found.slice(0, 5) : undefined);
      },
      60_000,
      1000,
    );
    expect(looks.map((l) => l.looked)).toEqual([1, 1, 1, 1, 1]);
    expect(runsOf(idle.name)).toHaveLength(1);
    expect(await record(idle.id)).toEqual(idleBefore);
    expect(fileState(idle.id)).toBe(idleFile);
    const idleShown = await cliJson<CronJson>(
      ['installs', 'cron', idle.name, '--json'],
      h().store.env,
    );
    expect(idleShown).toMatchObject({ due: 0, runs: { runs: 1, failures: 0, last_error: null } });
    expect(idleShown.events.map((e) => e.hook)).toContain('wp_version_check');
    const text = await runCli(['installs', 'cron', idle.name], h().store.env);
    expect(text.stdout).toMatch(/\twp_version_check\ttwicedaily\n/);
    expect(text.stdout).toMatch(/ events, 0 due; last run \S+ \(runs: 1, events run: \d+\)\n$/);
  });

  it("reads a MySQL install's events from its own database; after a restart runs nothing not due", async () => {
    // The same store served again, new installs on MariaDB; the SQLite ones keep theirs.
    const env = { WPFLEET_WP_DATABASE_URL: MARIADB_URL };
    await h().restart(env);
    const made = await h().api<HostedInstall>('POST', '/v1/installs', {
      name: 'cronmaria',
      account_id: h().accountId,
    });
    expect(made.status).toBe(201);
    const maria = await h().waitActive(made.body.id);
    // WordPress's installer scheduled its update checks for the moment it ran: due at once.
    const run = await waitFor(
      'the first cron run of the MariaDB install',
      () => Promise.resolve(runsOf(maria.name)[0]),
      90_000,
      500,
    );
    expect(run.hooks).toEqual(expect.arrayContaining(['wp_version_check']));
    const shown = await cliJson<CronJson>(['installs', 'cron', maria.name, '--json'], {
      ...h().store.env,
      ...env,
    });
    expect(shown).toMatchObject({ due: 0, runs: { runs: 1, failures: 0 } });
    expect(shown.events.map((e) => e.hook)).toContain('wp_version_check');
    // The SQLite installs were run before the restart and have nothing due: not run since.
    expect(runsOf(idle.name)).toHaveLength(0);
    expect(await record(idle.id)).toEqual(idleBefore);
  });

  function tablePrefix(id: string): string {
    const config = fs.readFileSync(siteLayout(h().store.config.dataDir, id).configFile, 'utf8');
    const prefix = /^\$table_prefix\s*=\s*'([A-Za-z0-9_]+)';/m.exec(config)?.[1];
    if (prefix === undefined) throw new Error('wp-config.php has no $table_prefix');
    return prefix;
  }
});
