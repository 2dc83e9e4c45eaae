import { readFileSync } from 'node:fs';
import { loadNodeRuntime } from '@php-wasm/node';
import { PHP, PHPResponse, type SupportedPHPVersion } from '@php-wasm/universal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { phpUnserialize, type PhpValue } from '../../src/runtime/cron/php-unserialize.js';

/**
 * The cron module loads on the oldest and newest PHP the agent supports, and the scheduler's
 * PHP unserialize reads what PHP's own serialize() writes, value for value. (The module's run
 * against WordPress is in test/e2e/cron.test.ts.)
 */
const read = (p: string): string =>
  readFileSync(new URL(`../../agent/${p}`, import.meta.url), 'utf8');

async function boot(version: SupportedPHPVersion): Promise<PHP> {
  const php = new PHP(await loadNodeRuntime(version, { emscriptenOptions: { processId: 1 } }));
  php.mkdir('/agent/wpfleet-agent');
  php.writeFile('/agent/wpfleet-agent.php', read('wpfleet-agent.php'));
  php.writeFile('/agent/wpfleet-agent/cron.php', read('wpfleet-agent/cron.php'));
  php.writeFile(
    '/cron.txt',
    readFileSync(new URL('../unit/fixtures/cron/wpfleet-6.1.9-future-post.txt', import.meta.url)),
  );
  return php;
}

async function evaluate(php: PHP, code: string): Promise<unknown> {
  const result = await PHPResponse.fromStreamedResponse(
    await php.runStream({
      code: `<?php error_reporting(E_ALL); ini_set('display_errors', '0');
        require '/agent/wpfleet-agent.php';
        ${code}`,
    }),
  );
  expect(result.errors).toBe('');
  return JSON.parse(result.text) as unknown;
}

describe.each(['7.4', '8.5'] as SupportedPHPVersion[])('the cron module on PHP %s', (version) => {
  it('loads without a notice and adds its route', async () => {
    const php = await boot(version);
    try {
      expect(await evaluate(php, `echo json_encode(wpfleet_agent_routes());`)).toMatchObject({
        '/cron/run': ['POST', 'wpfleet_agent_cron_run'],
      });
    } finally {
      php.exit();
    }
  });
});

/** PHP values as JSON can carry them: arrays as their [key, value] pairs in order, objects tagged. */
const CANONICAL_PHP = `
function canonical($v) {
  if (is_array($v)) { $out = array(); foreach ($v as $k => $x) { $out[] = array($k, canonical($x)); } return array('a' => $out); }
  if (is_object($v)) { $out = array(); foreach ((array) $v as $k => $x) { $out[] = array($k, canonical($x)); } return array('o' => get_class($v), 'p' => $out); }
  if (is_float($v) && is_nan($v)) { return 'NAN'; }
  if (is_float($v) && is_infinite($v)) { return $v > 0 ? 'INF' : '-INF'; }
  return $v;
}
class Thing { public $a = 1; protected $b = 'x'; private $c = array(1.5, true); }
`;

function canonical(v: PhpValue): unknown {
  if (v instanceof Map) return { a: [...v].map(([k, x]) => [k, canonical(x)]) };
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NAN';
    if (v === Infinity) return 'INF';
    if (v === -Infinity) return '-INF';
    return v;
  }
  if (v !== null && typeof v === 'object') {
    if (v.kind !== 'object') throw new Error('no references in these values');
    return { o: v.className, p: [...v.properties].map(([k, x]) => [k, canonical(x)]) };
  }
  return v;
}

describe('phpUnserialize against PHP 8.3 serialize()', () => {
  let php: PHP;

  beforeAll(async () => {
    php = await boot('8.3');
  });

  afterAll(() => {
    php.exit();
  });

  it('reads back every value as PHP holds it', async () => {
    const pairs = (await evaluate(
      php,
      `${CANONICAL_PHP}
      $values = array(
        null, true, false, 0, -1, PHP_INT_MAX, PHP_INT_MIN, 1.5, -0.25, 1e100, 0.1, 1.0, NAN, INF, -INF,
        '', 'héllo ✓ "quoted";{}s:3:', "line\\nbreak\\0nul",
        array(), array(1, 2, 3), array('a' => array('b' => array('c' => array()))),
        array(5 => 'x', '7' => 'y', '07' => 'z', -3 => 'neg', '1.5' => 'f'),
        new stdClass(), (object) array('x' => 1, 'y' => array(1)), new Thing(), array(new Thing(), new Thing()),
        unserialize(file_get_contents('/cron.txt')),
      );
      $out = array();
      foreach ($values as $v) { $out[] = array(serialize($v), canonical($v)); }
      echo json_encode($out);`,
    )) as [string, unknown][];
    expect(pairs).toHaveLength(27);
    for (const [serialized, expected] of pairs) {
      expect([serialized, canonical(phpUnserialize(serialized))]).toEqual([serialized, expected]);
    }
  });
});
