import path from 'node:path';
import { loadNodeRuntime } from '@php-wasm/node';
import { PHP, PHPResponse, type SupportedPHPVersion } from '@php-wasm/universal';
import { afterAll, describe, expect, it } from 'vitest';
import { helloPlugin, plainTheme } from '../helpers/package-fixtures.js';

/**
 * The test packages themselves, in the oldest and newest PHP installs run: every PHP file
 * parses, wpfleet-hello 1.x loads and 2.0.0 fails as it loads (the fatal the operation tests
 * rely on), and wpfleet-plain 1.1.0 is the one with the banner.
 */
const VERSIONS: SupportedPHPVersion[] = ['7.4', '8.5'];
const booted: PHP[] = [];

afterAll(() => {
  for (const php of booted) php.exit();
});

async function boot(version: SupportedPHPVersion): Promise<PHP> {
  const php = new PHP(await loadNodeRuntime(version, { emscriptenOptions: { processId: 1 } }));
  booted.push(php);
  return php;
}

async function run(php: PHP, code: string): Promise<string> {
  const result = await PHPResponse.fromStreamedResponse(await php.runStream({ code }));
  return result.text;
}

describe.each(VERSIONS)('the test packages on PHP %s', (version) => {
  it('parse, and load as intended', async () => {
    const php = await boot(version);
    const files: Record<string, string> = {};
    for (const v of ['1.0.0', '1.1.0', '2.0.0']) {
      for (const [name, text] of Object.entries(helloPlugin(v))) files[`hello-${v}/${name}`] = text;
    }
    for (const v of ['1.0.0', '1.1.0']) {
      for (const [name, text] of Object.entries(plainTheme(v))) files[`plain-${v}/${name}`] = text;
    }
    for (const [name, text] of Object.entries(files)) {
      php.mkdir(path.posix.dirname(`/pkg/${name}`));
      php.writeFile(`/pkg/${name}`, text);
    }
    const phpFiles = Object.keys(files).filter((n) => n.endsWith('.php'));
    const parsed = await run(
      php,
      `<?php foreach (${JSON.stringify(phpFiles)} as $f) {
        try { token_get_all(file_get_contents('/pkg/' . $f), TOKEN_PARSE); echo "ok $f\\n"; }
        catch (ParseError $e) { echo "PARSE $f: ", $e->getMessage(), "\\n"; }
      }`,
    );
    expect(parsed.trim().split('\n')).toEqual(phpFiles.map((f) => `ok ${f}`));

    const load = (v: string): Promise<string> =>
      run(
        php,
        `<?php
        $hooks = array();
        function add_action($hook, $callback) { global $hooks; $hooks[] = $hook; }
        try { include '/pkg/hello-${v}/wpfleet-hello/wpfleet-hello.php'; echo 'loaded: ', implode(',', $hooks); }
        catch (Error $e) { echo 'fatal: ', $e->getMessage(); }`,
      );
    expect(await load('1.0.0')).toBe('loaded: wp_footer');
    expect(await load('1.1.0')).toBe('loaded: wp_footer');
    expect(await load('2.0.0')).toBe(
      'fatal: Call to undefined function wpfleet_hello_function_that_does_not_exist()',
    );
  });
});

describe('what tells the versions apart', () => {
  it('wpfleet-plain 1.1.0 has the banner and 1.0.0 does not; wpfleet-hello prints its version', () => {
    expect(plainTheme('1.1.0')['wpfleet-plain/index.php']).toContain(
      'id="wpfleet-plain-banner" style="display:block;width:100%;height:400px;background:#e11d48',
    );
    expect(plainTheme('1.0.0')['wpfleet-plain/index.php']).not.toContain('wpfleet-plain-banner');
    expect(helloPlugin('1.1.0')['wpfleet-hello/wpfleet-hello.php']).toContain(
      '<p id="wpfleet-hello">wpfleet-hello 1.1.0</p>',
    );
  });
});
