import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient, AgentError } from '../../src/runtime/agent/client.js';
import type {
  SearchReplaceOptions,
  SearchReplaceResult,
} from '../../src/core/site-agent/operations.types.js';
import { searchReplace } from '../../src/runtime/agent/search-replace.js';
import { MARIADB_URL, startHosted, type Hosted, type HostedInstall } from '../helpers/hosted.js';
import { edgeAgentTransport, siteRequest } from '../helpers/site.js';
import { writeWpScript, type WpScript } from '../helpers/wp-script.js';

/**
 * The agent's search-replace on real WordPress (Debian's 6.1.9) on SQLite and MariaDB: data written
 * through WordPress's own functions, replaced through the signed agent call, read back through
 * WordPress (get_option() must give the arrays and objects back, with the replaced strings).
 */
const DATABASES: [string, Record<string, string>][] = [
  ['SQLite', {}],
  ['MariaDB', { WPFLEET_WP_DATABASE_URL: MARIADB_URL }],
];

const OLD = 'http://old.example';
const NEW = 'https://nëw.example';

/** Seeds options (arrays, objects, a widget, a double-serialized value), a post, meta and tables. */
const SEED = `
global $wpdb;
$old = ${JSON.stringify(OLD)};
kses_remove_filters();
update_option('sr_array', array('url' => "$old/", 'nested' => array('deep' => array('x' => "$old/a", 'list' => array("$old/1", 'keep'))), 'n' => 5));
update_option('sr_object', (object) array('url' => "$old/o", 'child' => (object) array('u' => "$old/c")));
update_option('widget_text', array(2 => array('title' => "Visit $old", 'text' => "<a href=\\"$old/x\\">Grüße</a>", 'filter' => false), '_multiwidget' => 1));
update_option('sr_double', serialize(array('a' => "$old/d")));
$content = '<p>Grüße aus ' . $old . ' — 日本語</p><!-- wp:x {"src":"http:\\\\/\\\\/old.example\\\\/font.woff2"} /-->';
$post = wp_insert_post(wp_slash(array('post_title' => 'Search replace', 'post_status' => 'publish', 'post_content' => $content)), true);
if (is_wp_error($post)) { http_response_code(500); echo json_encode(array('error' => $post->get_error_message())); exit; }
add_post_meta($post, 'sr_meta', array('link' => "$old/m", 'title' => 'ü'));
add_post_meta($post, 'sr_plain', "$old/p");
$p = $wpdb->prefix;
foreach (array(
  "CREATE TABLE {$p}sr_custom (id bigint(20) unsigned NOT NULL AUTO_INCREMENT, body longtext, PRIMARY KEY (id))",
  "CREATE TABLE {$p}sr_nokey (body text)",
  "CREATE TABLE sr_unprefixed (id bigint(20) unsigned NOT NULL AUTO_INCREMENT, body text, PRIMARY KEY (id))",
) as $sql) {
  if (false === $wpdb->query($sql)) { http_response_code(500); echo json_encode(array('error' => $wpdb->last_error)); exit; }
}
$wpdb->insert("{$p}sr_custom", array('body' => "$old/custom"));
$wpdb->insert("{$p}sr_nokey", array('body' => "$old/nokey"));
$wpdb->insert('sr_unprefixed', array('body' => "$old/unprefixed"));
echo json_encode(array('post' => $post, 'prefix' => $p, 'content' => $content));
`;

/** What WordPress reads back. */
const READ = `
global $wpdb;
$p = $wpdb->prefix;
$post = (int) $_GET['post'];
$object = get_option('sr_object');
echo json_encode(array(
  'sr_array' => get_option('sr_array'),
  'sr_object' => $object,
  'sr_object_class' => is_object($object) ? get_class($object) : gettype($object),
  'widget_text' => get_option('widget_text'),
  'sr_double' => unserialize(get_option('sr_double')),
  'post_content' => $wpdb->get_var($wpdb->prepare("SELECT post_content FROM {$wpdb->posts} WHERE ID = %d", $post)),
  'sr_meta' => get_post_meta($post, 'sr_meta', true),
  'sr_plain' => get_post_meta($post, 'sr_plain', true),
  'custom' => $wpdb->get_col("SELECT body FROM {$p}sr_custom"),
  'nokey' => $wpdb->get_col("SELECT body FROM {$p}sr_nokey"),
  'unprefixed' => $wpdb->get_col('SELECT body FROM sr_unprefixed'),
  'user_pass' => $wpdb->get_var("SELECT user_pass FROM {$wpdb->users} ORDER BY ID LIMIT 1"),
));
`;

interface Snapshot {
  sr_array: unknown;
  sr_object: unknown;
  sr_object_class: string;
  widget_text: unknown;
  sr_double: unknown;
  post_content: string;
  sr_meta: unknown;
  sr_plain: string;
  custom: string[];
  nokey: string[];
  unprefixed: string[];
  user_pass: string;
}

/** The seeded values with `url` in place of OLD. */
function expected(url: string) {
  return {
    sr_array: {
      url: `${url}/`,
      nested: { deep: { x: `${url}/a`, list: [`${url}/1`, 'keep'] } },
      n: 5,
    },
    sr_object: { url: `${url}/o`, child: { u: `${url}/c` } },
    sr_object_class: 'stdClass',
    widget_text: {
      2: { title: `Visit ${url}`, text: `<a href="${url}/x">Grüße</a>`, filter: false },
      _multiwidget: 1,
    },
    sr_double: { a: `${url}/d` },
    sr_meta: { link: `${url}/m`, title: 'ü' },
    sr_plain: `${url}/p`,
  };
}

describe.each(DATABASES)('search-replace through the agent on %s', (database, env) => {
  let hosted: Hosted | undefined;
  let install: HostedInstall;
  let agent: AgentClient;
  let read: WpScript;
  let post = 0;
  let prefix = '';
  let seededContent = '';
  let reads = 0;
  const host = 'srblog.localhost';
  const sqlite = database === 'SQLite';

  const h = (): Hosted => {
    if (hosted === undefined) throw new Error('wpfleet serve did not start');
    return hosted;
  };
  const snapshot = async (): Promise<Snapshot> => {
    reads += 1;
    const r = await siteRequest(h().serve.url, host, `${read.url}&post=${post}&read=${reads}`, {
      headers: { 'cache-control': 'no-cache' },
    });
    expect(r.status).toBe(200);
    return JSON.parse(r.body) as Snapshot;
  };
  const run = (options: SearchReplaceOptions): Promise<SearchReplaceResult> =>
    searchReplace(agent, options);
  const changed = (result: SearchReplaceResult) =>
    result.report.filter((row) => typeof row.replacements === 'number' && row.replacements > 0);
  /** Type of a column with no serialized value: WP-CLI always uses PHP on SQLite. */
  const plainType = sqlite ? 'PHP' : 'SQL';

  beforeAll(async () => {
    hosted = await startHosted(env);
    const made = await h().api<HostedInstall>('POST', '/v1/installs', {
      name: 'srblog',
      account_id: h().accountId,
    });
    expect(made.status).toBe(201);
    install = await h().waitActive(made.body.id);
    const dir = path.join(h().store.config.dataDir, 'installs', install.id);
    const config = fs.readFileSync(path.join(dir, 'wp-config.php'), 'utf8');
    const secret = /'WPFLEET_AGENT_SECRET', '([0-9a-f]{64})'/.exec(config)?.[1] ?? '';
    expect(secret).toHaveLength(64);
    agent = new AgentClient(edgeAgentTransport(h().serve.url, host), secret);

    const seed = writeWpScript(path.join(dir, 'wp-content'), SEED);
    const seeded = await siteRequest(h().serve.url, host, seed.url, { method: 'POST' });
    seed.remove();
    expect(seeded.body).toContain('"post"');
    ({
      post,
      prefix,
      content: seededContent,
    } = JSON.parse(seeded.body) as {
      post: number;
      prefix: string;
      content: string;
    });
    read = writeWpScript(path.join(dir, 'wp-content'), READ);
  });

  afterAll(async () => {
    await hosted?.stop();
  });

  it('refuses bad requests before touching anything', async () => {
    const before = await snapshot();
    expect(before).toMatchObject(expected(OLD));
    expect(before.post_content).toBe(seededContent);

    const refusals: [SearchReplaceOptions, RegExp][] = [
      [
        { search: '(old', replace: 'x', regex: true },
        /^The regex pattern '\(old' with default delimiter 'chr\(1\)' and no flags fails\.\npreg_match\(\): Compilation failed/,
      ],
      [{ search: 'old', replace: 'x', regex: true, regexFlags: 'k' }, /Unknown modifier 'k'/],
      [
        { search: 'old', replace: 'x', regex: true, regexLimit: 0 },
        /regex_limit expects a non-zero positive integer or -1/,
      ],
      [{ search: '', replace: 'x' }, /search must be a non-empty string/],
      [
        { search: OLD, replace: NEW, tables: ['nope*'] },
        /Couldn't find any tables matching: nope\*/,
      ],
      // Not registered on $wpdb, so not in the default scope.
      [
        { search: OLD, replace: NEW, tables: ['sr_unprefixed'] },
        /Couldn't find any tables matching: sr_unprefixed/,
      ],
    ];
    for (const [options, message] of refusals) {
      const error = await run(options).then(
        () => null,
        (e: unknown) => e,
      );
      if (!(error instanceof AgentError)) throw new Error(`no AgentError for ${options.search}`);
      expect([error.status, error.code]).toEqual([400, 'invalid']);
      expect(error.message).toMatch(message);
    }
    const same = await run({ search: OLD, replace: OLD });
    expect(same).toEqual({
      total: 0,
      report: [],
      warnings: [
        `Replacement value '${OLD}' is identical to search value '${OLD}'. Skipping operation.`,
      ],
    });
    expect(await snapshot()).toEqual(before);
  });

  it('never touches user_pass, even when asked to', async () => {
    const before = await snapshot();
    const hash = before.user_pass.slice(0, 12);
    expect(hash.length).toBe(12);
    const included = await run({
      search: hash,
      replace: 'X',
      includeColumns: ['user_pass', `${prefix}users.user_pass`],
    });
    expect(included).toEqual({ total: 0, report: [], warnings: [] });
    const everywhere = await run({
      search: hash,
      replace: 'X',
      allTables: true,
      reportChangedOnly: true,
    });
    expect(everywhere.total).toBe(0);
    expect((await snapshot()).user_pass).toBe(before.user_pass);
  });

  it('counts on a dry run exactly what the real runs then change, honouring skip_tables and include_columns', async () => {
    const before = await snapshot();
    const dry = await run({ search: OLD, replace: NEW, dryRun: true });
    expect(await snapshot()).toEqual(before);
    expect(changed(dry)).toEqual([
      { table: `${prefix}options`, column: 'option_value', replacements: 4, type: 'PHP' },
      { table: `${prefix}postmeta`, column: 'meta_value', replacements: 2, type: 'PHP' },
      { table: `${prefix}posts`, column: 'post_content', replacements: 1, type: plainType },
    ]);
    expect(dry.total).toBe(7);
    // Every column searched is reported, changed or not; never user_pass, never other tables.
    const columns = dry.report.map((row) => `${row.table}.${row.column}`);
    expect(columns).toContain(`${prefix}posts.guid`);
    expect(columns).toContain(`${prefix}users.display_name`);
    expect(columns).not.toContain(`${prefix}users.user_pass`);
    expect(columns.some((c) => c.includes('sr_'))).toBe(false);

    // Options only: the posts tables are skipped by a wildcard, other columns left out.
    const partial: SearchReplaceOptions = {
      search: OLD,
      replace: NEW,
      skipTables: [`${prefix}post*`],
      includeColumns: ['option_value'],
    };
    const partialDry = await run({ ...partial, dryRun: true });
    const options = await run(partial);
    expect(options).toEqual(partialDry);
    expect(options).toEqual({
      total: 4,
      report: [{ table: `${prefix}options`, column: 'option_value', replacements: 4, type: 'PHP' }],
      warnings: [],
    });
    const half = await snapshot();
    expect(half).toMatchObject({
      ...expected(NEW),
      sr_meta: expected(OLD).sr_meta,
      sr_plain: expected(OLD).sr_plain,
    });
    expect(half.post_content).toBe(seededContent);

    const rest = await run({ search: OLD, replace: NEW });
    expect(rest.total).toBe(3);
    expect(rest.total + options.total).toBe(dry.total);
    expect(changed(rest)).toEqual(changed(dry).slice(1));

    const after = await snapshot();
    expect(after).toMatchObject(expected(NEW));
    // The plain URL, the multibyte text and the JSON-escaped URL (json_encode's form of NEW).
    expect(after.post_content).toBe(
      '<p>Grüße aus https://nëw.example — 日本語</p><!-- wp:x {"src":"https:\\/\\/n\\u00ebw.example\\/font.woff2"} /-->',
    );
    // Outside the default scope: untouched.
    expect(after.custom).toEqual([`${OLD}/custom`]);
    expect(after.unprefixed).toEqual([`${OLD}/unprefixed`]);
    expect(after.user_pass).toBe(before.user_pass);
    // Nothing left to do.
    expect((await run({ search: OLD, replace: NEW, dryRun: true })).total).toBe(0);
  });

  it('reaches tables with the prefix or every table when asked, and skips tables without a primary key', async () => {
    const dry = await run({ search: OLD, replace: NEW, allTablesWithPrefix: true, dryRun: true });
    expect(dry.report).toContainEqual({
      table: `${prefix}sr_nokey`,
      column: '',
      replacements: 'skipped',
      type: '',
    });
    expect(dry.report).toContainEqual({
      table: `${prefix}sr_custom`,
      column: 'body',
      replacements: 1,
      type: plainType,
    });
    expect(dry.report.some((row) => row.table === 'sr_unprefixed')).toBe(false);
    expect(dry.total).toBe(1);

    const real = await run({
      search: OLD,
      replace: NEW,
      allTablesWithPrefix: true,
      reportChangedOnly: true,
    });
    expect(real).toEqual({
      total: 1,
      report: [{ table: `${prefix}sr_custom`, column: 'body', replacements: 1, type: plainType }],
      warnings: [],
    });

    const everything = await run({ search: OLD, replace: NEW, allTables: true, tables: ['sr_*'] });
    expect(everything).toEqual({
      total: 1,
      report: [{ table: 'sr_unprefixed', column: 'body', replacements: 1, type: plainType }],
      warnings: [],
    });
    const after = await snapshot();
    expect(after.custom).toEqual([`${NEW}/custom`]);
    expect(after.unprefixed).toEqual([`${NEW}/unprefixed`]);
    expect(after.nokey).toEqual([`${OLD}/nokey`]);
  });

  it('replaces with a regex, back references and a limit, inside serialized values', async () => {
    const regex: SearchReplaceOptions = {
      search: 'nëw\\.example/([0-9a-z])',
      replace: 'nëw.example/#$1',
      regex: true,
      regexFlags: 'u',
      regexLimit: 1,
      tables: [`${prefix}opt*`],
    };
    const dry = await run({ ...regex, dryRun: true });
    const real = await run(regex);
    expect(real).toEqual(dry);
    expect(real.total).toBe(4);
    expect(real.report).toEqual([
      { table: `${prefix}options`, column: 'option_name', replacements: 0, type: 'PHP' },
      { table: `${prefix}options`, column: 'option_value', replacements: 4, type: 'PHP' },
      { table: `${prefix}options`, column: 'autoload', replacements: 0, type: 'PHP' },
    ]);
    const after = await snapshot();
    expect(after.sr_array).toEqual({
      url: `${NEW}/`,
      nested: { deep: { x: `${NEW}/#a`, list: [`${NEW}/#1`, 'keep'] } },
      n: 5,
    });
    expect(after.sr_object).toEqual({ url: `${NEW}/#o`, child: { u: `${NEW}/#c` } });
    expect(after.sr_double).toEqual({ a: `${NEW}/#d` });
    expect(after.sr_meta).toEqual(expected(NEW).sr_meta);
  });
});
