import { readFileSync } from 'node:fs';
import { loadNodeRuntime } from '@php-wasm/node';
import { PHP, PHPResponse, type SupportedPHPVersion } from '@php-wasm/universal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginPathProblem } from '../../src/core/installs/install-settings.js';

/**
 * The hardening module's pure functions, run by php-wasm without WordPress (its hooks are added
 * only when add_filter exists): the rewrite of WordPress's login URLs to the custom path.
 */
const MODULE = readFileSync(
  new URL('../../agent/wpfleet-agent/hardening.php', import.meta.url),
  'utf8',
);

describe.each(['7.4', '8.5'] as SupportedPHPVersion[])('hardening.php on PHP %s', (version) => {
  let php: PHP;

  beforeAll(async () => {
    php = new PHP(await loadNodeRuntime(version, { emscriptenOptions: { processId: 1 } }));
    php.mkdir('/agent');
    php.writeFile('/agent/hardening.php', MODULE);
  });

  afterAll(() => {
    php.exit();
  });

  async function evaluate(code: string): Promise<unknown> {
    const result = await PHPResponse.fromStreamedResponse(
      await php.runStream({
        code: `<?php error_reporting(E_ALL); ini_set('display_errors', '0');
          require_once '/agent/hardening.php';
          ${code}`,
      }),
    );
    expect(result.errors).toBe('');
    return JSON.parse(result.text) as unknown;
  }

  it("points WordPress's login URLs at the custom path, keeping query and fragment", async () => {
    const urls = [
      'http://blog.localhost:8080/wp-login.php',
      'http://blog.localhost:8080/wp-login.php?action=lostpassword',
      'https://example.com/sub/wp-login.php?redirect_to=%2Fwp-admin%2F&reauth=1#x',
      '/wp-login.php?loggedout=true',
      'wp-login.php?checkemail=confirm',
      'http://blog.localhost:8080/wp-admin/',
      'http://blog.localhost:8080/?p=wp-login.php',
      'http://blog.localhost:8080/wp-login.php.bak',
    ];
    expect(
      await evaluate(
        `echo json_encode(array_map(function ($u) { return wpfleet_agent_login_path_url($u, 'my-login'); }, ${JSON.stringify(urls)}));`,
      ),
    ).toEqual([
      'http://blog.localhost:8080/my-login',
      'http://blog.localhost:8080/my-login?action=lostpassword',
      'https://example.com/sub/my-login?redirect_to=%2Fwp-admin%2F&reauth=1#x',
      '/my-login?loggedout=true',
      'my-login?checkemail=confirm',
      'http://blog.localhost:8080/wp-admin/',
      'http://blog.localhost:8080/?p=wp-login.php',
      'http://blog.localhost:8080/wp-login.php.bak',
    ]);
  });

  it('tells the custom path from other URLs', async () => {
    const urls = [
      'http://h/my-login?redirect_to=x',
      '/my-login/',
      'my-login?x=1',
      'http://h/my-login-2',
      'http://h/wp-login.php',
      'http://h/?my-login',
    ];
    expect(
      await evaluate(
        `echo json_encode(array_map(function ($u) { return wpfleet_agent_is_login_path_url($u, 'my-login'); }, ${JSON.stringify(urls)}));`,
      ),
    ).toEqual([true, true, true, false, false, false]);
  });

  it('checks slugs as wpfleet does, and takes none when the constant is missing', async () => {
    const slugs = [
      'my-login',
      'abc',
      'ab',
      '-ab',
      'My-Login',
      'a_b',
      'x'.repeat(64),
      'x'.repeat(65),
    ];
    const got = await evaluate(
      `echo json_encode(array(array_map('wpfleet_agent_login_slug_valid', ${JSON.stringify(slugs)}), wpfleet_agent_login_slug()));`,
    );
    // wpfleet also refuses WordPress's own names, which never reach wp-config.php.
    expect(got).toEqual([slugs.map((s) => /^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$/.test(s)), null]);
    expect(loginPathProblem('my-login')).toBeNull();
  });
});
