import fastifySwagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import type { App } from '../app.js';
import { validatorCompiler } from './shared/validation.js';
import { wpEngineApi } from './wpengine/plugin.js';
import { swaggerOptions } from './wpengine/swagger.js';

export const BODY_LIMIT = 1024 * 1024;

export interface ServerOptions {
  /** false for tests and benchmarks; otherwise pino at the configured level. */
  logger?: boolean;
}

/** The HTTP front: every API dialect on one Fastify instance. */
export async function buildServer(app: App, options: ServerOptions = {}): Promise<FastifyInstance> {
  const server = Fastify({
    logger: options.logger === false ? false : { level: app.config.logLevel },
    trustProxy: app.config.trustProxy,
    bodyLimit: BODY_LIMIT,
    routerOptions: { ignoreDuplicateSlashes: true, ignoreTrailingSlash: true },
  }).withTypeProvider<TypeBoxTypeProvider>();
  server.setValidatorCompiler(validatorCompiler());

  await server.register(fastifySwagger, swaggerOptions('1.6.7'));
  await server.register(wpEngineApi, {
    prefix: '/v1',
    services: app.services,
    rateLimits: app.config.rateLimits,
    swagger: () => server.swagger() as unknown as Record<string, unknown>,
  });
  server.setNotFoundHandler((_request, reply) => reply.code(404).send({ message: 'Not Found' }));
  await server.ready();
  return server;
}
