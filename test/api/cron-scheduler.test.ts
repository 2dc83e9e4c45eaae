import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/composition.js';
import type { InstallRow } from '../../src/core/installs/installs.repository.js';
import type { CronRunResult } from '../../src/core/site-agent/operations.types.js';
import type { SiteAgent, SiteAgents } from '../../src/core/site-agent/site-agent.js';
import { newId } from '../../src/core/shared/ids.js';
import type { CronSource } from '../../src/runtime/cron/cron-sources.js';
import { CronScheduler, type RunningInstall } from '../../src/runtime/cron/scheduler.js';
import { ENGINES, testStore, type TestStore } from '../helpers/engines.js';

/**
 * The claim on installs' cron in the store, on SQLite and PostgreSQL, and the scheduler on top
 * of it with stand-ins for what it reads (installs' stored `cron` options) and calls (their
 * agents): an install runs only with an event due, at most once a minute however many server
 * processes look, a failure is retried the next minute and then backs off, and an install that
 * never answers does not hold the others up. test/e2e/cron.test.ts runs the real thing.
 */

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const MINUTE = 60_000;
const iso = (ms: number): string => new Date(ms).toISOString();

/** A `cron` option value with one event at `at` (unix seconds). */
function cronWith(at: number): string {
  return `a:2:{i:${at};a:1:{s:16:"wp_version_check";a:1:{s:32:"40cd750bba9870f18aada2478b24840a";a:3:{s:8:"schedule";s:10:"twicedaily";s:4:"args";a:0:{}s:8:"interval";i:43200;}}}s:7:"version";i:2;}`;
}

/** What the installs "hold" and how their agents behave, keyed by install id. */
class StandIns {
  options = new Map<string, string | null>();
  maintenance = new Set<string>();
  /** Agents that fail, or never answer. */
  failing = new Set<string>();
  hanging = new Set<string>();
  calls: string[] = [];
  reads: string[] = [];

  source(install: RunningInstall): CronSource {
    return {
      fingerprint: () => Promise.resolve(null),
      read: () => {
        this.reads.push(install.name);
        return Promise.resolve(this.options.get(install.id) ?? null);
      },
    };
  }

  agents(): SiteAgents {
    return {
      forInstall: (id) => {
        const agent: Pick<SiteAgent, 'runDueEvents'> = {
          runDueEvents: () => {
            this.calls.push(id);
            if (this.hanging.has(id)) return new Promise<never>(() => undefined);
            if (this.failing.has(id)) {
              return Promise.reject(new Error('The site did not answer its agent: HTTP 500'));
            }
            const result: CronRunResult = {
              maintenance: false,
              locked: false,
              ran: [
                { hook: 'wp_version_check', timestamp: 1, schedule: 'twicedaily', error: null },
              ],
              incomplete: false,
              nextEvent: Math.floor(T0 / 1000) + 43200,
            };
            return Promise.resolve(result);
          },
        };
        return Promise.resolve(agent as SiteAgent);
      },
    };
  }
}

interface Logged {
  level: string;
  msg: string;
}

describe.each(ENGINES)('installs cron on %s', (engine) => {
  let store: TestStore;
  let app: App;
  /** A second connection to the same store: another server process. */
  let other: App;
  let accountId: string;

  beforeAll(async () => {
    store = await testStore(engine);
    app = await createApp(store.config);
    other = await createApp(store.config);
    ({
      account: { id: accountId },
    } = await app.services.accounts.create({ name: 'Cron' }));
  });

  afterAll(async () => {
    await other.close();
    await app.close();
    await store.dispose();
  });

  async function install(
    name: string,
    changes: Partial<InstallRow> = {},
  ): Promise<InstallRow & { table_prefix: string }> {
    const row = {
      id: newId(),
      account_id: accountId,
      site_id: null,
      name,
      environment: 'production',
      status: 'active',
      php_version: '8.3',
      wp_version: '6.1.9',
      is_multisite: 0,
      created_at: iso(T0),
      deleted_at: null,
      release_version: '6.1.9',
      table_prefix: 'wp_',
      agent_secret: 'a'.repeat(64),
      db_name: null,
      db_user: null,
      db_password: null,
      status_reason: null,
      pages_generation: 0,
      ...changes,
    };
    await app.store.transaction((r) => r.installs.insert(row));
    return { ...row, table_prefix: row.table_prefix ?? 'wp_' };
  }

  function scheduler(
    on: App,
    standIns: StandIns,
    clock: { now: number },
    options: { concurrency?: number; timeoutMs?: number } = {},
  ): { scheduler: CronScheduler; log: Logged[] } {
    const log: Logged[] = [];
    const record =
      (level: string) =>
      (_details: unknown, msg = ''): void => {
        log.push({ level, msg });
      };
    const scheduler = new CronScheduler(
      {
        store: on.store,
        agents: standIns.agents(),
        source: (i) => standIns.source(i),
        inMaintenance: (i) => standIns.maintenance.has(i.id),
        log: { debug: record('debug'), info: record('info'), warn: record('warn') },
        clock: () => clock.now,
      },
      {
        intervalMs: 1000,
        concurrency: options.concurrency ?? 2,
        timeoutMs: options.timeoutMs ?? 30_000,
      },
    );
    return { scheduler, log };
  }

  describe('the claim', () => {
    it('is taken once per minute: again within it is refused, after it taken', async () => {
      const { id } = await install('claimonce');
      const cron = app.store.read.cron;
      expect(await cron.claim(id, iso(T0), iso(T0 + MINUTE))).toBe(true);
      expect(await cron.claim(id, iso(T0 + 30_000), iso(T0 + 30_000 + MINUTE))).toBe(false);
      expect(await cron.claim(id, iso(T0 + MINUTE - 1), iso(T0 + 2 * MINUTE))).toBe(false);
      expect(await cron.claim(id, iso(T0 + MINUTE), iso(T0 + 2 * MINUTE))).toBe(true);
      expect(await cron.find(id)).toMatchObject({
        nextRunAt: iso(T0 + 2 * MINUTE),
        lastRunAt: iso(T0 + MINUTE),
        runs: 0,
      });
    });

    it('goes to exactly one of many concurrent claimers, over two connections', async () => {
      const { id } = await install('claimrace');
      const claims = Array.from({ length: 12 }, (_, i) =>
        (i % 2 === 0 ? app : other).store.read.cron.claim(id, iso(T0 + i), iso(T0 + i + MINUTE)),
      );
      const won = (await Promise.all(claims)).filter(Boolean);
      expect(won).toEqual([true]);
    });

    it('records successes and failures, with the counters', async () => {
      const { id } = await install('claimrecord');
      const cron = app.store.read.cron;
      await cron.claim(id, iso(T0), iso(T0 + MINUTE));
      await cron.failed(id, 'boom', iso(T0 + 2 * MINUTE));
      expect(await cron.find(id)).toMatchObject({
        failures: 1,
        lastError: 'boom',
        nextRunAt: iso(T0 + 2 * MINUTE),
        runs: 1,
        lastOkAt: null,
      });
      await cron.claim(id, iso(T0 + 2 * MINUTE), iso(T0 + 3 * MINUTE));
      await cron.succeeded(id, {
        startedAt: iso(T0 + 2 * MINUTE),
        hooks: 3,
        nextEventAt: iso(T0 + 60 * MINUTE),
      });
      expect(await cron.find(id)).toEqual({
        installId: id,
        nextRunAt: iso(T0 + 3 * MINUTE),
        lastRunAt: iso(T0 + 2 * MINUTE),
        lastOkAt: iso(T0 + 2 * MINUTE),
        failures: 0,
        lastError: null,
        runs: 2,
        hooksRun: 3,
        nextEventAt: iso(T0 + 60 * MINUTE),
      });
    });

    it('offers only running installs no process has claimed for later', async () => {
      const running = await install('candrun');
      const claimed = await install('candclaimed');
      const pending = await install('candpending', { status: 'pending', wp_version: null });
      const failed = await install('candfailed', { status: 'failed' });
      const deleted = await install('canddeleted', { deleted_at: iso(T0) });
      await app.store.read.cron.claim(claimed.id, iso(T0), iso(T0 + MINUTE));
      const ids = (await app.store.read.cron.candidates(iso(T0 + 1000))).map((c) => c.install.id);
      expect(ids).toContain(running.id);
      for (const left of [claimed, pending, failed, deleted]) expect(ids).not.toContain(left.id);
      const later = (await app.store.read.cron.candidates(iso(T0 + MINUTE))).map(
        (c) => c.install.id,
      );
      expect(later).toContain(claimed.id);
    });

    it('offers the least recently run first, those never run before all', async () => {
      const recent = await install('orderrecent');
      const never = await install('ordernever');
      const older = await install('orderolder');
      await app.store.read.cron.claim(recent.id, iso(T0 + 2000), iso(T0 + 2000 + MINUTE));
      await app.store.read.cron.claim(older.id, iso(T0 + 1000), iso(T0 + 1000 + MINUTE));
      const ids = new Set([recent.id, never.id, older.id]);
      const order = (await app.store.read.cron.candidates(iso(T0 + 2 * MINUTE)))
        .map((c) => c.install.id)
        .filter((id) => ids.has(id));
      expect(order).toEqual([never.id, older.id, recent.id]);
    });
  });

  describe('the scheduler', () => {
    // Installs of the claim tests above are candidates too; each test looks at its own only.
    const only = (standIns: StandIns, ids: string[]): string[] =>
      standIns.calls.filter((c) => ids.includes(c));

    it('runs an install with an event due, once a minute at most, and never one with nothing due', async () => {
      const standIns = new StandIns();
      const clock = { now: T0 + 10 * 24 * 60 * MINUTE };
      const due = await install('scheddue');
      const idle = await install('schedidle');
      const none = await install('schednone');
      standIns.options.set(due.id, cronWith(clock.now / 1000 - 5));
      standIns.options.set(idle.id, cronWith(clock.now / 1000 + 3600));
      standIns.options.set(none.id, null);
      const { scheduler: s } = scheduler(app, standIns, clock);
      const ids = [due.id, idle.id, none.id];

      await s.look();
      await s.drain();
      expect(only(standIns, ids)).toEqual([due.id]);
      expect(await app.store.read.cron.find(idle.id)).toBeUndefined();

      // Still due (the stand-in's option did not change), but within the minute: not run.
      clock.now += 30_000;
      await s.look();
      await s.drain();
      expect(only(standIns, ids)).toEqual([due.id]);

      clock.now += 30_000;
      await s.look();
      await s.drain();
      expect(only(standIns, ids)).toEqual([due.id, due.id]);
      expect(await app.store.read.cron.find(due.id)).toMatchObject({
        runs: 2,
        hooksRun: 2,
        failures: 0,
      });
    });

    it('runs a due install once when two server processes look at the same moment', async () => {
      const standIns = new StandIns();
      const clock = { now: T0 + 20 * 24 * 60 * MINUTE };
      const due = await install('schedtwice');
      standIns.options.set(due.id, cronWith(clock.now / 1000 - 5));
      const a = scheduler(app, standIns, clock).scheduler;
      const b = scheduler(other, standIns, clock).scheduler;
      await Promise.all([a.look(), b.look()]);
      await Promise.all([a.drain(), b.drain()]);
      expect(only(standIns, [due.id])).toEqual([due.id]);
    });

    it('leaves an install in maintenance mode alone', async () => {
      const standIns = new StandIns();
      const clock = { now: T0 + 30 * 24 * 60 * MINUTE };
      const held = await install('schedmaint');
      standIns.options.set(held.id, cronWith(clock.now / 1000 - 5));
      standIns.maintenance.add(held.id);
      const { scheduler: s } = scheduler(app, standIns, clock);
      const found = await s.look();
      await s.drain();
      expect(found.maintenance).toBeGreaterThanOrEqual(1);
      expect(only(standIns, [held.id])).toEqual([]);
      expect(standIns.reads).not.toContain('schedmaint');
    });

    it('retries a failure the next minute, then backs off, and logs each', async () => {
      const standIns = new StandIns();
      const clock = { now: T0 + 40 * 24 * 60 * MINUTE };
      const broken = await install('schedfail');
      standIns.options.set(broken.id, cronWith(clock.now / 1000 - 5));
      standIns.failing.add(broken.id);
      const { scheduler: s, log } = scheduler(app, standIns, clock);
      const step = async (ms: number): Promise<void> => {
        clock.now += ms;
        await s.look();
        await s.drain();
      };

      await step(0);
      expect(await app.store.read.cron.find(broken.id)).toMatchObject({
        failures: 1,
        nextRunAt: iso(clock.now + MINUTE),
        lastError: 'The site did not answer its agent: HTTP 500',
      });
      await step(MINUTE);
      const second = clock.now;
      expect(await app.store.read.cron.find(broken.id)).toMatchObject({
        failures: 2,
        nextRunAt: iso(second + 2 * MINUTE),
      });
      await step(MINUTE); // backing off: not run
      expect(only(standIns, [broken.id])).toHaveLength(2);
      await step(MINUTE);
      expect(only(standIns, [broken.id])).toHaveLength(3);
      expect(
        log.filter((l) => l.level === 'warn' && l.msg.includes('schedfail failed')),
      ).toHaveLength(3);

      standIns.failing.delete(broken.id);
      await step(4 * MINUTE);
      expect(await app.store.read.cron.find(broken.id)).toMatchObject({
        failures: 0,
        lastError: null,
        runs: 4,
      });
    });

    it('does not let an install that never answers hold up the others', async () => {
      const standIns = new StandIns();
      const clock = { now: T0 + 50 * 24 * 60 * MINUTE };
      // Never run, both come in id order: the stuck install is looked at first.
      const [firstId, secondId] = [newId(), newId()].sort();
      const stuck = await install('schedstuck', { id: firstId ?? '' });
      const fine = await install('schedfine', { id: secondId ?? '' });
      for (const i of [stuck, fine]) standIns.options.set(i.id, cronWith(clock.now / 1000 - 5));
      standIns.hanging.add(stuck.id);
      const { scheduler: s } = scheduler(app, standIns, clock, {
        concurrency: 1,
        timeoutMs: 200,
      });
      await s.look();
      await s.drain();
      expect(only(standIns, [stuck.id, fine.id])).toEqual([stuck.id, fine.id]);
      expect(await app.store.read.cron.find(stuck.id)).toMatchObject({
        failures: 1,
        lastError: 'no answer within 0.2 s',
      });
      expect(await app.store.read.cron.find(fine.id)).toMatchObject({ failures: 0, runs: 1 });
      // Its call still hangs: it is not queued again while it does, even once claimable.
      clock.now += 5 * MINUTE;
      await s.look();
      await s.drain();
      expect(only(standIns, [stuck.id])).toEqual([stuck.id]);
    });
  });
});
