import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ValidationError } from '../../../core/errors.js';
import type { Services } from '../../../core/services.js';
import { actorOf } from '../auth.js';
import { presentAccountUser } from '../presenters.js';
import { parseRoles } from '../roles.js';
import { errors, NoContent, Uuid } from '../schemas/common.js';
import { AccountUser } from '../schemas/models.js';

const SUCCESS = 'Your change was successful.';
const AccountParams = Type.Object({ account_id: Uuid });
const UserParams = Type.Object({ account_id: Uuid, user_id: Uuid });
const InstallIds = Type.Array(Type.String({ maxLength: 100 }), { maxItems: 1000 });
const Roles = Type.String({
  maxLength: 100,
  description: "choose from 'owner', 'full,billing', 'full', 'partial,billing', and 'partial'",
});
const Changed = Type.Object({ message: Type.String(), account_user: AccountUser });

export const accountUserRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const config = { resource: 'AccountUser' };

  app.get(
    '/accounts/:account_id/account_users',
    {
      config,
      schema: {
        operationId: 'listAccountUsers',
        tags: ['account_user'],
        summary: 'List your account users',
        params: AccountParams,
        // Not paginated: WP Engine answers only {results}.
        response: {
          200: Type.Object({ results: Type.Array(AccountUser) }),
          ...errors(400, 401, 429, 503),
        },
      },
    },
    async (request) => {
      const users = await services.accountUsers.list(actorOf(request), request.params.account_id);
      return { results: users.map(presentAccountUser) };
    },
  );

  app.post(
    '/accounts/:account_id/account_users',
    {
      config,
      schema: {
        operationId: 'createAccountUser',
        tags: ['account_user'],
        summary: 'Create a new account user',
        params: AccountParams,
        body: Type.Object(
          {
            user: Type.Object(
              {
                account_id: Type.String({ maxLength: 100 }),
                first_name: Type.String({ maxLength: 100 }),
                last_name: Type.String({ maxLength: 100 }),
                email: Type.String({ maxLength: 254 }),
                roles: Roles,
                install_ids: Type.Optional(InstallIds),
              },
              { additionalProperties: false },
            ),
          },
          { additionalProperties: false },
        ),
        response: { 201: Changed, ...errors(400, 401, 403, 429, 503) },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const accountId = request.params.account_id;
      const { account_id: bodyAccountId, roles, ...fields } = request.body.user;
      services.accountUsers.requireManager(actor, accountId);
      if (bodyAccountId !== accountId) {
        throw ValidationError.field(
          'AccountUser',
          'account_id',
          'invalid',
          'Account id must match the account in the path',
        );
      }
      const user = await services.accountUsers.create(actor, accountId, {
        ...fields,
        role: parseRoles(roles),
      });
      return reply.code(201).send({ message: SUCCESS, account_user: presentAccountUser(user) });
    },
  );

  app.get(
    '/accounts/:account_id/account_users/:user_id',
    {
      config,
      schema: {
        operationId: 'getAccountUser',
        tags: ['account_user'],
        summary: 'Get an account user by ID',
        params: UserParams,
        response: { 200: AccountUser, ...errors(401, 403, 404, 429, 503) },
      },
    },
    async (request) => {
      const { account_id, user_id } = request.params;
      return presentAccountUser(
        await services.accountUsers.get(actorOf(request), account_id, user_id),
      );
    },
  );

  app.patch(
    '/accounts/:account_id/account_users/:user_id',
    {
      config,
      schema: {
        operationId: 'updateAccountUser',
        tags: ['account_user'],
        summary: 'Update an account user',
        params: UserParams,
        body: Type.Object(
          { roles: Roles, install_ids: Type.Optional(InstallIds) },
          { additionalProperties: false },
        ),
        response: { 200: Changed, ...errors(400, 401, 403, 404, 429, 500, 503) },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const { account_id, user_id } = request.params;
      const { roles, install_ids } = request.body;
      services.accountUsers.requireManager(actor, account_id);
      const user = await services.accountUsers.update(actor, account_id, user_id, {
        role: parseRoles(roles),
        install_ids,
      });
      return { message: SUCCESS, account_user: presentAccountUser(user) };
    },
  );

  app.delete(
    '/accounts/:account_id/account_users/:user_id',
    {
      config,
      schema: {
        operationId: 'deleteAccountUser',
        tags: ['account_user'],
        summary: 'Delete an account user',
        params: UserParams,
        response: { 204: NoContent, ...errors(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      const { account_id, user_id } = request.params;
      await services.accountUsers.delete(actorOf(request), account_id, user_id);
      return reply.code(204).send(null);
    },
  );
  return Promise.resolve();
};
