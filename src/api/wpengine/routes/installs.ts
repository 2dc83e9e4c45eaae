import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Services } from '../../../core/services.js';
import { ENVIRONMENTS } from '../../../core/installs/installs.types.js';
import { actorOf } from '../auth.js';
import { envelope, pageOf } from '../pagination.js';
import { presentInstall } from '../presenters.js';
import { AccountFilterQuery, errors, NoContent, Paginated, Uuid } from '../schemas/common.js';
import { Installation } from '../schemas/models.js';

const InstallParams = Type.Object({ install_id: Uuid });
const Environment = Type.Union(ENVIRONMENTS.map((e) => Type.Literal(e)));

export const installRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const config = { resource: 'Install' };

  app.get(
    '/installs',
    {
      config,
      schema: {
        operationId: 'listInstalls',
        tags: ['install'],
        summary: 'List your WordPress installations',
        querystring: AccountFilterQuery,
        response: { 200: Paginated(Installation), ...errors(400, 401, 429, 503) },
      },
    },
    async (request) => {
      const page = pageOf(request.query);
      const result = await services.installs.list(actorOf(request), request.query.account_id, page);
      return envelope(request, page, result, (v) => presentInstall(v));
    },
  );

  app.post(
    '/installs',
    {
      config,
      schema: {
        operationId: 'createInstall',
        tags: ['install'],
        summary: 'Create a new WordPress installation',
        body: Type.Object(
          {
            name: Type.String({ maxLength: 1000 }),
            account_id: Type.String({ maxLength: 100 }),
            site_id: Type.Optional(Type.String({ maxLength: 100 })),
            environment: Type.Optional(Environment),
          },
          { additionalProperties: false },
        ),
        response: { 201: Installation, ...errors(400, 401, 403, 429, 503) },
      },
    },
    async (request, reply) => {
      const install = await services.installs.create(actorOf(request), request.body);
      return reply.code(201).send(presentInstall(install, true));
    },
  );

  app.get(
    '/installs/:install_id',
    {
      config,
      schema: {
        operationId: 'getInstall',
        tags: ['install'],
        summary: 'Get an install by ID',
        params: InstallParams,
        response: { 200: Installation, ...errors(401, 404, 429, 503) },
      },
    },
    async (request) =>
      presentInstall(
        await services.installs.get(actorOf(request), request.params.install_id),
        true,
      ),
  );

  app.patch(
    '/installs/:install_id',
    {
      config,
      schema: {
        operationId: 'updateInstall',
        tags: ['install'],
        summary: 'Update a WordPress installation',
        params: InstallParams,
        body: Type.Object(
          {
            site_id: Type.Optional(Type.String({ maxLength: 100 })),
            environment: Type.Optional(Environment),
          },
          { additionalProperties: false },
        ),
        response: { 200: Installation, ...errors(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request) =>
      presentInstall(
        await services.installs.update(actorOf(request), request.params.install_id, request.body),
        true,
      ),
  );

  // Not in WP Engine's API: provisions a `failed` install again (docs/api/wpengine.md).
  app.post(
    '/installs/:install_id/retry',
    {
      config,
      schema: {
        operationId: 'retryInstall',
        tags: ['install'],
        summary: 'Provision a failed install again (wpfleet extension)',
        params: InstallParams,
        response: { 202: Installation, ...errors(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      const install = await services.installs.retry(actorOf(request), request.params.install_id);
      return reply.code(202).send(presentInstall(install, true));
    },
  );

  app.delete(
    '/installs/:install_id',
    {
      config,
      schema: {
        operationId: 'deleteInstall',
        tags: ['install'],
        summary: 'Delete an install by ID',
        params: InstallParams,
        response: { 204: NoContent, ...errors(401, 403, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      await services.installs.delete(actorOf(request), request.params.install_id);
      return reply.code(204).send(null);
    },
  );
  return Promise.resolve();
};
