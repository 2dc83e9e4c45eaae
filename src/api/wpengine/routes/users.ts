import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Services } from '../../../core/services.js';
import { actorOf } from '../auth.js';
import { envelope, pageOf } from '../pagination.js';
import { presentSshKey, presentUser } from '../presenters.js';
import { errors, NoContent, PageQuery, Paginated, Uuid } from '../schemas/common.js';
import { SshKey, User } from '../schemas/models.js';

/** The authenticated user and that user's SSH keys. */
export const userRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  app.get(
    '/user',
    {
      config: { resource: 'User' },
      schema: {
        operationId: 'getCurrentUser',
        tags: ['user'],
        summary: 'Get the current user',
        response: { 200: User, ...errors(401, 429, 503) },
      },
    },
    async (request) => presentUser(await services.currentUser.get(actorOf(request))),
  );

  app.get(
    '/ssh_keys',
    {
      config: { resource: 'SshKey' },
      schema: {
        operationId: 'listSshKeys',
        tags: ['ssh_key'],
        summary: 'Get your SSH keys',
        querystring: PageQuery,
        response: { 200: Paginated(SshKey), ...errors(400, 401, 429, 503) },
      },
    },
    async (request) => {
      const page = pageOf(request.query);
      const result = await services.sshKeys.list(actorOf(request), page);
      return envelope(request, page, result, presentSshKey);
    },
  );

  app.post(
    '/ssh_keys',
    {
      config: { resource: 'SshKey' },
      schema: {
        operationId: 'createSshKey',
        tags: ['ssh_key'],
        summary: 'Add a new SSH key',
        body: Type.Object(
          { public_key: Type.String({ maxLength: 16_384 }) },
          { additionalProperties: false },
        ),
        response: { 201: SshKey, ...errors(400, 401, 403, 429, 503) },
      },
    },
    async (request, reply) => {
      const key = await services.sshKeys.create(actorOf(request), request.body.public_key);
      return reply.code(201).send(presentSshKey(key));
    },
  );

  app.delete(
    '/ssh_keys/:ssh_key_id',
    {
      config: { resource: 'SshKey' },
      schema: {
        operationId: 'deleteSshKey',
        tags: ['ssh_key'],
        summary: 'Delete an existing SSH key',
        params: Type.Object({ ssh_key_id: Uuid }),
        response: { 204: NoContent, ...errors(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      await services.sshKeys.delete(actorOf(request), request.params.ssh_key_id);
      return reply.code(204).send(null);
    },
  );
  return Promise.resolve();
};
