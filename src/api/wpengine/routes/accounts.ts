import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Services } from '../../../core/services.js';
import { actorOf } from '../auth.js';
import { envelope, pageOf } from '../pagination.js';
import { presentAccount } from '../presenters.js';
import { errors, PageQuery, Paginated, Uuid } from '../schemas/common.js';
import { Account } from '../schemas/models.js';

export const accountRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  app.get(
    '/accounts',
    {
      config: { resource: 'Account' },
      schema: {
        operationId: 'listAccounts',
        tags: ['account'],
        summary: 'List your WP Engine accounts',
        querystring: PageQuery,
        response: { 200: Paginated(Account), ...errors(400, 401, 429, 503) },
      },
    },
    async (request) => {
      const page = pageOf(request.query);
      const result = await services.accounts.list(actorOf(request), page);
      return envelope(request, page, result, presentAccount);
    },
  );

  app.get(
    '/accounts/:account_id',
    {
      config: { resource: 'Account' },
      schema: {
        operationId: 'getAccount',
        tags: ['account'],
        summary: 'Get an account by ID',
        params: Type.Object({ account_id: Uuid }),
        response: { 200: Account, ...errors(401, 404, 429, 503) },
      },
    },
    async (request) =>
      presentAccount(await services.accounts.get(actorOf(request), request.params.account_id)),
  );
  return Promise.resolve();
};
