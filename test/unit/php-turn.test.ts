import { describe, expect, it } from 'vitest';
import { PhpBusyError } from '../../src/runtime/php/types.js';
import { inTurn } from '../../src/runtime/provision/php-turn.js';

/** Provisioning's steps on PHP try again while every instance is busy, and only then. */
describe('inTurn', () => {
  it('tries again after PhpBusyError until PHP answers', async () => {
    let tries = 0;
    const result = await inTurn('a step', () => {
      tries += 1;
      return tries < 2 ? Promise.reject(new PhpBusyError('all busy')) : Promise.resolve('done');
    });
    expect(result).toBe('done');
    expect(tries).toBe(2);
  });

  it('tries again on a result that says PHP was busy (the edge answered 503)', async () => {
    const statuses = [503, 200];
    const r = await inTurn('the home page', () => Promise.resolve(statuses.shift() ?? 0), {
      busy: (status) => status === 503,
    });
    expect(r).toBe(200);
    expect(statuses).toEqual([]);
  });

  it('does not try again after any other error', async () => {
    let tries = 0;
    await expect(
      inTurn('a step', () => {
        tries += 1;
        return Promise.reject(new Error('broken'));
      }),
    ).rejects.toThrow('broken');
    expect(tries).toBe(1);
  });

  it('gives up, naming the step, once PHP stayed busy past its budget', async () => {
    let tries = 0;
    await expect(
      inTurn(
        'the installer',
        () => {
          tries += 1;
          return Promise.reject(new PhpBusyError('all busy'));
        },
        { budgetMs: 1500 },
      ),
    ).rejects.toThrow(/^the installer: PHP stayed busy/);
    expect(tries).toBe(2);
  });
});
