import { describe, expect, it } from 'vitest';
import { operatorActor } from '../../src/core/actor.js';
import { NotFoundError, SiteOperationError } from '../../src/core/errors.js';
import {
  fleetReport,
  runFleet,
  type FleetEvent,
  type FleetInstall,
} from '../../src/core/fleet/fleet-runner.js';
import { FleetService } from '../../src/core/fleet/fleet.service.js';
import type { InstallRecord } from '../../src/core/installs/installs.repository.js';
import { UnknownPackageError } from '../../src/core/packages/package-errors.js';

const installs = (n: number): FleetInstall[] =>
  Array.from({ length: n }, (_, i) => ({ id: `id${i}`, name: `site${i}` }));

/** A promise the test settles, and whether it has been asked for. */
function gate(): { promise: Promise<void>; open: () => void; fail: (err: Error) => void } {
  let open = (): void => undefined;
  let fail = (_err: Error): void => undefined;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

/** Lets every settled promise's callbacks run. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
};

describe('runFleet', () => {
  it('never runs more than `concurrency` installs at once, and starts the next as one ends', async () => {
    const gates = new Map<string, ReturnType<typeof gate>>();
    let running = 0;
    let most = 0;
    const started: string[] = [];
    const run = runFleet(
      installs(7),
      async (i) => {
        started.push(i.name);
        running += 1;
        most = Math.max(most, running);
        const g = gate();
        gates.set(i.name, g);
        await g.promise;
        running -= 1;
        return i.name.toUpperCase();
      },
      { concurrency: 3 },
    );
    await settle();
    expect(started).toEqual(['site0', 'site1', 'site2']);
    gates.get('site1')?.open();
    await settle();
    expect(started).toEqual(['site0', 'site1', 'site2', 'site3']);
    // Finish the rest in reverse order of start, a few at a time.
    for (const name of ['site3', 'site2', 'site0', 'site4', 'site5', 'site6']) {
      await settle();
      gates.get(name)?.open();
    }
    const results = await run;
    expect(most).toBe(3);
    expect(started).toHaveLength(7);
    // The order given, whatever order they finished in.
    expect(results.map((r) => r.install.name)).toEqual(installs(7).map((i) => i.name));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(results[4]).toEqual({
      install: { id: 'id4', name: 'site4' },
      ok: true,
      result: 'SITE4',
      ms: expect.any(Number) as unknown,
    });
  });

  it('keeps going after failures, each with its code and message', async () => {
    const results = await runFleet(
      installs(5),
      (i) => {
        if (i.name === 'site1') {
          return Promise.reject(
            new SiteOperationError('not_found', 'plugin_not_installed', 'Plugin not installed.'),
          );
        }
        if (i.name === 'site3')
          return Promise.reject(new UnknownPackageError('plugin', 'nope', "Couldn't find 'nope'"));
        if (i.name === 'site4') throw new Error('boom');
        return Promise.resolve(i.id);
      },
      { concurrency: 2 },
    );
    expect(results.map((r) => r.ok)).toEqual([true, false, true, false, false]);
    expect(results[1]).toEqual({
      install: { id: 'id1', name: 'site1' },
      ok: false,
      error: { code: 'plugin_not_installed', message: 'Plugin not installed.' },
      ms: expect.any(Number) as unknown,
    });
    expect(results[3]).toMatchObject({ ok: false, error: { code: 'unknown_slug' } });
    expect(results[4]).toMatchObject({ ok: false, error: { code: 'error', message: 'boom' } });
    expect(fleetReport(results)).toMatchObject({ ok: false, total: 5, succeeded: 2, failed: 3 });
  });

  it('keeps the code an error names of itself (an outcome such as rolled_back, a system error)', async () => {
    const named = Object.assign(new Error('rolled back: the home page answered 500'), {
      code: 'rolled_back',
    });
    const [result] = await runFleet(installs(1), () => Promise.reject(named), { concurrency: 1 });
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'rolled_back', message: 'rolled back: the home page answered 500' },
    });
  });

  it('tells each start and end, with counts, and survives a listener that throws', async () => {
    const events: FleetEvent<number>[] = [];
    const results = await runFleet(installs(3), (i) => Promise.resolve(i.name.length), {
      concurrency: 1,
      onEvent: (e) => {
        events.push(e);
        throw new Error('a broken progress bar');
      },
    });
    expect(results.every((r) => r.ok)).toBe(true);
    expect(events.map((e) => `${e.type} ${e.install.name} ${e.done}/${e.total}`)).toEqual([
      'started site0 0/3',
      'finished site0 1/3',
      'started site1 1/3',
      'finished site1 2/3',
      'started site2 2/3',
      'finished site2 3/3',
    ]);
    const last = events.at(-1);
    expect(last?.type === 'finished' && last.result.ok).toBe(true);
  });

  it('answers an empty fleet without running anything, and takes a concurrency below 1 as 1', async () => {
    expect(await runFleet([], () => Promise.resolve(1), { concurrency: 4 })).toEqual([]);
    let running = 0;
    let most = 0;
    await runFleet(
      installs(3),
      async () => {
        running += 1;
        most = Math.max(most, running);
        await settle();
        running -= 1;
      },
      { concurrency: 0 },
    );
    expect(most).toBe(1);
  });
});

describe('FleetService', () => {
  const row = (name: string, status: string, account = 'acc1'): InstallRecord =>
    ({
      id: `${name}-id`,
      name,
      account_id: account,
      status,
      status_reason: status === 'failed' ? 'the installer failed' : null,
    }) as InstallRecord;
  const rows = [
    row('alpha', 'active'),
    row('beta', 'pending'),
    row('gamma', 'active'),
    row('delta', 'failed'),
    row('omega', 'active', 'acc2'),
  ];
  const service = new FleetService({
    list: (actor) => {
      const items = rows
        .filter((r) => r.account_id === actor.accountId)
        .map((install) => ({ install, cname: '', primaryDomain: '' }));
      return Promise.resolve({ items, total: items.length });
    },
  });
  const acc1 = [operatorActor('acc1')];

  it('runs every active install of the accounts and skips the others with the reason', async () => {
    const plan = await service.plan([...acc1, operatorActor('acc2')], { all: true });
    expect(plan.targets.map((t) => `${t.name}@${t.accountId}`)).toEqual([
      'alpha@acc1',
      'gamma@acc1',
      'omega@acc2',
    ]);
    const report = await service.run(plan, (t) => Promise.resolve(t.name), { concurrency: 2 });
    expect(report).toMatchObject({ ok: true, total: 5, succeeded: 3, failed: 0, skipped: 2 });
    expect(report.results.map((r) => `${r.install.name} ${r.ok ? 'ok' : r.error.code}`)).toEqual([
      'alpha ok',
      'gamma ok',
      'omega ok',
      'beta not_active',
      'delta not_active',
    ]);
    expect(report.results[4]).toMatchObject({
      skipped: true,
      error: { message: expect.stringContaining('the installer failed') as unknown },
    });
  });

  it('takes names and ids in the order given, once each; a named install not active fails', async () => {
    const plan = await service.plan(acc1, { installs: ['gamma', 'alpha-id', 'gamma', 'beta'] });
    expect(plan.targets.map((t) => t.name)).toEqual(['gamma', 'alpha']);
    const report = await service.run(plan, () => Promise.resolve(true), { concurrency: 4 });
    expect(report).toMatchObject({ ok: false, total: 3, succeeded: 2, failed: 1, skipped: 0 });
    expect(report.results[2]).toMatchObject({ install: { name: 'beta' }, ok: false });
    expect(report.results[2]).not.toHaveProperty('skipped');
  });

  it('refuses unknown names before anything runs (another account is unknown)', async () => {
    await expect(service.plan(acc1, { installs: ['alpha', 'nosuch', 'omega'] })).rejects.toThrow(
      new NotFoundError('Installs nosuch, omega'),
    );
  });
});
