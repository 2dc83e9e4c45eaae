import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Actor, Scope } from '../../core/actor.js';
import type { CredentialsService } from '../../core/credentials/credentials.service.js';
import type { RateLimitConfig } from '../../config.js';
import { FixedWindowLimiter, type RateDecision } from '../shared/rate-limiter.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null;
  }
  interface FastifyContextConfig {
    /** Served without credentials (`/status`, `/swagger`). */
    public?: boolean;
  }
}

const BAD_CREDENTIALS = { message: 'Bad Credentials' };
const TOO_MANY = { message: 'Too Many Requests' };

const SCOPE_BY_METHOD: Record<string, Scope> = {
  GET: 'read',
  HEAD: 'read',
  POST: 'write',
  PATCH: 'write',
  PUT: 'write',
  DELETE: 'delete',
};

function basicCredentials(header: string | undefined): [string, string] | null {
  if (header === undefined) return null;
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (match?.[1] === undefined) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  return [decoded.slice(0, colon), decoded.slice(colon + 1)];
}

function setRateHeaders(reply: FastifyReply, d: RateDecision): void {
  reply.header('x-ratelimit-limit', String(d.limit));
  reply.header('x-ratelimit-remaining', String(d.remaining));
  reply.header('x-ratelimit-reset', String(d.resetAt));
}

/** The actor of an authenticated WP Engine route; the auth hook guarantees it is set. */
export function actorOf(request: FastifyRequest): Actor {
  if (request.actor === null) throw new Error('route reached without an authenticated actor');
  return request.actor;
}

/**
 * Rate limits (per client IP per minute, then per account per hour), Basic authentication and
 * the credential's scope for the method, before any route runs.
 */
export function registerAuth(
  app: FastifyInstance,
  credentials: CredentialsService,
  limits: RateLimitConfig,
): void {
  const byIp = limits.ipPerMinute > 0 ? new FixedWindowLimiter(limits.ipPerMinute, 60_000) : null;
  const byAccount =
    limits.accountPerHour > 0 ? new FixedWindowLimiter(limits.accountPerHour, 3_600_000) : null;

  app.decorateRequest('actor', null);
  app.addHook('onRequest', async (request, reply) => {
    if (byIp !== null) {
      const d = byIp.hit(request.ip);
      setRateHeaders(reply, d);
      if (!d.allowed) {
        return reply.code(429).header('retry-after', String(d.retryAfterSeconds)).send(TOO_MANY);
      }
    }
    if (request.routeOptions.config.public === true) return;

    const pair = basicCredentials(request.headers.authorization);
    const actor = pair === null ? null : await credentials.authenticateBasic(pair[0], pair[1]);
    if (actor === null) return reply.code(401).send(BAD_CREDENTIALS);
    request.actor = actor;

    if (byAccount !== null) {
      const d = byAccount.hit(actor.accountId);
      setRateHeaders(reply, d);
      if (!d.allowed) {
        return reply.code(429).header('retry-after', String(d.retryAfterSeconds)).send(TOO_MANY);
      }
    }
    const scope = SCOPE_BY_METHOD[request.method];
    if (scope !== undefined && !actor.scopes.has(scope)) {
      return reply.code(403).send({ message: "You don't have permission to perform that action" });
    }
    return undefined;
  });
}
