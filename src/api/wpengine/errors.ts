import type { ErrorObject } from 'ajv';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  DomainError,
  ForbiddenError,
  NotFoundError,
  RateLimitedError,
  UnavailableError,
  ValidationError,
  type FieldIssue,
} from '../../core/errors.js';

const DOCS = 'https://wpengineapi.com/reference';
const UNEXPECTED = 'An unexpected error occurred, please try again in a few minutes';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The entity a WP Engine route works on, named in its field errors: `Site`, `Install`… */
    resource?: string;
  }
}

function human(field: string): string {
  const last = field.split('.').pop() ?? field;
  const words = last.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Turns one schema violation into the contract's ResourceError. */
function issueFromAjv(resource: string, e: ErrorObject): FieldIssue {
  const path = e.instancePath.split('/').filter((s) => s !== '' && !/^\d+$/.test(s));
  const params = e.params as Record<string, unknown>;
  const at = (name: unknown): string => [...path, String(name)].join('.');
  const field = path.join('.') || 'body';
  const issue = (f: string, code: string, message: string): FieldIssue => ({
    resource,
    field: f,
    type: 'invalid_value',
    code,
    message,
  });
  switch (e.keyword) {
    case 'required':
      return issue(
        at(params.missingProperty),
        'blank',
        `${human(at(params.missingProperty))} cannot be empty`,
      );
    case 'additionalProperties':
      return issue(
        at(params.additionalProperty),
        'unknown_field',
        `${String(params.additionalProperty)} is not a permitted field`,
      );
    case 'maxLength':
      return issue(
        field,
        'too_long',
        `${human(field)} is too long (maximum is ${String(params.limit)} characters)`,
      );
    case 'minLength':
      return params.limit === 1
        ? issue(field, 'blank', `${human(field)} cannot be empty`)
        : issue(
            field,
            'too_short',
            `${human(field)} is too short (minimum is ${String(params.limit)} characters)`,
          );
    case 'maxItems':
      return issue(
        field,
        'too_long',
        `${human(field)} has too many entries (maximum is ${String(params.limit)})`,
      );
    case 'minItems':
      return issue(field, 'blank', `${human(field)} cannot be empty`);
    case 'type':
      return issue(field, 'invalid_type', `${human(field)} must be of type ${String(params.type)}`);
    case 'minimum':
    case 'maximum':
      return issue(field, 'out_of_range', `${human(field)} must be ${e.message ?? 'in range'}`);
    default:
      return issue(field, 'invalid', `${human(field)} is invalid`);
  }
}

export function badRequest(issues: FieldIssue[]): {
  message: string;
  documentation_url: string;
  errors: FieldIssue[];
} {
  const resource = issues[0]?.resource ?? 'Request';
  return {
    message: `Invalid ${resource}: ${issues.map((i) => i.message).join('. ')}.`.replace(
      /\.\.$/,
      '.',
    ),
    documentation_url: DOCS,
    errors: issues,
  };
}

function validationIssues(request: FastifyRequest, err: FastifyError): FieldIssue[] {
  const resource = request.routeOptions.config.resource ?? 'Request';
  return (err.validation ?? []).map((e) => issueFromAjv(resource, e as ErrorObject));
}

/** The one place where core errors and framework errors become WP Engine responses. */
export function handleError(
  err: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (err instanceof DomainError) return sendDomainError(err, reply);
  if (err.validation !== undefined) {
    // A malformed id in the path names nothing: WP Engine answers 404, not 400.
    if (err.validationContext === 'params') return reply.code(404).send({ message: 'Not Found' });
    return reply.code(400).send(badRequest(validationIssues(request, err)));
  }
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const message = status === 400 ? `Invalid request: ${err.message}` : err.message;
    return reply
      .code(status)
      .send(status === 400 ? { message, documentation_url: DOCS, errors: [] } : { message });
  }
  request.log.error({ err }, 'unexpected error');
  return reply.code(500).send({ message: UNEXPECTED });
}

function sendDomainError(err: DomainError, reply: FastifyReply): FastifyReply {
  if (err instanceof ValidationError) return reply.code(400).send(badRequest(err.issues));
  if (err instanceof NotFoundError) return reply.code(404).send({ message: 'Not Found' });
  if (err instanceof ForbiddenError) return reply.code(403).send({ message: err.message });
  if (err instanceof RateLimitedError) {
    return reply
      .code(429)
      .header('retry-after', String(err.retryAfterSeconds))
      .send({ message: err.message });
  }
  if (err instanceof UnavailableError) return reply.code(503).send({ message: err.message });
  return reply.code(500).send({ message: UNEXPECTED });
}
