import { describe, expect, it } from 'vitest';
import { FixedWindowLimiter } from '../../src/api/shared/rate-limiter.js';

describe('FixedWindowLimiter', () => {
  it('allows the limit per window per key, then refuses until the window ends', () => {
    let now = 60_000 * 10 + 15_000;
    const limiter = new FixedWindowLimiter(2, 60_000, () => now);
    expect(limiter.hit('a').allowed).toBe(true);
    const second = limiter.hit('a');
    expect(second).toMatchObject({ allowed: true, remaining: 0, limit: 2 });
    const third = limiter.hit('a');
    expect(third.allowed).toBe(false);
    expect(third.retryAfterSeconds).toBe(45);
    expect(third.resetAt).toBe(660);
    expect(limiter.hit('b').allowed).toBe(true);
    now += 45_000;
    expect(limiter.hit('a')).toMatchObject({ allowed: true, remaining: 1 });
  });
});
