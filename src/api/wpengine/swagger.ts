import type { SwaggerOptions } from '@fastify/swagger';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Swagger 2.0 has no null type: a `type: [T, 'null']` list (what our serializer needs) becomes
 * `type: T` with `x-nullable: true`, the way WP Engine's own document writes it.
 */
function swagger2Types(node: Json): Json {
  if (Array.isArray(node)) return node.map(swagger2Types);
  if (node === null || typeof node !== 'object') return node;
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(node)) out[key] = swagger2Types(value);
  const type = out.type;
  if (Array.isArray(type)) {
    const real = type.filter((t) => t !== 'null');
    out.type = real.length === 1 ? (real[0] ?? 'string') : real;
    if (real.length !== type.length) out['x-nullable'] = true;
  }
  return out;
}

/** The document served at /v1/swagger, generated from the route schemas. */
export function swaggerOptions(version: string): SwaggerOptions {
  return {
    swagger: {
      info: {
        title: 'WP Engine API',
        description: 'The WP Engine Customer API v1, as served by wpfleet.',
        version,
      },
      basePath: '/v1',
      schemes: ['http', 'https'],
      consumes: ['application/json'],
      produces: ['application/json'],
      securityDefinitions: { basicAuth: { type: 'basic' } },
    },
    transform: ({ schema, url, route }) => {
      const isPublic = (route.config as { public?: boolean } | undefined)?.public === true;
      return {
        schema: { ...schema, security: isPublic ? [] : [{ basicAuth: [] }] },
        url: url.startsWith('/v1/') ? url.slice(3) : url,
      };
    },
    transformObject: (documents) => {
      const doc = 'swaggerObject' in documents ? documents.swaggerObject : documents.openapiObject;
      return swagger2Types(doc as unknown as Json) as unknown as typeof doc;
    },
  };
}
