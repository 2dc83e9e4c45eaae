/**
 * Transports for AgentClient: into a hosted install's PHP, or over HTTP(S) to a connected site.
 */
import type { AgentTransport } from './client.js';

/** The shape of a PHP runtime's request function (see runtime/php/types.ts), bound to an install. */
export type PhpRequestFunction = (request: {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: Uint8Array;
}) => Promise<{ status: number; headers: Record<string, string[]>; body: Uint8Array }>;

/**
 * Dispatches agent calls into an install's PHP, with the install's Host (its cname or primary
 * domain, port included: WordPress compares it with home when it builds URLs).
 */
export function phpAgentTransport(request: PhpRequestFunction, host: string): AgentTransport {
  return async (call) => {
    const response = await request({
      method: call.method,
      url: call.path,
      headers: { ...call.headers, Host: host },
      ...(call.body === '' ? {} : { body: new TextEncoder().encode(call.body) }),
    });
    return {
      status: response.status,
      headers: response.headers,
      body: new TextDecoder().decode(response.body),
    };
  };
}

export interface HttpAgentTransportOptions {
  /** Default 30 s. */
  timeoutMs?: number;
}

/**
 * Sends agent calls to `baseUrl` (the site's home, e.g. `https://example.com` or
 * `https://example.com/blog`) with fetch. Redirects are not followed: a signed POST must not turn
 * into a GET elsewhere; a 3xx comes back as an `http_error`.
 */
export function httpAgentTransport(
  baseUrl: string,
  options: HttpAgentTransportOptions = {},
): AgentTransport {
  const base = baseUrl.replace(/\/+$/, '');
  return async (call) => {
    const response = await fetch(base + call.path, {
      method: call.method,
      headers: call.headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      ...(call.body === '' ? {} : { body: call.body }),
    });
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    return { status: response.status, headers, body: await response.text() };
  };
}
