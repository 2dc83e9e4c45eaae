import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { PURGE_TYPES } from '../../../core/cache/cache.service.js';
import type { Services } from '../../../core/services.js';
import { actorOf } from '../auth.js';
import { presentBackup } from '../presenters.js';
import { Accepted, errors, Uuid } from '../schemas/common.js';
import { Backup } from '../schemas/models.js';

const InstallParams = Type.Object({ install_id: Uuid });

/** Backups and cache purges: the install's asynchronous operations, answered with 202. */
export const backupRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  app.post(
    '/installs/:install_id/backups',
    {
      config: { resource: 'Backup' },
      schema: {
        operationId: 'createBackup',
        tags: ['backup'],
        summary: 'Requests a new backup of a WordPress installation',
        params: InstallParams,
        body: Type.Object(
          {
            description: Type.String({ maxLength: 10_000 }),
            notification_emails: Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 50 }),
          },
          { additionalProperties: false },
        ),
        response: { 202: Backup, ...errors(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      const backup = await services.backups.create(
        actorOf(request),
        request.params.install_id,
        request.body,
      );
      return reply.code(202).send(presentBackup(backup));
    },
  );

  app.get(
    '/installs/:install_id/backups/:backup_id',
    {
      config: { resource: 'Backup' },
      schema: {
        operationId: 'showBackup',
        tags: ['backup'],
        summary: 'Retrieves the status of a backup of a WordPress installation',
        params: Type.Object({ install_id: Uuid, backup_id: Uuid }),
        response: { 200: Backup, ...errors(400, 401, 404, 429, 503) },
      },
    },
    async (request) => {
      const { install_id, backup_id } = request.params;
      return presentBackup(await services.backups.get(actorOf(request), install_id, backup_id));
    },
  );

  app.post(
    '/installs/:install_id/purge_cache',
    {
      config: { resource: 'Install' },
      schema: {
        operationId: 'purgeCache',
        tags: ['cache'],
        summary: 'Purge an install cache',
        params: InstallParams,
        body: Type.Object(
          { type: Type.Union(PURGE_TYPES.map((t) => Type.Literal(t))) },
          { additionalProperties: false },
        ),
        response: { 202: Accepted, ...errors(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      await services.cache.purge(actorOf(request), request.params.install_id, request.body.type);
      return reply.code(202).send(null);
    },
  );
  return Promise.resolve();
};
