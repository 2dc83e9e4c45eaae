import { readFileSync } from 'node:fs';
import { loadNodeRuntime } from '@php-wasm/node';
import { PHP, PHPResponse, type SupportedPHPVersion } from '@php-wasm/universal';
import { describe, expect, it } from 'vitest';

/**
 * The inventory, users and core modules' pure functions, run by php-wasm without WordPress on
 * every PHP version it ships: the modules must load there without a notice.
 */
const MODULES = ['inventory', 'users', 'core'];
const VERSIONS: SupportedPHPVersion[] = ['7.4', '8.0', '8.1', '8.2', '8.3', '8.4', '8.5'];
const read = (p: string): string =>
  readFileSync(new URL(`../../agent/${p}`, import.meta.url), 'utf8');

async function boot(version: SupportedPHPVersion): Promise<PHP> {
  const php = new PHP(await loadNodeRuntime(version, { emscriptenOptions: { processId: 1 } }));
  php.mkdir('/agent/wpfleet-agent');
  php.writeFile('/agent/wpfleet-agent.php', read('wpfleet-agent.php'));
  for (const m of MODULES) {
    php.writeFile(`/agent/wpfleet-agent/${m}.php`, read(`wpfleet-agent/${m}.php`));
  }
  return php;
}

async function evaluate(php: PHP, code: string): Promise<unknown> {
  const result = await PHPResponse.fromStreamedResponse(
    await php.runStream({
      code: `<?php error_reporting(E_ALL); ini_set('display_errors', '0');
        require '/agent/wpfleet-agent.php';
        echo json_encode(${code});`,
    }),
  );
  expect(result.errors).toBe('');
  return JSON.parse(result.text) as unknown;
}

describe.each(VERSIONS)('agent inventory, users and core modules on PHP %s', (version) => {
  it('load without a notice, add their routes and compute as documented', async () => {
    const php = await boot(version);
    try {
      const routes = (await evaluate(php, 'wpfleet_agent_routes()')) as Record<string, unknown>;
      expect(routes).toMatchObject({
        '/info': ['GET', 'wpfleet_agent_info'],
        '/inventory': ['GET', 'wpfleet_agent_inventory'],
        '/users': ['GET', 'wpfleet_agent_users_list'],
        '/users/create': ['POST', 'wpfleet_agent_users_create'],
        '/users/update-role': ['POST', 'wpfleet_agent_users_update_role'],
        '/users/delete': ['POST', 'wpfleet_agent_users_delete'],
        '/users/reset-password': ['POST', 'wpfleet_agent_users_reset_password'],
        '/core/upgrade-db': ['POST', 'wpfleet_agent_core_upgrade_db'],
        '/options/get': ['POST', 'wpfleet_agent_options_get'],
        '/options': ['POST', 'wpfleet_agent_options_set'],
      });

      expect(
        await evaluate(
          php,
          `array_map('wpfleet_agent_inventory_plugin_slug', array('akismet/akismet.php', 'hello.php', 'a/b/c.php'))`,
        ),
      ).toEqual(['akismet', 'hello', 'a/b']);

      expect(
        await evaluate(
          php,
          `array(wpfleet_agent_inventory_mysql_server('5.5.5-10.11.6-MariaDB-0+deb12u1'), wpfleet_agent_inventory_mysql_server('8.0.36'))`,
        ),
      ).toEqual([
        {
          engine: 'mariadb',
          server_version: '10.11.6',
          server_info: '5.5.5-10.11.6-MariaDB-0+deb12u1',
          sqlite_integration: null,
        },
        {
          engine: 'mysql',
          server_version: '8.0.36',
          server_info: '8.0.36',
          sqlite_integration: null,
        },
      ]);

      // Plugins' update entries are objects, themes' arrays; an entry without a version is none.
      expect(
        await evaluate(
          php,
          `array(
            wpfleet_agent_inventory_update_entry((object) array('new_version' => '5.3', 'package' => 'https://x/a.zip', 'requires' => '5.8', 'tested' => '', 'requires_php' => false)),
            wpfleet_agent_inventory_update_entry(array('new_version' => '1.2', 'requires_php' => '7.4')),
            wpfleet_agent_inventory_update_entry(array('package' => 'https://x/a.zip')),
            wpfleet_agent_inventory_update_entry('nonsense'))`,
        ),
      ).toEqual([
        {
          version: '5.3',
          requires: '5.8',
          requires_php: null,
          tested: null,
          package: 'https://x/a.zip',
        },
        { version: '1.2', requires: null, requires_php: '7.4', tested: null, package: null },
        null,
        null,
      ]);

      expect(
        await evaluate(
          php,
          `array_map('wpfleet_agent_users_iso_time', array('2024-05-01 10:00:00', '0000-00-00 00:00:00', '', 'garbage'))`,
        ),
      ).toEqual(['2024-05-01T10:00:00Z', null, null, null]);

      expect(
        await evaluate(
          php,
          `array_map('wpfleet_agent_options_check_name', array('blogname', 'wpfleet_agent_login_abc', '', str_repeat('a', 192), 42))`,
        ),
      ).toEqual([
        null,
        'Option wpfleet_agent_login_abc belongs to the agent and cannot be read or written.',
        'Option names must be strings of 1 to 191 characters.',
        'Option names must be strings of 1 to 191 characters.',
        'Option names must be strings of 1 to 191 characters.',
      ]);
    } finally {
      php.exit();
    }
  });
});
