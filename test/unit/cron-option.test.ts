import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nextCronEvent, parseCronOption } from '../../src/runtime/cron/cron-option.js';
import {
  phpUnserialize,
  PhpUnserializeError,
  type PhpArray,
  type PhpValue,
} from '../../src/runtime/cron/php-unserialize.js';

/**
 * Real `cron` option values, as WordPress stored them:
 * - playground-6.5-fresh.txt: the `wp_options` row of the WordPress 6.5 database shipped in
 *   @wp-playground/wordpress-builds (public/wp-6.5/wp-content/database/.ht.sqlite), written by
 *   WordPress's installer;
 * - wpfleet-6.1.9-future-post.txt: an install of Debian's WordPress 6.1.9 served by wpfleet,
 *   right after a post was created with status `future` a minute ahead (publish_future_post,
 *   a single event with the post id as its argument), during test/e2e/cron.test.ts;
 * - wpfleet-6.1.9-after-run.txt: another install of the same run, after the scheduler had run
 *   its overdue events (all rescheduled hours ahead).
 */
const fixture = (name: string): string =>
  fs.readFileSync(new URL(`fixtures/cron/${name}`, import.meta.url), 'utf8');

const map = (entries: [number | string, PhpValue][]): PhpArray => new Map(entries);

describe('phpUnserialize', () => {
  it('reads scalars as PHP serializes them', () => {
    expect(phpUnserialize('N;')).toBeNull();
    expect(phpUnserialize('b:1;')).toBe(true);
    expect(phpUnserialize('b:0;')).toBe(false);
    expect(phpUnserialize('i:-42;')).toBe(-42);
    expect(phpUnserialize('i:1796506127;')).toBe(1796506127);
    expect(phpUnserialize('d:0.5;')).toBe(0.5);
    expect(phpUnserialize('d:-1.0E+25;')).toBe(-1e25);
    expect(phpUnserialize('d:INF;')).toBe(Infinity);
    expect(phpUnserialize('d:NAN;')).toBeNaN();
    expect(phpUnserialize('s:0:"";')).toBe('');
  });

  it('counts string lengths in bytes, and takes quotes and semicolons inside strings as text', () => {
    expect(phpUnserialize('s:6:"héllo";')).toBe('héllo');
    expect(phpUnserialize('s:3:"✓";')).toBe('✓');
    expect(phpUnserialize('s:7:"a";b:1;";')).toBe('a";b:1;');
    // The character count instead of the byte count is refused, not misread.
    expect(() => phpUnserialize('s:5:"héllo";')).toThrow(PhpUnserializeError);
  });

  it('reads arrays in order, with integer-like string keys as integers as PHP does', () => {
    expect(phpUnserialize('a:3:{i:0;s:1:"a";s:3:"key";a:0:{}s:2:"12";b:1;}')).toEqual(
      map([
        [0, 'a'],
        ['key', map([])],
        [12, true],
      ]),
    );
    // "012", "1.5" and "-0" stay strings in PHP.
    const keys = phpUnserialize('a:3:{s:3:"012";N;s:3:"1.5";N;s:2:"-0";N;}') as PhpArray;
    expect([...keys.keys()]).toEqual(['012', '1.5', '-0']);
  });

  it('reads objects without instantiating them, and references and custom classes as markers', () => {
    expect(phpUnserialize('O:8:"stdClass":2:{s:1:"a";i:1;s:4:"\0*\0b";a:0:{}}')).toEqual({
      kind: 'object',
      className: 'stdClass',
      properties: new Map<string, PhpValue>([
        ['a', 1],
        ['\0*\0b', map([])],
      ]),
      custom: null,
    });
    expect(phpUnserialize('a:2:{i:0;O:8:"stdClass":0:{}i:1;r:2;}')).toEqual(
      map([
        [0, { kind: 'object', className: 'stdClass', properties: new Map(), custom: null }],
        [1, { kind: 'reference', index: 2 }],
      ]),
    );
    expect(phpUnserialize('C:11:"ArrayObject":4:{x:i0}')).toEqual({
      kind: 'object',
      className: 'ArrayObject',
      properties: new Map(),
      custom: 'x:i0',
    });
    expect(phpUnserialize('E:11:"Suit:Hearts";')).toMatchObject({
      className: 'Suit',
      properties: new Map([['case', 'Hearts']]),
    });
  });

  it('refuses what is not exactly one serialized value', () => {
    const bad = [
      '',
      'x:1;',
      'i:1',
      'i:1;i:2;',
      'i:1.5;',
      'b:2;',
      's:10:"short";',
      's:-1:"";',
      'a:2:{i:0;i:1;}',
      'a:1:{i:0;i:1;',
      'a:1:{d:0.5;i:1;}',
      'a:99999999999:{}',
      'O:8:"stdClass":1:{}',
      'not serialized at all',
      `${'a:1:{i:0;'.repeat(100)}N;${'}'.repeat(100)}`,
    ];
    for (const input of bad) {
      expect(() => phpUnserialize(input), input.slice(0, 40)).toThrow(PhpUnserializeError);
    }
  });

  it('reads every real cron value whole', () => {
    for (const name of [
      'playground-6.5-fresh.txt',
      'wpfleet-6.1.9-future-post.txt',
      'wpfleet-6.1.9-after-run.txt',
    ]) {
      const value = phpUnserialize(fixture(name)) as PhpArray;
      expect(value.get('version')).toBe(2);
    }
  });
});

describe('the cron option', () => {
  it("lists each event's time, earliest first, leaving out the version", () => {
    expect(parseCronOption(fixture('playground-6.5-fresh.txt')).events).toEqual([
      { at: 1719391636, hook: 'recovery_mode_clean_expired_keys', schedule: 'daily' },
      { at: 1719391636, hook: 'wp_privacy_delete_old_export_files', schedule: 'hourly' },
      { at: 1719391636, hook: 'wp_version_check', schedule: 'twicedaily' },
      { at: 1719391636, hook: 'wp_update_plugins', schedule: 'twicedaily' },
      { at: 1719391636, hook: 'wp_update_themes', schedule: 'twicedaily' },
      { at: 1719478036, hook: 'wp_site_health_scheduled_check', schedule: 'weekly' },
    ]);
    expect(nextCronEvent(fixture('playground-6.5-fresh.txt'))).toBe(1719391636);
  });

  it('sees the single event a scheduled post adds ahead of the recurring ones', () => {
    const value = phpUnserialize(fixture('wpfleet-6.1.9-future-post.txt')) as PhpArray;
    const first = value.get(1796506127) as PhpArray;
    const publish = first.get('publish_future_post') as PhpArray;
    expect([...publish.values()]).toEqual([
      map([
        ['schedule', false],
        ['args', map([[0, 4]])],
      ]),
    ]);
    expect(
      parseCronOption(fixture('wpfleet-6.1.9-future-post.txt')).events.map(
        (e) => `${e.at} ${e.hook} ${e.schedule ?? 'once'}`,
      ),
    ).toEqual([
      '1796506127 publish_future_post once',
      '1796509656 wp_privacy_delete_old_export_files hourly',
      '1796549256 wp_https_detection twicedaily',
      '1796549256 wp_version_check twicedaily',
      '1796549256 wp_update_plugins twicedaily',
      '1796549256 wp_update_themes twicedaily',
      '1796592455 wp_site_health_scheduled_check weekly',
      '1796592455 recovery_mode_clean_expired_keys daily',
    ]);
    expect(nextCronEvent(fixture('wpfleet-6.1.9-after-run.txt'))).toBe(1796509656);
  });

  it('is next due when wp-cron.php would find work: at the first timestamp in stored order', () => {
    // WordPress keeps the option sorted; stored out of order (by hand), a run stops at the first
    // timestamp still ahead, so the earlier event after it waits.
    const unsorted =
      'a:3:{i:200;a:1:{s:1:"a";a:1:{s:1:"k";a:2:{s:8:"schedule";b:0;s:4:"args";a:0:{}}}}i:100;a:1:{s:1:"b";a:1:{s:1:"k";a:2:{s:8:"schedule";b:0;s:4:"args";a:0:{}}}}s:7:"version";i:2;}';
    expect(nextCronEvent(unsorted)).toBe(200);
    expect(parseCronOption(unsorted).events.map((e) => e.at)).toEqual([100, 200]);
    // A timestamp left with no hooks is no event.
    expect(nextCronEvent('a:2:{i:50;a:0:{}i:60;a:1:{s:1:"h";a:1:{s:1:"k";a:0:{}}}}')).toBe(60);
  });

  it('counts every instance of a hook (the same hook with other arguments)', () => {
    const twice =
      'a:2:{i:100;a:1:{s:4:"ping";a:2:{s:32:"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";a:2:{s:8:"schedule";b:0;s:4:"args";a:1:{i:0;i:1;}}s:32:"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";a:2:{s:8:"schedule";b:0;s:4:"args";a:1:{i:0;i:2;}}}}s:7:"version";i:2;}';
    expect(parseCronOption(twice).events).toEqual([
      { at: 100, hook: 'ping', schedule: null },
      { at: 100, hook: 'ping', schedule: null },
    ]);
  });

  it('has no events when WordPress would find none: no row, an empty value, not an array', () => {
    expect(nextCronEvent(null)).toBeNull();
    expect(nextCronEvent('')).toBeNull();
    expect(nextCronEvent('a:1:{s:7:"version";i:2;}')).toBeNull();
    expect(nextCronEvent('b:0;')).toBeNull();
    // A timestamp whose value is not an array of hooks, and a key that is not a timestamp.
    expect(nextCronEvent('a:2:{i:5;s:1:"x";s:3:"abc";a:1:{s:1:"h";a:1:{s:1:"k";a:0:{}}}}')).toBe(
      null,
    );
  });

  it('refuses a value that is not valid serialized PHP rather than taking it for "nothing due"', () => {
    const broken = fixture('wpfleet-6.1.9-future-post.txt').slice(0, -10);
    expect(() => nextCronEvent(broken)).toThrow(PhpUnserializeError);
  });
});
