import { readFileSync } from 'node:fs';
import { loadNodeRuntime } from '@php-wasm/node';
import {
  PHP,
  PHPResponse,
  type PHPRunOptions,
  type SupportedPHPVersion,
} from '@php-wasm/universal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient, type AgentTransport } from '../../src/runtime/agent/client.js';
import {
  agentCanonicalString,
  newAgentSecret,
  signAgentRequest,
  type AgentSignedFields,
} from '../../src/runtime/agent/signing.js';

/**
 * The agent's pure PHP functions, run by php-wasm without WordPress (its hooks are guarded by
 * function_exists('add_action')): the TypeScript signer and the PHP verifier must agree.
 */
const AGENT = readFileSync(new URL('../../agent/wpfleet-agent.php', import.meta.url), 'utf8');
const AGENT_PATH = '/agent/wpfleet-agent.php';
const SECRET = newAgentSecret();
const VERSIONS: SupportedPHPVersion[] = ['7.4', '8.0', '8.1', '8.2', '8.3', '8.4', '8.5'];

async function boot(version: SupportedPHPVersion): Promise<PHP> {
  const php = new PHP(await loadNodeRuntime(version, { emscriptenOptions: { processId: 1 } }));
  php.mkdir('/agent');
  php.writeFile(AGENT_PATH, AGENT);
  return php;
}

async function run(php: PHP, options: PHPRunOptions): Promise<PHPResponse> {
  return PHPResponse.fromStreamedResponse(await php.runStream(options));
}

/** Runs PHP with the agent loaded and every error reported; returns what it echoed as JSON. */
async function evaluate(php: PHP, code: string): Promise<unknown> {
  const result = await run(php, {
    code: `<?php error_reporting(E_ALL); ini_set('display_errors', '0');
      require '${AGENT_PATH}';
      ${code}`,
  });
  expect(result.errors).toBe('');
  return JSON.parse(result.text) as unknown;
}

const php = (s: string): string => JSON.stringify(s);

function verifyCall(secret: string, f: AgentSignedFields, signature: string, now: number): string {
  const args = [secret, f.method, f.path, f.timestamp, f.nonce, f.body, signature]
    .map(php)
    .join(', ');
  return `echo json_encode(wpfleet_agent_verify(${args}, ${now}));`;
}

const NOW = Math.floor(Date.now() / 1000);
const FIELDS: AgentSignedFields = {
  method: 'POST',
  path: '/wpfleet/v1/urls',
  timestamp: String(NOW),
  nonce: 'n0nce-with_chars-0123',
  body: '{"home":"https://example.com","siteurl":"https://example.com/wp","note":"Zoë ✓"}',
};

describe('agent PHP (php-wasm 8.3)', () => {
  let runtime: PHP;

  beforeAll(async () => {
    runtime = await boot('8.3');
  });

  afterAll(() => {
    runtime.exit();
  });

  it('builds the same canonical string and signature as TypeScript', async () => {
    for (const body of [FIELDS.body, '']) {
      const f = { ...FIELDS, method: 'post', body };
      const args = [f.method, f.path, f.timestamp, f.nonce, f.body].map(php).join(', ');
      expect(
        await evaluate(
          runtime,
          `echo json_encode([wpfleet_agent_canonical(${args}), wpfleet_agent_sign(${php(SECRET)}, ${args})]);`,
        ),
      ).toEqual([agentCanonicalString(f), signAgentRequest(SECRET, f)]);
    }
  });

  it('gives the fixed vector of docs/agent.md', async () => {
    const code = `echo json_encode(wpfleet_agent_sign(
      '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'POST',
      '/wpfleet/v1/maintenance', '1700000000', '0f1e2d3c4b5a69788796a5b4c3d2e1f0', '{"enabled":true}'));`;
    expect(await evaluate(runtime, code)).toBe(
      '08c689b2cb2088e4545145a937a8ef5a7ee5aee722e95c155c46fd16ab6093ec',
    );
  });

  it('accepts a TypeScript-signed call', async () => {
    const sig = signAgentRequest(SECRET, FIELDS);
    expect(await evaluate(runtime, verifyCall(SECRET, FIELDS, sig, NOW))).toBeNull();
    expect(
      await evaluate(runtime, verifyCall(SECRET, FIELDS, sig.toUpperCase(), NOW + 300)),
    ).toBeNull();
  });

  it('refuses a wrong secret, an old or future timestamp, and altered fields', async () => {
    const sig = signAgentRequest(SECRET, FIELDS);
    const cases: [string, AgentSignedFields, string, number, string][] = [
      ['wrong secret', FIELDS, signAgentRequest(newAgentSecret(), FIELDS), NOW, 'bad_signature'],
      ['old', FIELDS, sig, NOW + 301, 'late'],
      ['future', FIELDS, sig, NOW - 301, 'late'],
      ['body', { ...FIELDS, body: FIELDS.body.replace('wp', 'wq') }, sig, NOW, 'bad_signature'],
      ['empty body', { ...FIELDS, body: '' }, sig, NOW, 'bad_signature'],
      ['path', { ...FIELDS, path: '/wpfleet/v1/login-link' }, sig, NOW, 'bad_signature'],
      ['method', { ...FIELDS, method: 'GET' }, sig, NOW, 'bad_signature'],
      ['nonce', { ...FIELDS, nonce: 'n0nce-with_chars-0124' }, sig, NOW, 'bad_signature'],
      ['short nonce', { ...FIELDS, nonce: 'abc' }, sig, NOW, 'unsigned'],
      ['newline', { ...FIELDS, method: 'POST\n' }, sig, NOW, 'unsigned'],
      ['bad signature', FIELDS, 'zz' + sig.slice(2), NOW, 'unsigned'],
      ['no signature', FIELDS, '', NOW, 'unsigned'],
    ];
    for (const [name, fields, signature, now, code] of cases) {
      expect([name, await evaluate(runtime, verifyCall(SECRET, fields, signature, now))]).toEqual([
        name,
        code,
      ]);
    }
    expect(await evaluate(runtime, verifyCall('', FIELDS, sig, NOW))).toBe('not_configured');
    expect(
      await evaluate(
        runtime,
        `echo json_encode(wpfleet_agent_verify(${php(SECRET)}, 'POST', '/wpfleet/v1/urls', null, null, '', null, ${NOW}));`,
      ),
    ).toBe('unsigned');
  });

  it('finds the REST route of a raw request, as WordPress will', async () => {
    const cases: [Record<string, string>, Record<string, string>, string | null][] = [
      [
        { REQUEST_URI: '/?rest_route=/wpfleet/v1/info' },
        { rest_route: '/wpfleet/v1/info' },
        '/wpfleet/v1/info',
      ],
      [{ REQUEST_URI: '/wp-json/wpfleet/v1/info/' }, {}, '/wpfleet/v1/info'],
      [{ REQUEST_URI: '/blog/wp-json/wpfleet/v1/urls?x=1' }, {}, '/wpfleet/v1/urls'],
      [{ REQUEST_URI: '/wp-json/' }, {}, '/'],
      [{ REQUEST_URI: '/about/' }, {}, null],
      [{}, {}, null],
    ];
    for (const [server, get, route] of cases) {
      const code = `echo json_encode(wpfleet_agent_request_route(json_decode(${php(JSON.stringify(server))}, true), json_decode(${php(JSON.stringify(get))}, true)));`;
      expect([server, await evaluate(runtime, code)]).toEqual([server, route]);
    }
  });

  it('checks a whole HTTP request sent by AgentClient (headers, query, raw body)', async () => {
    runtime.writeFile(
      '/probe.php',
      `<?php require '${AGENT_PATH}';
      header('Content-Type: application/json');
      echo json_encode(array('enabled' => wpfleet_agent_request_is_signed(
        ${php(SECRET)}, $_SERVER, $_GET, file_get_contents('php://input'), time())));`,
    );
    const transport: AgentTransport = async (request) => {
      const result = await run(runtime, {
        scriptPath: '/probe.php',
        method: request.method,
        relativeUri: request.path,
        headers: request.headers,
        body: request.body,
      });
      expect(result.errors).toBe('');
      return { status: result.httpStatusCode, headers: result.headers, body: result.text };
    };
    expect(await new AgentClient(transport, SECRET).setMaintenance(true)).toBe(true);
    expect(await new AgentClient(transport, newAgentSecret()).setMaintenance(true)).toBe(false);
    const late = new AgentClient(transport, SECRET, { now: () => Date.now() / 1000 - 3600 });
    expect(await late.setMaintenance(true)).toBe(false);
    const elsewhere: AgentTransport = (request) =>
      transport({
        ...request,
        path: request.path.replace('wpfleet/v1/maintenance', 'wpfleet/v1/urls'),
      });
    expect(await new AgentClient(elsewhere, SECRET).setMaintenance(true)).toBe(false);
  });

  it('accepts only absolute http(s) URLs for home and siteurl', async () => {
    const urls = [
      'http://blog.localhost:8080/',
      'https://example.com/wp',
      'https://[::1]:8443',
      'ftp://example.com',
      'https://example.com/?p=1',
      'https://example.com/#top',
      'javascript:alert(1)',
      'https://exa mple.com',
      '//example.com',
      '',
    ];
    const code = `echo json_encode(array_map('wpfleet_agent_normalize_url', json_decode(${php(JSON.stringify(urls))})));`;
    expect(await evaluate(runtime, code)).toEqual([
      'http://blog.localhost:8080',
      'https://example.com/wp',
      'https://[::1]:8443',
      null,
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
  });
});

describe('agent PHP on every version php-wasm ships', () => {
  it.each(VERSIONS)(
    'PHP %s loads it without a notice and verifies a signed call',
    async (version) => {
      const runtime = await boot(version);
      try {
        const sig = signAgentRequest(SECRET, FIELDS);
        expect(await evaluate(runtime, verifyCall(SECRET, FIELDS, sig, NOW))).toBeNull();
        expect(await evaluate(runtime, verifyCall(SECRET, FIELDS, sig, NOW + 301))).toBe('late');
      } finally {
        runtime.exit();
      }
    },
  );
});
