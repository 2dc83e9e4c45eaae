import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RateLimitConfig } from '../../config.js';
import type { Services } from '../../core/services.js';
import { acceptJsonBodies } from '../shared/json-bodies.js';
import { registerAuth } from './auth.js';
import { handleError } from './errors.js';
import { accountUserRoutes } from './routes/account-users.js';
import { accountRoutes } from './routes/accounts.js';
import { backupRoutes } from './routes/backups.js';
import { domainRoutes } from './routes/domains.js';
import { installRoutes } from './routes/installs.js';
import { siteRoutes } from './routes/sites.js';
import { statusRoutes } from './routes/status.js';
import { userRoutes } from './routes/users.js';

export interface WpEngineOptions {
  services: Services;
  rateLimits: RateLimitConfig;
  swagger: () => Record<string, unknown>;
}

/** The WP Engine Customer API v1 dialect, mounted at /v1. */
export const wpEngineApi: FastifyPluginAsyncTypebox<WpEngineOptions> = async (app, opts) => {
  const { services } = opts;
  registerAuth(app, services.credentials, opts.rateLimits);
  app.setErrorHandler(handleError);
  acceptJsonBodies(app);
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ message: 'Not Found' }));

  // WP Engine answers exactly `application/json` (no charset) with the gateway's CORS headers.
  app.addHook('onSend', async (_request, reply, payload) => {
    const type = reply.getHeader('content-type');
    if (typeof type === 'string' && type.startsWith('application/json')) {
      reply.header('content-type', 'application/json');
    }
    reply.header('access-control-allow-origin', '*');
    return payload;
  });

  await app.register(statusRoutes, { swagger: opts.swagger });
  await app.register(accountRoutes, { services });
  await app.register(accountUserRoutes, { services });
  await app.register(siteRoutes, { services });
  await app.register(installRoutes, { services });
  await app.register(domainRoutes, { services });
  await app.register(backupRoutes, { services });
  await app.register(userRoutes, { services });
};
