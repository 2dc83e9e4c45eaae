import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { PageCache } from '../../src/edge/page-cache.js';
import type { PhpResponse } from '../../src/runtime/php/types.js';

function page(text: string, headers: Record<string, string[]> = {}): PhpResponse {
  return { status: 200, headers, body: new TextEncoder().encode(text) };
}

/** A render the test finishes when it chooses, counting how often it was started. */
function controlled(response: PhpResponse) {
  let calls = 0;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return {
    run: async () => {
      calls += 1;
      await done;
      return response;
    },
    finish: () => {
      finish();
    },
    calls: () => calls,
  };
}

describe('the page cache', () => {
  it('renders a page missed by several visitors at once only once, and keeps it', async () => {
    const cache = new PageCache();
    const render = controlled(page('home'));
    const first = cache.render('i1', 'a.localhost/', render.run);
    const second = cache.render('i1', 'a.localhost/', render.run);
    render.finish();
    const [a, b] = await Promise.all([first, second]);
    expect(render.calls()).toBe(1);
    expect(a.shared).toBe(false);
    expect(b.shared).toBe(true);
    expect(new TextDecoder().decode(b.response.body)).toBe('home');
    expect(cache.get('i1', 'a.localhost/')?.response).toBe(a.response);
  });

  it('does not share a response that sets a cookie: each visitor gets its own render', async () => {
    const cache = new PageCache();
    const render = controlled(page('hello', { 'set-cookie': ['session=1'] }));
    const first = cache.render('i1', 'a.localhost/', render.run);
    const second = cache.render('i1', 'a.localhost/', render.run);
    render.finish();
    const [a, b] = await Promise.all([first, second]);
    expect(render.calls()).toBe(2);
    expect([a.shared, b.shared]).toEqual([false, false]);
    expect(cache.get('i1', 'a.localhost/')).toBeUndefined();
  });

  it('keeps renders of other pages and other installs apart', async () => {
    const cache = new PageCache();
    const one = controlled(page('one'));
    const other = controlled(page('other'));
    const a = cache.render('i1', 'a.localhost/', one.run);
    const b = cache.render('i2', 'a.localhost/', other.run);
    one.finish();
    other.finish();
    const [ra, rb] = await Promise.all([a, b]);
    expect([ra.shared, rb.shared]).toEqual([false, false]);
    expect(one.calls() + other.calls()).toBe(2);
  });

  it('does not store, or share, a page whose render began before a purge', async () => {
    const cache = new PageCache();
    const stale = controlled(page('before the purge'));
    const before = cache.render('i1', 'a.localhost/', stale.run);
    cache.purge('i1');
    const fresh = controlled(page('after the purge'));
    const after = cache.render('i1', 'a.localhost/', fresh.run);
    stale.finish();
    fresh.finish();
    const [b, a] = await Promise.all([before, after]);
    expect(b.shared).toBe(false);
    expect(a.shared).toBe(false);
    expect(fresh.calls()).toBe(1);
    const kept = cache.get('i1', 'a.localhost/');
    expect(kept === undefined ? '' : new TextDecoder().decode(kept.response.body)).toBe(
      'after the purge',
    );
  });

  it('lets a visitor render again when the render it waited for failed', async () => {
    const cache = new PageCache();
    let calls = 0;
    const failing = async (): Promise<PhpResponse> => {
      calls += 1;
      await Promise.resolve();
      throw new Error('PHP crashed');
    };
    const first = cache.render('i1', 'a.localhost/', failing);
    const second = cache.render('i1', 'a.localhost/', async () => {
      calls += 1;
      await Promise.resolve();
      return page('recovered');
    });
    await expect(first).rejects.toThrow('PHP crashed');
    const b = await second;
    expect(calls).toBe(2);
    expect(b.shared).toBe(false);
    expect(new TextDecoder().decode(b.response.body)).toBe('recovered');
  });

  it('drops pages when the store says a purge happened elsewhere, and only then', async () => {
    const cache = new PageCache();
    cache.sync('i1', 4);
    await cache.render('i1', 'a.localhost/', () => Promise.resolve(page('old')));
    cache.sync('i1', 4);
    expect(cache.get('i1', 'a.localhost/')).toBeDefined();
    // Another server (or the CLI) purged: the next request here sees the new count.
    cache.sync('i1', 5);
    expect(cache.get('i1', 'a.localhost/')).toBeUndefined();
    // A stale row (the host lookup lags a purge this process made) purges nothing more.
    cache.purgedTo('i1', 7);
    await cache.render('i1', 'a.localhost/', () => Promise.resolve(page('new')));
    cache.sync('i1', 6);
    cache.sync('i1', 7);
    expect(cache.get('i1', 'a.localhost/')).toBeDefined();
    // The first count seen for an install is where this cache starts, not a purge.
    await cache.render('i2', 'b.localhost/', () => Promise.resolve(page('b')));
    cache.sync('i2', 9);
    expect(cache.get('i2', 'b.localhost/')).toBeDefined();
  });

  it('keys only anonymous, cacheable GETs and HEADs outside wp-admin, login, REST and cron', () => {
    const cache = new PageCache();
    const req = (method: string, headers: Record<string, string> = {}) =>
      ({ method, headers }) as unknown as IncomingMessage;
    expect(cache.keyOf(req('GET'), 'a.localhost', '/hello/?x=1')).toBe('a.localhost/hello/?x=1');
    expect(cache.keyOf(req('HEAD'), 'a.localhost', '/')).toBe('a.localhost/');
    expect(cache.keyOf(req('POST'), 'a.localhost', '/')).toBeNull();
    for (const url of [
      '/wp-admin/',
      '/wp-login.php?action=lostpassword',
      '/wp-json/wp/v2/posts',
      '/wp-cron.php',
      '/xmlrpc.php',
      '/wp-comments-post.php',
    ]) {
      expect(cache.keyOf(req('GET'), 'a.localhost', url)).toBeNull();
    }
    // Pages whose path only starts like those are pages.
    expect(cache.keyOf(req('GET'), 'a.localhost', '/wp-content/x.html')).not.toBeNull();
    expect(cache.keyOf(req('GET'), 'a.localhost', '/xmlrpc-guide/')).not.toBeNull();
    const visitor = { cookie: 'theme=dark' };
    expect(cache.keyOf(req('GET', visitor), 'a.localhost', '/')).not.toBeNull();
    for (const headers of [
      { cookie: 'theme=dark; wordpress_logged_in_abc=1' },
      { cookie: 'comment_author_x=ann' },
      { 'cache-control': 'no-cache' },
      { 'cache-control': 'max-age=0, no-store' },
      { pragma: 'no-cache' },
    ]) {
      expect(cache.keyOf(req('GET', headers), 'a.localhost', '/')).toBeNull();
    }
  });
});
