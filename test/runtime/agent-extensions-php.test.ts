import { fileURLToPath } from 'node:url';
import { createNodeFsMountHandler, loadNodeRuntime } from '@php-wasm/node';
import { PHP, PHPResponse, type SupportedPHPVersion } from '@php-wasm/universal';
import { describe, expect, it } from 'vitest';
import { PACKAGE_NAME } from '../../src/runtime/sites/packages-handoff.js';

/**
 * The pure functions of the plugins/themes modules (agent/wpfleet-agent/upgrader.php), run by
 * php-wasm without WordPress, on the oldest and newest PHP the agent supports.
 */
const AGENT_DIR = fileURLToPath(new URL('../../agent', import.meta.url));

const NAMES = [
  'a3f09c1d2e4b5a6978877665544332211.zip',
  'plugin.zip',
  'A_b-c.zip',
  '../wp-config.zip',
  '/etc/passwd.zip',
  'dir/file.zip',
  '.hidden.zip',
  'plugin.zip.php',
  'plugin',
  'two words.zip',
  'x'.repeat(130) + '.zip',
];

async function evaluate(version: SupportedPHPVersion, code: string): Promise<unknown> {
  const php = new PHP(await loadNodeRuntime(version, { emscriptenOptions: { processId: 1 } }));
  try {
    php.mkdir('/agent');
    await php.mount('/agent', createNodeFsMountHandler(AGENT_DIR));
    const result = await PHPResponse.fromStreamedResponse(
      await php.runStream({
        code: `<?php error_reporting(E_ALL); ini_set('display_errors', '0');
        require '/agent/wpfleet-agent.php';
        ${code}`,
      }),
    );
    expect(result.errors).toBe('');
    return JSON.parse(result.text) as unknown;
  } finally {
    php.exit();
  }
}

describe.each(['7.4', '8.5'] as SupportedPHPVersion[])('agent extension helpers (PHP %s)', (v) => {
  it('accepts only the package names the control plane makes, as TypeScript does', async () => {
    const php = (await evaluate(
      v,
      `echo json_encode(array_map('wpfleet_agent_package_name_valid', ${JSON.stringify(NAMES)}));`,
    )) as boolean[];
    expect(php).toEqual(NAMES.map((n) => PACKAGE_NAME.test(n)));
    expect(php.slice(0, 3)).toEqual([true, true, true]);
    expect(php.slice(3).every((ok) => !ok)).toBe(true);
  });

  it('names plugins as WP-CLI does and refuses paths', async () => {
    const answer = await evaluate(
      v,
      `echo json_encode(array(
        array_map('wpfleet_agent_plugin_slug', array('akismet/akismet.php', 'hello.php', 'a/b.php')),
        array_map('wpfleet_agent_slug_valid', array('akismet', 'twentytwentythree', 'my.plugin', '..', '../x', 'a/b', '', '.x')),
        array_map('wpfleet_agent_plugin_file_valid', array('akismet/akismet.php', 'hello.php', '../wp-config.php', 'a/b/c.php', 'a/b.txt', '/abs.php')),
        array_map('wpfleet_agent_code_for', array('folder_exists', 'plugin_not_found', 'theme_not_found', 'plugin_invalid', 'incompatible_archive')),
        wpfleet_agent_plain_text("Plugin could not be activated because it triggered a <strong>fatal error</strong>.\\n &#8230; &amp;"),
        wpfleet_agent_routes()
      ));`,
    );
    expect(answer).toEqual([
      ['akismet', 'hello', 'a'],
      [true, true, true, false, false, false, false, false],
      [true, true, false, false, false, false],
      ['conflict', 'not_found', 'not_found', 'invalid', 'failed'],
      'Plugin could not be activated because it triggered a fatal error. … &',
      expect.objectContaining({
        '/plugins': ['GET', 'wpfleet_agent_plugins_list'],
        '/plugins/update': ['POST', 'wpfleet_agent_plugins_update'],
        '/themes/delete': ['POST', 'wpfleet_agent_themes_delete'],
        '/translations/update': ['POST', 'wpfleet_agent_translations_update'],
      }),
    ]);
  });
});
