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
  // Swagger 2.0 has no anyOf either: a union of single values (a TypeBox union of literals)
  // becomes the one `enum` it means.
  const anyOf = out.anyOf;
  if (Array.isArray(anyOf) && anyOf.length > 0) {
    const values: Json[] = [];
    let kind: Json | undefined;
    const single = anyOf.every((m) => {
      if (m === null || typeof m !== 'object' || Array.isArray(m)) return false;
      if (typeof m.type !== 'string' || !Array.isArray(m.enum) || m.enum.length !== 1) return false;
      kind ??= m.type;
      values.push(...m.enum);
      return m.type === kind;
    });
    if (single) {
      delete out.anyOf;
      out.type = kind ?? 'string';
      out.enum = values;
    }
  }
  const type = out.type;
  if (Array.isArray(type)) {
    const real = type.filter((t) => t !== 'null');
    out.type = real.length === 1 ? (real[0] ?? 'string') : real;
    if (real.length !== type.length) out['x-nullable'] = true;
  }
  return out;
}

/** Every operation that takes a body requires it, as in WP Engine's document. */
function requireBodies(doc: Json): Json {
  const paths = doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? doc.paths : null;
  if (paths === null || typeof paths !== 'object' || Array.isArray(paths)) return doc;
  for (const item of Object.values(paths)) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) continue;
    for (const operation of Object.values(item)) {
      if (operation === null || typeof operation !== 'object' || Array.isArray(operation)) continue;
      const parameters = operation.parameters;
      if (!Array.isArray(parameters)) continue;
      for (const p of parameters) {
        if (p !== null && typeof p === 'object' && !Array.isArray(p) && p.in === 'body') {
          p.required = true;
        }
      }
    }
  }
  return doc;
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
      return requireBodies(swagger2Types(doc as unknown as Json)) as unknown as typeof doc;
    },
  };
}
