import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Services } from '../../../core/services.js';
import { actorOf } from '../auth.js';
import { envelope, pageOf } from '../pagination.js';
import { presentSite } from '../presenters.js';
import { AccountFilterQuery, errors, NoContent, Paginated, Uuid } from '../schemas/common.js';
import { Site } from '../schemas/models.js';

const SiteParams = Type.Object({ site_id: Uuid });

export const siteRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const config = { resource: 'Site' };
  const present = (v: Parameters<typeof presentSite>[0]) =>
    presentSite(v, (name) => services.installs.cnameOf(name));

  app.get(
    '/sites',
    {
      config,
      schema: {
        operationId: 'listSites',
        tags: ['site'],
        summary: 'List your sites',
        querystring: AccountFilterQuery,
        response: { 200: Paginated(Site), ...errors(400, 401, 429, 503) },
      },
    },
    async (request) => {
      const page = pageOf(request.query);
      const result = await services.sites.list(actorOf(request), request.query.account_id, page);
      return envelope(request, page, result, present);
    },
  );

  app.post(
    '/sites',
    {
      config,
      schema: {
        operationId: 'createSite',
        tags: ['site'],
        summary: 'Create a new site',
        body: Type.Object(
          { name: Type.String({ maxLength: 1000 }), account_id: Type.String({ maxLength: 100 }) },
          { additionalProperties: false },
        ),
        response: { 201: Site, ...errors(400, 401, 403, 429, 503) },
      },
    },
    async (request, reply) => {
      const site = await services.sites.create(actorOf(request), request.body);
      return reply.code(201).send(present(site));
    },
  );

  app.get(
    '/sites/:site_id',
    {
      config,
      schema: {
        operationId: 'getSite',
        tags: ['site'],
        summary: 'Get a site by ID',
        params: SiteParams,
        response: { 200: Site, ...errors(401, 403, 404, 429, 503) },
      },
    },
    async (request) => present(await services.sites.get(actorOf(request), request.params.site_id)),
  );

  app.patch(
    '/sites/:site_id',
    {
      config,
      schema: {
        operationId: 'updateSite',
        tags: ['site'],
        summary: 'Change a site name',
        params: SiteParams,
        body: Type.Object(
          { name: Type.Optional(Type.String({ maxLength: 1000 })) },
          { additionalProperties: false },
        ),
        response: { 200: Site, ...errors(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request) =>
      present(await services.sites.update(actorOf(request), request.params.site_id, request.body)),
  );

  app.delete(
    '/sites/:site_id',
    {
      config,
      schema: {
        operationId: 'deleteSite',
        tags: ['site'],
        summary: 'Delete a site',
        description: 'This will delete the site and any installs associated with this site.',
        params: SiteParams,
        response: { 204: NoContent, ...errors(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      await services.sites.delete(actorOf(request), request.params.site_id);
      return reply.code(204).send(null);
    },
  );
  return Promise.resolve();
};
