import { readFileSync } from 'node:fs';
import { loadNodeRuntime } from '@php-wasm/node';
import { PHP, PHPResponse, type SupportedPHPVersion } from '@php-wasm/universal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The search-replace module's pure parts (options, regex check, table and column selection, the
 * serialized-aware replacer) on php-wasm without WordPress, loaded the way WordPress loads them:
 * the agent requires every module beside it. Expected values marked "feature:" are copied from
 * wp-cli/search-replace-command features/search-replace.feature (commit e1c42e46); the others
 * are this project's own cases for what that file does not cover (widgets, nested and
 * double-serialized values, multibyte lengths).
 */
const AGENT = readFileSync(new URL('../../agent/wpfleet-agent.php', import.meta.url), 'utf8');
const MODULE = readFileSync(
  new URL('../../agent/wpfleet-agent/search-replace.php', import.meta.url),
  'utf8',
);
const VERSIONS: SupportedPHPVersion[] = ['7.4', '8.3', '8.5'];

async function boot(version: SupportedPHPVersion): Promise<PHP> {
  const php = new PHP(await loadNodeRuntime(version, { emscriptenOptions: { processId: 1 } }));
  php.mkdir('/agent/wpfleet-agent');
  php.writeFile('/agent/wpfleet-agent.php', AGENT);
  php.writeFile('/agent/wpfleet-agent/search-replace.php', MODULE);
  return php;
}

const lit = (value: unknown): string =>
  `json_decode(${JSON.stringify(JSON.stringify(value))}, true)`;

describe.each(VERSIONS)('search-replace PHP on %s', (version) => {
  let runtime: PHP;

  beforeAll(async () => {
    runtime = await boot(version);
  });

  afterAll(() => {
    runtime.exit();
  });

  /** Runs PHP after loading the agent (which loads the module), every notice reported. */
  async function evaluate(code: string): Promise<unknown> {
    const result = await PHPResponse.fromStreamedResponse(
      await runtime.runStream({
        code: `<?php error_reporting(E_ALL); ini_set('display_errors', '1');
          require '/agent/wpfleet-agent.php';
          ${code}`,
      }),
    );
    expect(result.errors).toBe('');
    try {
      return JSON.parse(result.text) as unknown;
    } catch {
      throw new Error(`not JSON: ${result.text}`);
    }
  }

  /** What the replacer makes of each value, and the warnings it gave. */
  async function replace(
    search: string,
    replacement: string,
    values: string[],
    options: { recurseObjects?: boolean; regex?: boolean; flags?: string; limit?: number } = {},
  ): Promise<{ out: (string | null)[]; warnings: string[] }> {
    const args = [
      lit(search),
      lit(replacement),
      options.recurseObjects === false ? 'false' : 'true',
      options.regex === true ? 'true' : 'false',
      lit(options.flags ?? ''),
      'chr(1)',
      String(options.limit ?? -1),
    ].join(', ');
    return (await evaluate(`$r = new WPFleet_Agent_Search_Replacer(${args});
      $out = array_map(array($r, 'run'), ${lit(values)});
      echo json_encode(array('out' => $out, 'warnings' => $r->warnings));`)) as {
      out: (string | null)[];
      warnings: string[];
    };
  }

  async function options(body: unknown): Promise<[Record<string, unknown> | null, string | null]> {
    return (await evaluate(`echo json_encode(wpfleet_agent_sr_options(${lit(body)}));`)) as [
      Record<string, unknown> | null,
      string | null,
    ];
  }

  it('registers its route with the agent', async () => {
    expect(await evaluate(`echo json_encode(wpfleet_agent_routes()['/search-replace']);`)).toEqual([
      'POST',
      'wpfleet_agent_search_replace',
    ]);
  });

  it("fills in WP-CLI's defaults", async () => {
    const [o, error] = await options({ search: 'a', replace: '' });
    expect(error).toBeNull();
    expect(o).toMatchObject({
      search: 'a',
      replace: '',
      dry_run: false,
      recurse_objects: true,
      precise: false,
      regex: false,
      regex_limit: -1,
      regex_delimiter: '\u0001',
      default_delimiter: true,
      report_changed_only: false,
      tables: [],
    });
  });

  it('refuses a missing search, bad types, unknown fields and bad regex limits', async () => {
    const cases: [unknown, string][] = [
      [{ replace: 'x' }, 'search must be a non-empty string.'],
      [{ search: '', replace: 'x' }, 'search must be a non-empty string.'],
      [{ search: 'a' }, 'replace must be a string (it may be empty).'],
      [{ search: 'a', replace: 'b', dry_run: 'yes' }, 'dry_run must be true or false.'],
      [{ search: 'a', replace: 'b', tables: 'wp_posts' }, 'tables must be a list of strings.'],
      [
        { search: 'a', replace: 'b', skip_columns: [1] },
        'skip_columns must be a list of non-empty strings.',
      ],
      [{ search: 'a', replace: 'b', network: true }, 'Unknown field "network".'],
      [{ search: 'a', replace: 'b', regex_flags: 1 }, 'regex_flags must be a string.'],
      // feature: "Regex search/replace with incorrect or default `--regex-limit`"
      [
        { search: 'a', replace: 'b', regex: true, regex_limit: 'asdf' },
        'regex_limit expects a non-zero positive integer or -1.',
      ],
      [
        { search: 'a', replace: 'b', regex: true, regex_limit: 0 },
        'regex_limit expects a non-zero positive integer or -1.',
      ],
      [
        { search: 'a', replace: 'b', regex: true, regex_limit: -2 },
        'regex_limit expects a non-zero positive integer or -1.',
      ],
    ];
    for (const [body, message] of cases) {
      expect([body, (await options(body))[1]]).toEqual([body, message]);
    }
    expect(
      (await options({ search: 'a', replace: 'b', regex: true, regex_limit: -1 }))[1],
    ).toBeNull();
    expect((await options({ search: 'a', replace: 'b', regex_limit: '2' }))[0]).toMatchObject({
      regex_limit: 2,
    });
  });

  it("refuses an invalid regex with WP-CLI's message, before anything else", async () => {
    // feature: "Regex search/replace with a incorrect `--regex-flags`"
    expect(
      (
        await options({
          search: '(Hello)\\s(world)',
          replace: '$2, $1',
          regex: true,
          regex_flags: 'kppr',
        })
      )[1],
    ).toBe(
      "The regex pattern '(Hello)\\s(world)' with default delimiter 'chr(1)' and flags 'kppr' fails.\npreg_match(): Unknown modifier 'k'.",
    );
    // feature: "Search replace with a regex delimiter"
    const delimiter = (
      await options({
        search: 'HTTPS://EXAMPLE.COM',
        replace: 'https://example.jp/',
        regex: true,
        regex_flags: 'i',
        regex_delimiter: '1',
      })
    )[1];
    expect(delimiter).toContain(
      "The regex '1HTTPS://EXAMPLE.COM1i' fails.\npreg_match(): Delimiter must not be alphanumeric",
    );
    const compile =
      /preg_match\(\): Compilation failed: unmatched (closing parenthesis|parentheses) at offset [0-9]+\.?/;
    const variants: [Record<string, unknown>, string][] = [
      [{}, "The regex pattern 'regex error)' with default delimiter 'chr(1)' and no flags fails."],
      [
        { regex_flags: 'u' },
        "The regex pattern 'regex error)' with default delimiter 'chr(1)' and flags 'u' fails.",
      ],
      [{ regex_delimiter: '/' }, "The regex '/regex error)/' fails."],
      [{ regex_delimiter: '/', regex_flags: 'u' }, "The regex '/regex error)/u' fails."],
    ];
    for (const [extra, message] of variants) {
      const error = (
        await options({ search: 'regex error)', replace: '', regex: true, ...extra })
      )[1];
      expect(error).toContain(message);
      expect(error).toMatch(compile);
    }
    // Without `regex` the search is a plain string, whatever it holds.
    expect(
      (await options({ search: 'regex error)', replace: '', regex_delimiter: '/' }))[1],
    ).toBeNull();
  });

  it('replaces inside serialized arrays and stdClass objects, lengths recomputed', async () => {
    // feature: "Ensure search and replace uses PHP (precise) mode when serialized data is found"
    const { out } = await replace('foo', 'bar', [
      'a:1:{s:3:"bar";s:3:"foo";}',
      'O:8:"stdClass":1:{s:1:"a";s:3:"foo";}',
    ]);
    expect(out).toEqual(['a:1:{s:3:"bar";s:3:"bar";}', 'O:8:"stdClass":1:{s:1:"a";s:3:"bar";}']);
  });

  it('reaches into objects only when recurse_objects is on (theme mods)', async () => {
    // feature: "Search and replace within theme mods": 0 replacements with --no-recurse-objects, then 1.
    const mods = (await evaluate(
      `echo json_encode(serialize(array('header_image_data' => (object) array('url' => 'https://subdomain.example.com/foo.jpg'))));`,
    )) as string;
    const off = await replace('subdomain.example.com', 'example.com', [mods], {
      recurseObjects: false,
    });
    expect(off.out).toEqual([mods]);
    const on = await replace('subdomain.example.com', 'example.com', [mods]);
    expect(
      await evaluate(`echo json_encode(unserialize(${lit(on.out[0])})['header_image_data']);`),
    ).toEqual({ url: 'https://example.com/foo.jpg' });
  });

  it('replaces the JSON-escaped form of the search too', async () => {
    // feature: "Search and replace handles JSON-encoded URLs in post content"
    const { out } = await replace('http://example.com', 'http://newdomain.com', [
      '{"src":"http:\\/\\/example.com\\/wp-content\\/uploads\\/fonts\\/test.woff2","fontWeight":"400"}',
    ]);
    expect(out[0]).toContain('http:\\/\\/newdomain.com');
    expect(out[0]).not.toContain('http:\\/\\/example.com');
    // Non-ASCII is \u-escaped in that form, as json_encode does.
    expect(
      await evaluate(`echo json_encode(wpfleet_agent_sr_json_form('https://ü.example/'));`),
    ).toBe('https:\\/\\/\\u00fc.example\\/');
  });

  it('is case sensitive and takes quotes literally', async () => {
    // feature: "Search / replace is case sensitive", "Search and replace with quoted strings"
    expect((await replace('sensitive', 'insensitive', ['Case Sensitive'])).out).toEqual([
      'Case Sensitive',
    ]);
    expect((await replace('Sensitive', 'insensitive', ['Case Sensitive'])).out).toEqual([
      'Case insensitive',
    ]);
    expect(
      (
        await replace(
          '<a href="https://apple.com">Apple</a>',
          '<a href="https://google.com">Google</a>',
          ['<a href="https://apple.com">Apple</a>'],
        )
      ).out,
    ).toEqual(['<a href="https://google.com">Google</a>']);
  });

  it('replaces multibyte text and keeps serialized byte lengths right', async () => {
    // feature: "Logging with simple replace" (kana with diacritic and decomposed a + umlaut)
    const content = 'Content_baz_12345678901234567890_baz_12345678901234567890';
    const { out } = await replace('_baz_', '_バäz_', [
      content,
      `s:${content.length}:"${content}";`,
    ]);
    expect(out[0]).toBe('Content_バäz_12345678901234567890_バäz_12345678901234567890');
    const bytes = Buffer.byteLength(out[0] ?? '');
    expect(out[1]).toBe(`s:${bytes}:"${out[0] ?? ''}";`);
  });

  it('replaces at every depth: nested arrays, objects in arrays, serialized inside serialized', async () => {
    const value = (await evaluate(`
      $inner = serialize(array('link' => 'http://old.test/inner', 'n' => 1.5));
      $o = new stdClass(); $o->url = 'http://old.test/o'; $o->list = array('http://old.test/1', array('deep' => (object) array('x' => 'http://old.test/x')));
      echo json_encode(serialize(array('a' => array('b' => array('c' => array('d' => 'http://old.test/d'))), 'o' => $o, 'inner' => $inner, 'keep' => 42, 'http://old.test/key' => true)));
    `)) as string;
    const { out } = await replace('http://old.test', 'https://nëw.test', [value]);
    const back = (await evaluate(`
      $v = unserialize(${lit(out[0])});
      echo json_encode(array(
        'd' => $v['a']['b']['c']['d'],
        'o' => $v['o']->url,
        'list0' => $v['o']->list[0],
        'x' => $v['o']->list[1]['deep']->x,
        'class' => get_class($v['o']->list[1]['deep']),
        'inner' => unserialize($v['inner']),
        'keep' => $v['keep'],
        'keys' => array_keys($v),
      ));`)) as Record<string, unknown>;
    expect(back).toEqual({
      d: 'https://nëw.test/d',
      o: 'https://nëw.test/o',
      list0: 'https://nëw.test/1',
      x: 'https://nëw.test/x',
      class: 'stdClass',
      inner: { link: 'https://nëw.test/inner', n: 1.5 },
      keep: 42,
      // Keys are never replaced (WP-CLI replaces values only).
      keys: ['a', 'o', 'inner', 'keep', 'http://old.test/key'],
    });
  });

  it('replaces in a widget option as WordPress stores it', async () => {
    const widget = (await evaluate(`echo json_encode(serialize(array(
      2 => array('title' => 'Links to http://old.test', 'text' => '<a href="http://old.test/ü">ü</a>', 'filter' => false, 'visual' => true),
      '_multiwidget' => 1)));`)) as string;
    const { out } = await replace('http://old.test', 'https://new.test', [widget]);
    expect(await evaluate(`echo json_encode(unserialize(${lit(out[0])}));`)).toEqual({
      2: {
        title: 'Links to https://new.test',
        text: '<a href="https://new.test/ü">ü</a>',
        filter: false,
        visual: true,
      },
      _multiwidget: 1,
    });
  });

  it('leaves objects of other classes as they are, with a warning', async () => {
    // feature: "Incomplete classes are handled gracefully during (un)serialization"
    const corn = await replace('CornFlakes', 'Smacks', ['a:1:{i:0;O:10:"CornFlakes":0:{}}']);
    expect(corn.out).toEqual(['a:1:{i:0;O:10:"CornFlakes":0:{}}']);
    expect(corn.warnings).toEqual([
      'Skipping an uninitialized class "CornFlakes", replacements might not be complete.',
    ]);
    // feature: "Warn and ignore type-hinted objects that have some error in deserialization":
    // the first is an object of another class (kept), the second does not unserialize (a string).
    const mysqli = await replace('mysqli_result', 'stdClass', [
      'O:13:"mysqli_result":5:{s:13:"current_field";N;s:11:"field_count";N;s:7:"lengths";N;s:8:"num_rows";N;s:4:"type";N;}',
      'O:8:"mysqli_result":5:{s:13:"current_field";i:1;s:11:"field_count";i:2;s:7:"lengths";a:1:{i:0;s:4:"blah";}s:8:"num_rows";i:1;s:4:"type";i:2;}',
    ]);
    expect(mysqli.out[0]).toContain('O:13:"mysqli_result"');
    expect(mysqli.out[1]).toContain('O:8:"stdClass"');
    expect(mysqli.warnings).toContain(
      'Skipping an uninitialized class "mysqli_result", replacements might not be complete.',
    );
  });

  it('replaces with regexes: groups, flags, limits', async () => {
    // feature: "Regex search/replace"
    expect(
      (await replace('(Hello)\\s(world)', '$2, $1', ['Hello world!'], { regex: true })).out,
    ).toEqual(['world, Hello!']);
    // feature: "Search replace with a regex flag": case matters unless flag i.
    expect(
      (await replace('EXAMPLE.com', 'BAXAMPLE.com', ['https://example.com'], { regex: true })).out,
    ).toEqual(['https://example.com']);
    expect(
      (
        await replace('EXAMPLE.com', 'BAXAMPLE.com', ['https://example.com'], {
          regex: true,
          flags: 'i',
        })
      ).out,
    ).toEqual(['https://BAXAMPLE.com']);
    // feature: "Regex search/replace with `--regex-limit=1|2` option"
    const pen = 'I have a pen, I have an apple. Pen, pine-apple, apple-pen.';
    expect((await replace('ap{2}le', 'orange', [pen], { regex: true, limit: 1 })).out).toEqual([
      'I have a pen, I have an orange. Pen, pine-apple, apple-pen.',
    ]);
    expect((await replace('ap{2}le', 'orange', [pen], { regex: true, limit: 2 })).out).toEqual([
      'I have a pen, I have an orange. Pen, pine-orange, apple-pen.',
    ]);
    // feature: "Logging with regex replace": back references in the replacement.
    expect(
      (
        await replace(
          '_b([aeiou])z_',
          '_$1b\\\\1z_\\0',
          [
            'Title_baz__boz_',
            'Content_baz_1234567890_bez_1234567890_biz_1234567890_boz_1234567890_buz_',
          ],
          { regex: true },
        )
      ).out,
    ).toEqual([
      'Title_ab\\1z__baz__ob\\1z__boz_',
      'Content_ab\\1z__baz_1234567890_eb\\1z__bez_1234567890_ib\\1z__biz_1234567890_ob\\1z__boz_1234567890_ub\\1z__buz_',
    ]);
    // Inside serialized data the regex runs on each string, and lengths follow.
    const { out } = await replace('o+', '0', ['a:2:{i:0;s:3:"foo";i:1;s:5:"boooo";}'], {
      regex: true,
    });
    expect(out).toEqual(['a:2:{i:0;s:2:"f0";i:1;s:2:"b0";}']);
  });

  it('matches table names with * and ? as WP-CLI', async () => {
    const cases: [string, string, boolean][] = [
      ['wp_post?', 'wp_posts', true],
      ['wp_post?', 'wp_postmeta', false],
      ['wp_post*', 'wp_postmeta', true],
      ['wp_*options', 'wp_2_options', true],
      ['wp_opt*on', 'wp_options', false],
      ['wp_posts', 'wp_posts', true],
      ['wp.posts', 'wp_posts', false],
      ['WP_POSTS', 'wp_posts', false],
    ];
    const got = await evaluate(
      `echo json_encode(array_map(function ($c) { return wpfleet_agent_sr_wildcard($c[0], $c[1]); }, ${lit(cases)}));`,
    );
    expect(got).toEqual(cases.map((c) => c[2]));
  });

  it('resolves the default scope, the prefix scope, every table, and `tables`', async () => {
    const existing = [
      'wp_posts',
      'wp_options',
      'wp_users',
      'wp_awesome',
      'awesome_table',
      'wp_postmeta',
    ];
    const registered = ['wp_posts', 'wp_postmeta', 'wp_options', 'wp_users', 'wp_comments'];
    const resolve = async (o: Record<string, unknown>) =>
      evaluate(`$o = array_merge(wpfleet_agent_sr_options(array('search' => 'a', 'replace' => 'b'))[0], ${lit(o)});
        echo json_encode(wpfleet_agent_sr_resolve_tables(${lit(existing)}, ${lit(registered)}, 'wp_', $o));`);
    // feature: "Don't run on unregistered tables by default", "Run on unregistered, unprefixed tables with --all-tables flag"
    expect(await resolve({})).toEqual([
      ['wp_options', 'wp_postmeta', 'wp_posts', 'wp_users'],
      null,
    ]);
    expect(await resolve({ all_tables_with_prefix: true })).toEqual([
      ['wp_awesome', 'wp_options', 'wp_postmeta', 'wp_posts', 'wp_users'],
      null,
    ]);
    expect(await resolve({ all_tables: true, all_tables_with_prefix: true })).toEqual([
      ['awesome_table', 'wp_awesome', 'wp_options', 'wp_postmeta', 'wp_posts', 'wp_users'],
      null,
    ]);
    // feature: "Run on all tables matching string with wildcard"
    expect(await resolve({ tables: ['wp_post?'] })).toEqual([['wp_posts'], null]);
    expect(await resolve({ tables: ['wp_opt*', 'wp_postme*'] })).toEqual([
      ['wp_options', 'wp_postmeta'],
      null,
    ]);
    expect(await resolve({ tables: ['wp_opt*on'] })).toEqual([
      [],
      "Couldn't find any tables matching: wp_opt*on",
    ]);
    // feature: "Deal with non-existent table and table with no primary keys"
    expect(await resolve({ tables: ['no_such_table'], all_tables: true })).toEqual([
      [],
      "Couldn't find any tables matching: no_such_table",
    ]);
    expect(
      await evaluate(
        `echo json_encode(array(wpfleet_agent_sr_table_skipped('wp_postmeta', array('wp_post*')), wpfleet_agent_sr_table_skipped('wp_users', array('wp_post*'))));`,
      ),
    ).toEqual([true, false]);
  });

  it('picks columns as WP-CLI, and never user_pass', async () => {
    const cases: [string, string, string[], string[], boolean][] = [
      ['wp_posts', 'guid', [], [], true],
      ['wp_posts', 'guid', [], ['guid'], false],
      ['wp_posts', 'guid', [], ['wp_posts.guid'], false],
      ['wp_posts', 'guid', [], ['wp_options.guid'], true],
      ['wp_posts', 'post_content', ['post_content'], [], true],
      ['wp_posts', 'post_title', ['post_content'], [], false],
      ['wp_posts', 'post_content', ['wp_posts.post_content'], [], true],
      ['wp_postmeta', 'post_content', ['wp_posts.post_content'], [], false],
      ['wp_users', 'user_pass', [], [], false],
      ['wp_users', 'user_pass', ['user_pass'], [], false],
      ['wp_users', 'user_pass', ['wp_users.user_pass'], [], false],
    ];
    const got = await evaluate(
      `echo json_encode(array_map(function ($c) { return wpfleet_agent_sr_column_wanted($c[0], $c[1], $c[2], $c[3]); }, ${lit(cases)}));`,
    );
    expect(got).toEqual(cases.map((c) => c[4]));
    expect(
      await evaluate(
        `echo json_encode(array_map('wpfleet_agent_sr_is_text_column', array('longtext', 'varchar(255)', 'VARCHAR(20)', 'tinytext', 'char(32)', 'bigint(20) unsigned', 'longblob', 'json', 'text')));`,
      ),
    ).toEqual([true, true, true, true, false, false, false, false, true]);
  });

  it('pages by composite keys and builds superset LIKE patterns', async () => {
    expect(
      await evaluate(
        `echo json_encode(wpfleet_agent_sr_after_keys(array('a', 'b\`c', 'd'), array('1', "'x'", '3')));`,
      ),
    ).toBe(
      "( ( `a` = 1 AND `b``c` = 'x' AND `d` > 3 ) OR ( `a` = 1 AND `b``c` > 'x' ) OR ( `a` > 1 ) )",
    );
    expect(
      await evaluate(`echo json_encode(wpfleet_agent_sr_like_superset('50%_off\\\\/x'));`),
    ).toBe('50__off_/x');
  });
});
