import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { errors } from '../schemas/common.js';
import { Status } from '../schemas/models.js';

/** RFC 3339 with an explicit offset, as WP Engine writes it: 2018-05-17T16:20:40+00:00. */
function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

export const statusRoutes: FastifyPluginAsyncTypebox<{
  swagger: () => Record<string, unknown>;
}> = async (app, opts) => {
  app.get(
    '/status',
    {
      config: { public: true },
      schema: {
        operationId: 'status',
        tags: ['status'],
        summary: 'The status of the WP Engine Public API',
        response: { 200: Status, ...errors(429, 503) },
      },
    },
    () => ({ success: true, created_on: rfc3339(new Date()) }),
  );

  app.get(
    '/swagger',
    {
      config: { public: true },
      schema: {
        operationId: 'swagger',
        tags: ['swagger'],
        summary: 'The current swagger specification',
        response: { 200: Type.Object({}, { additionalProperties: true }), ...errors(429, 503) },
      },
    },
    () => opts.swagger(),
  );
  return Promise.resolve();
};
