import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AgentClient,
  AgentError,
  type AgentTransport,
  type AgentTransportRequest,
  type AgentTransportResponse,
} from '../../src/runtime/agent/client.js';
import { verifyAgentRequest } from '../../src/runtime/agent/signing.js';
import { httpAgentTransport, phpAgentTransport } from '../../src/runtime/agent/transport.js';

const SECRET = 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00';

function json(status: number, body: unknown): AgentTransportResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** A fake agent: checks each call's signature and answers from a table of routes. */
function fakeAgent(answers: Record<string, (body: unknown) => AgentTransportResponse>): {
  transport: AgentTransport;
  calls: AgentTransportRequest[];
} {
  const calls: AgentTransportRequest[] = [];
  const transport: AgentTransport = (request) => {
    calls.push(request);
    const route = request.path.replace('/?rest_route=', '');
    const failure = verifyAgentRequest(
      SECRET,
      {
        method: request.method,
        path: route,
        timestamp: request.headers['X-Wpfleet-Timestamp'] ?? '',
        nonce: request.headers['X-Wpfleet-Nonce'] ?? '',
        body: request.body,
      },
      request.headers['X-Wpfleet-Signature'] ?? '',
      Date.now() / 1000,
    );
    if (failure !== null) return Promise.resolve(json(401, { code: failure, message: failure }));
    const answer = answers[route];
    const body: unknown = request.body === '' ? undefined : JSON.parse(request.body);
    return Promise.resolve(
      answer ? answer(body) : json(404, { code: 'rest_no_route', message: 'No route' }),
    );
  };
  return { transport, calls };
}

async function failure(promise: Promise<unknown>): Promise<AgentError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AgentError) return error;
    throw error;
  }
  throw new Error('expected an AgentError');
}

const INFO = {
  agent_version: '1.0.0',
  wordpress_version: '6.1.9',
  php_version: '8.3.0',
  plugins: [{ file: 'akismet/akismet.php', name: 'Akismet', version: '5.0', active: false }],
  themes: [
    { stylesheet: 'twentytwentythree', name: 'Twenty Twenty-Three', version: '1.0', active: true },
  ],
  users_count: 1,
  home: 'http://blog.localhost:8080',
  siteurl: 'http://blog.localhost:8080',
  multisite: false,
  maintenance: false,
};

describe('AgentClient', () => {
  it('signs a GET of info with the route and reads the answer', async () => {
    const agent = fakeAgent({ '/wpfleet/v1/info': () => json(200, INFO) });
    const info = await new AgentClient(agent.transport, SECRET).info();
    expect(info).toEqual({
      agentVersion: '1.0.0',
      wordpressVersion: '6.1.9',
      phpVersion: '8.3.0',
      plugins: INFO.plugins,
      themes: INFO.themes,
      usersCount: 1,
      home: INFO.home,
      siteurl: INFO.siteurl,
      multisite: false,
      maintenance: false,
    });
    expect(agent.calls[0]).toMatchObject({
      method: 'GET',
      path: '/?rest_route=/wpfleet/v1/info',
      body: '',
    });
    expect(agent.calls[0]?.headers['Content-Type']).toBeUndefined();
  });

  it('sends JSON bodies for the operations', async () => {
    const agent = fakeAgent({
      '/wpfleet/v1/cache/flush': () => json(200, { flushed: true }),
      '/wpfleet/v1/urls': (body) => json(200, body),
      '/wpfleet/v1/maintenance': (body) => json(200, body),
      '/wpfleet/v1/login-link': (body) =>
        json(200, {
          url: `http://blog.localhost:8080/wp-login.php?wpfleet_login=${'a'.repeat(64)}`,
          user_id: 1,
          user_login: 'admin',
          expires_at: 1_700_000_300,
          echo: body,
        }),
    });
    const client = new AgentClient(agent.transport, SECRET);
    expect(await client.flushObjectCache()).toBe(true);
    expect(await client.setUrls('https://example.com', 'https://example.com/wp')).toEqual({
      home: 'https://example.com',
      siteurl: 'https://example.com/wp',
    });
    expect(await client.setMaintenance(true)).toBe(true);
    const link = await client.loginLink({ userId: 7, ttlSeconds: 60 });
    expect(link).toMatchObject({ userId: 1, userLogin: 'admin', expiresAt: 1_700_000_300 });
    await client.loginLink();
    const bodies = agent.calls.map((c) => [c.method, c.path, c.body, c.headers['Content-Type']]);
    expect(bodies).toEqual([
      ['POST', '/?rest_route=/wpfleet/v1/cache/flush', '{}', 'application/json'],
      [
        'POST',
        '/?rest_route=/wpfleet/v1/urls',
        '{"home":"https://example.com","siteurl":"https://example.com/wp"}',
        'application/json',
      ],
      ['POST', '/?rest_route=/wpfleet/v1/maintenance', '{"enabled":true}', 'application/json'],
      ['POST', '/?rest_route=/wpfleet/v1/login-link', '{"user_id":7,"ttl":60}', 'application/json'],
      ['POST', '/?rest_route=/wpfleet/v1/login-link', '{}', 'application/json'],
    ]);
    expect(new Set(agent.calls.map((c) => c.headers['X-Wpfleet-Nonce'])).size).toBe(5);
  });

  it('turns the agent error body into an AgentError', async () => {
    const agent = fakeAgent({});
    const wrong = new AgentClient(agent.transport, SECRET.replace('c', 'd'));
    expect(await failure(wrong.info())).toMatchObject({ status: 401, code: 'bad_signature' });
    const late = new AgentClient(agent.transport, SECRET, { now: () => Date.now() / 1000 - 400 });
    expect(await failure(late.info())).toMatchObject({ status: 401, code: 'late' });
    const missing = await failure(new AgentClient(agent.transport, SECRET).info());
    expect(missing).toMatchObject({ status: 404, code: 'rest_no_route', message: 'No route' });
    expect(missing).toBeInstanceOf(Error);
    expect(missing.name).toBe('AgentError');
  });

  it('reports answers that are not the agent', async () => {
    const answer =
      (response: AgentTransportResponse): AgentTransport =>
      () =>
        Promise.resolve(response);
    const html = { status: 503, headers: {}, body: '<html><title>Maintenance</title></html>' };
    expect(await failure(new AgentClient(answer(html), SECRET).info())).toMatchObject({
      status: 503,
      code: 'http_error',
    });
    const notJson = { status: 200, headers: {}, body: 'Warning: something<br/>{"flushed":true}' };
    expect(
      await failure(new AgentClient(answer(notJson), SECRET).flushObjectCache()),
    ).toMatchObject({
      code: 'bad_response',
    });
    const wrongShape = json(200, { ...INFO, plugins: [{ file: 1 }] });
    const error = await failure(new AgentClient(answer(wrongShape), SECRET).info());
    expect(error).toMatchObject({ code: 'bad_response' });
    expect(error.message).toContain('plugins[0]');
  });

  it('reports a failed transport as unreachable with its cause', async () => {
    const cause = new Error('connect ECONNREFUSED');
    const broken: AgentTransport = () => Promise.reject(cause);
    const error = await failure(new AgentClient(broken, SECRET).info());
    expect(error).toMatchObject({ status: 0, code: 'unreachable' });
    expect(error.cause).toBe(cause);
  });
});

describe('phpAgentTransport', () => {
  it('sends the call with the install Host and the body as bytes', async () => {
    const seen: { url: string; headers: Record<string, string>; body: string | undefined }[] = [];
    const transport = phpAgentTransport((request) => {
      seen.push({
        url: request.url,
        headers: request.headers,
        body: request.body ? new TextDecoder().decode(request.body) : undefined,
      });
      return Promise.resolve({
        status: 200,
        headers: { 'content-type': ['application/json'] },
        body: new TextEncoder().encode('{"enabled":false}'),
      });
    }, 'blog.localhost:8080');
    expect(await new AgentClient(transport, SECRET).setMaintenance(false)).toBe(false);
    expect(await new AgentClient(transport, SECRET).info().catch((e: unknown) => e)).toBeInstanceOf(
      AgentError,
    );
    expect(seen[0]).toMatchObject({
      url: '/?rest_route=/wpfleet/v1/maintenance',
      body: '{"enabled":false}',
      headers: { Host: 'blog.localhost:8080', 'Content-Type': 'application/json' },
    });
    expect(seen[1]?.body).toBeUndefined();
  });
});

describe('httpAgentTransport', () => {
  const received: {
    method: string;
    url: string;
    headers: http.IncomingHttpHeaders;
    body: string;
  }[] = [];
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        if (req.url?.startsWith('/moved')) {
          res.writeHead(301, { Location: '/blog/?rest_route=/wpfleet/v1/urls' }).end();
          return;
        }
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(body === '' ? '{}' : body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  });

  it('posts to the site under its base path with the signed headers', async () => {
    const client = new AgentClient(httpAgentTransport(`${base}/blog/`), SECRET);
    expect(await client.setUrls('https://a.example', 'https://a.example')).toEqual({
      home: 'https://a.example',
      siteurl: 'https://a.example',
    });
    const last = received.at(-1);
    expect(last).toMatchObject({
      method: 'POST',
      url: '/blog/?rest_route=/wpfleet/v1/urls',
      body: '{"home":"https://a.example","siteurl":"https://a.example"}',
    });
    expect(last?.headers['x-wpfleet-signature']).toMatch(/^[0-9a-f]{64}$/);
    expect(last?.headers['content-type']).toBe('application/json');
  });

  it('does not follow redirects', async () => {
    const client = new AgentClient(httpAgentTransport(`${base}/moved`), SECRET);
    const count = received.length;
    expect(await failure(client.setUrls('https://a.example', 'https://a.example'))).toMatchObject({
      status: 301,
      code: 'http_error',
    });
    expect(received.length).toBe(count + 1);
  });

  it('reports a closed port as unreachable', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => {
      closed.close(() => {
        resolve();
      });
    });
    const client = new AgentClient(httpAgentTransport(`http://127.0.0.1:${port}`), SECRET);
    expect(await failure(client.info())).toMatchObject({ status: 0, code: 'unreachable' });
  });
});
