import fastifySwagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type ConnectionError, type FastifyInstance } from 'fastify';
import http from 'node:http';
import type { Socket } from 'node:net';
import type { App } from '../composition.js';
import { validatorCompiler } from './shared/validation.js';
import { wpEngineApi } from './wpengine/plugin.js';
import { swaggerOptions } from './wpengine/swagger.js';

export const BODY_LIMIT = 1024 * 1024;

/** Takes the requests it serves and hands the others on with `next`. */
export interface Front {
  route(req: http.IncomingMessage, res: http.ServerResponse, next: () => void): void;
}

export interface ServerOptions {
  /** false for tests and benchmarks; otherwise pino at the configured level. */
  logger?: boolean;
  /** The front for installs (the edge): requests for an install's host go to it, the rest to the APIs. */
  edge?: Front;
}

/**
 * What Node's HTTP parser refuses before Fastify sees a request (a request line or headers over
 * the size limit, a malformed request), answered as the contract's `{message}` body.
 */
function clientError(err: ConnectionError, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout']
        : [400, 'Bad Request'];
  const body = JSON.stringify({ message: reason });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

/** The HTTP front: every API dialect on one Fastify instance. */
export async function buildServer(app: App, options: ServerOptions = {}): Promise<FastifyInstance> {
  const server = Fastify({
    logger: options.logger === false ? false : { level: app.config.logLevel },
    trustProxy: app.config.trustProxy,
    bodyLimit: BODY_LIMIT,
    routerOptions: { ignoreDuplicateSlashes: true, ignoreTrailingSlash: true },
    clientErrorHandler: clientError,
    ...(options.edge === undefined
      ? {}
      : {
          serverFactory: (handler: http.RequestListener) =>
            http.createServer((req, res) => {
              options.edge?.route(req, res, () => {
                handler(req, res);
              });
            }),
        }),
    // A path that does not decode, or an id longer than any route takes, names nothing: the
    // contract's 404 rather than Fastify's own 400/414 bodies.
    frameworkErrors: (err, _request, reply) => {
      const notFound = err.code === 'FST_ERR_BAD_URL' || err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      const body = JSON.stringify({ message: notFound ? 'Not Found' : 'Internal Server Error' });
      reply.raw.writeHead(notFound ? 404 : 500, {
        'content-type': 'application/json',
        'access-control-allow-origin': '*',
        'content-length': Buffer.byteLength(body),
      });
      reply.raw.end(body);
    },
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
