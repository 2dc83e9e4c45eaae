import type { FastifyInstance } from 'fastify';
import { createApp, type App } from '../../src/composition.js';
import { buildServer } from '../../src/api/server.js';
import { SCOPES, type Scope } from '../../src/core/actor.js';
import { testStore, type TestEngine, type TestStore } from './engines.js';

export interface Tenant {
  accountId: string;
  userId: string;
  username: string;
  password: string;
  /** `Authorization` header value for WP Engine Basic auth. */
  auth: string;
}

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  auth?: string | null;
  body?: unknown;
  /** Sent as is, for malformed bodies. */
  rawBody?: string;
  headers?: Record<string, string>;
}

export interface Harness {
  engine: TestEngine;
  app: App;
  server: FastifyInstance;
  store: TestStore;
  baseUrl: string;
  /** A new account with its owner and a credential (all scopes unless given). */
  tenant(name?: string, scopes?: Scope[]): Promise<Tenant>;
  request<T = unknown>(
    method: string,
    path: string,
    options?: RequestOptions,
  ): Promise<ApiResponse<T>>;
  close(): Promise<void>;
}

export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/**
 * A real server on a loopback port over a fresh store of the given engine, or over `existing`
 * (another process may share it); an existing store is left for its owner to dispose.
 */
export async function startHarness(
  engine: TestEngine,
  env: Record<string, string> = {},
  existing?: TestStore,
): Promise<Harness> {
  const store = existing ?? (await testStore(engine, env));
  const app = await createApp(store.config);
  const server = await buildServer(app, { logger: false });
  await server.listen({ port: 0, host: '127.0.0.1' });
  const address = server.server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  const baseUrl = `http://127.0.0.1:${address.port}`;
  let tenants = 0;

  return {
    engine,
    app,
    server,
    store,
    baseUrl,
    async tenant(name = `Tenant ${++tenants}`, scopes = [...SCOPES]) {
      const { account, ownerUserId } = await app.services.accounts.create({ name });
      const c = await app.services.credentials.create(account.id, scopes);
      return {
        accountId: account.id,
        userId: ownerUserId,
        username: c.username,
        password: c.password,
        auth: basicAuth(c.username, c.password),
      };
    },
    async request(method: string, path: string, options: RequestOptions = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.auth !== undefined && options.auth !== null) headers.authorization = options.auth;
      let body: string | undefined;
      if (options.rawBody !== undefined) body = options.rawBody;
      else if (options.body !== undefined) body = JSON.stringify(options.body);
      if (body !== undefined && headers['content-type'] === undefined) {
        headers['content-type'] = 'application/json';
      }
      const res = await fetch(`${baseUrl}${path}`, { method, headers, body: body ?? null });
      const text = await res.text();
      let parsed: unknown = undefined;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      // The caller names the body type it expects (Harness.request<T>); its assertions check it.
      return { status: res.status, headers: res.headers, body: parsed as never, text };
    },
    async close() {
      await server.close();
      await app.close();
      if (existing === undefined) await store.dispose();
    },
  };
}
