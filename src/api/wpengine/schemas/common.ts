import { Type, type TSchema, type TUnsafe, type Static } from '@sinclair/typebox';

/**
 * A value that may be null. Swagger 2.0 has no null type, so the document carries `x-nullable`
 * (as WP Engine's own does) while the serializer gets a JSON Schema type list.
 */
export function Nullable<T extends TSchema>(schema: T): TUnsafe<Static<T> | null> {
  const { type } = schema as { type?: string };
  return Type.Unsafe<Static<T> | null>({ ...schema, type: [type, 'null'], 'x-nullable': true });
}

export const Uuid = Type.String({ format: 'uuid' });

export const ErrorMessage = Type.Object({
  message: Type.String(),
  documentation_url: Type.Optional(Type.String()),
});

export const ResourceError = Type.Object({
  resource: Type.String(),
  field: Type.String(),
  type: Type.String(),
  code: Type.String(),
  message: Type.String(),
});

export const BadRequest = Type.Object({
  message: Type.String(),
  documentation_url: Type.Optional(Type.String()),
  errors: Type.Optional(Type.Array(ResourceError)),
});

const INT32 = 2_147_483_647;

// Limits above 100 are clamped, not refused (real clients send limit=1000), so the schema only
// refuses what no page can mean: negatives, fractions and absurd sizes.
const Limit = Type.Integer({
  default: 100,
  minimum: 0,
  maximum: INT32,
  description: '(Optional) The number of records to return (at most 100; larger values return 100)',
});
const Offset = Type.Integer({
  default: 0,
  minimum: 0,
  maximum: INT32,
  description: '(Optional) The first record of the result set to be retrieved',
});

export const PageQuery = Type.Object({
  limit: Type.Optional(Limit),
  offset: Type.Optional(Offset),
});

export const AccountFilterQuery = Type.Object({
  limit: Type.Optional(Limit),
  offset: Type.Optional(Offset),
  account_id: Type.Optional(
    Type.String({ format: 'uuid', description: '(Optional) The uuid of an account' }),
  ),
});

export function Paginated<T extends TSchema>(item: T) {
  return Type.Object({
    previous: Nullable(Type.String()),
    next: Nullable(Type.String()),
    count: Type.Integer(),
    results: Type.Array(item),
  });
}

const TooMany = Type.Object({ message: Type.String() });

/** Error responses every authenticated operation can give, by status code. */
export const errorResponses = {
  400: BadRequest,
  401: ErrorMessage,
  403: ErrorMessage,
  404: ErrorMessage,
  429: TooMany,
  500: ErrorMessage,
  503: ErrorMessage,
} as const;

type ErrorCode = keyof typeof errorResponses;

/** Picks the declared error responses of one operation, as the contract lists them. */
export function errors<C extends ErrorCode>(
  ...codes: C[]
): { [K in C]: (typeof errorResponses)[K] } {
  const out = {} as { [K in C]: (typeof errorResponses)[K] };
  for (const c of codes) out[c] = errorResponses[c];
  return out;
}

export const NoContent = Type.Null({ description: 'No Content' });
export const Accepted = Type.Null({ description: 'Accepted' });
