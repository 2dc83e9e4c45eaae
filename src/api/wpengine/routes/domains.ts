import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { BULK_MAX } from '../../../core/domains/domains.service.js';
import type { Services } from '../../../core/services.js';
import { actorOf } from '../auth.js';
import { envelope, pageOf } from '../pagination.js';
import { presentDomain, presentDomainOrRedirect } from '../presenters.js';
import { presentDomainStatusReport } from '../presenters/domain-status.js';
import { errors, NoContent, PageQuery, Paginated, Uuid } from '../schemas/common.js';
import { DomainStatusReport } from '../schemas/domain-status.js';
import { Domain, DomainOrRedirect } from '../schemas/models.js';

const InstallParams = Type.Object({ install_id: Uuid });
const DomainParams = Type.Object({ install_id: Uuid, domain_id: Uuid });
const Name = Type.String({ maxLength: 1000 });
// Any string: an id that is not a UUID names no report (404), as for WP Engine.
const ReportParams = Type.Object({ install_id: Uuid, report_id: Type.String({ maxLength: 100 }) });

export const domainRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const config = { resource: 'Domain' };

  app.get(
    '/installs/:install_id/domains',
    {
      config,
      schema: {
        operationId: 'listDomains',
        tags: ['domain'],
        summary: 'Get the domains for an install by install id',
        params: InstallParams,
        querystring: PageQuery,
        response: { 200: Paginated(Domain), ...errors(401, 403, 404, 429, 503) },
      },
    },
    async (request) => {
      const page = pageOf(request.query);
      const result = await services.domains.list(actorOf(request), request.params.install_id, page);
      return envelope(request, page, result, presentDomain);
    },
  );

  app.post(
    '/installs/:install_id/domains',
    {
      config,
      schema: {
        operationId: 'createDomain',
        tags: ['domain'],
        summary: 'Add a new domain or redirect to an existing install',
        params: InstallParams,
        body: Type.Object(
          {
            name: Name,
            primary: Type.Optional(Type.Boolean()),
            redirect_to: Type.Optional(
              Type.String({ maxLength: 100, description: 'The id of a domain' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 201: Domain, ...errors(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      const domain = await services.domains.create(
        actorOf(request),
        request.params.install_id,
        request.body,
      );
      return reply.code(201).send(presentDomain(domain));
    },
  );

  app.post(
    '/installs/:install_id/domains/bulk',
    {
      config,
      schema: {
        operationId: 'createBulkDomains',
        tags: ['domain'],
        summary: 'Add multiple domains and redirects to an existing install',
        params: InstallParams,
        body: Type.Object(
          {
            domains: Type.Array(
              Type.Object(
                {
                  name: Name,
                  redirect_to: Type.Optional(
                    Type.String({ maxLength: 1000, description: 'The name of a domain' }),
                  ),
                },
                { additionalProperties: false },
              ),
              { minItems: 1, maxItems: BULK_MAX },
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({ domains: Type.Array(DomainOrRedirect) }),
          ...errors(400, 401, 403, 404, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const created = await services.domains.createBulk(
        actorOf(request),
        request.params.install_id,
        request.body.domains,
      );
      return reply.code(201).send({ domains: created.map(presentDomainOrRedirect) });
    },
  );

  app.get(
    '/installs/:install_id/domains/:domain_id',
    {
      config,
      schema: {
        operationId: 'getDomain',
        tags: ['domain'],
        summary: 'Get a specific domain for an install',
        params: DomainParams,
        response: { 200: Domain, ...errors(401, 403, 404, 429, 503) },
      },
    },
    async (request) => {
      const { install_id, domain_id } = request.params;
      return presentDomain(await services.domains.get(actorOf(request), install_id, domain_id));
    },
  );

  app.patch(
    '/installs/:install_id/domains/:domain_id',
    {
      config,
      schema: {
        operationId: 'updateDomain',
        tags: ['domain'],
        summary: 'Set an existing domain as primary and/or redirect it',
        params: DomainParams,
        body: Type.Object(
          {
            primary: Type.Optional(Type.Boolean()),
            redirect_to: Type.Optional(
              Type.String({
                maxLength: 100,
                description: 'The id of a domain, or "nil" to remove the redirect',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: Domain, ...errors(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request) => {
      const { install_id, domain_id } = request.params;
      const { primary, redirect_to } = request.body;
      return presentDomain(
        await services.domains.update(actorOf(request), install_id, domain_id, {
          primary,
          // WP Engine removes a redirect with the string "nil".
          redirect_to: redirect_to === 'nil' ? null : redirect_to,
        }),
      );
    },
  );

  app.delete(
    '/installs/:install_id/domains/:domain_id',
    {
      config,
      schema: {
        operationId: 'deleteDomain',
        tags: ['domain'],
        summary: 'Delete a specific domain for an install',
        params: DomainParams,
        response: { 204: NoContent, ...errors(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      const { install_id, domain_id } = request.params;
      await services.domains.delete(actorOf(request), install_id, domain_id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/installs/:install_id/domains/:domain_id/check_status',
    {
      config,
      schema: {
        operationId: 'checkStatus',
        tags: ['domain'],
        summary: 'Check the status of a domain',
        description:
          'Queues a DNS and HTTP check of the domain. At most once every 5 seconds per install.',
        params: DomainParams,
        response: {
          200: Domain,
          202: Type.Object({ report_id: Uuid }),
          ...errors(401, 403, 404, 429, 500, 503),
        },
      },
    },
    async (request, reply) => {
      const { install_id, domain_id } = request.params;
      const reportId = await services.domains.checkStatus(actorOf(request), install_id, domain_id);
      return reply.code(202).send({ report_id: reportId });
    },
  );

  // Customer API 1.10+. The static `check_status` segment keeps this apart from
  // /installs/:install_id/domains/:domain_id (find-my-way prefers static segments, and the paths
  // differ in length anyway).
  app.get(
    '/installs/:install_id/domains/check_status/:report_id',
    {
      config,
      schema: {
        operationId: 'getDomainReportStatus',
        tags: ['domain'],
        summary: 'Retrieve a status report for a domain',
        description:
          'The report of a check_status request: `complete` is false until the check has run.',
        params: ReportParams,
        response: {
          200: Type.Object({ report: DomainStatusReport }),
          ...errors(401, 403, 404, 429, 500, 503),
        },
      },
    },
    async (request) => {
      const { install_id, report_id } = request.params;
      const report = await services.domains.getReport(actorOf(request), install_id, report_id);
      return { report: presentDomainStatusReport(report) };
    },
  );
  return Promise.resolve();
};
