/**
 * The closed set of errors that services throw. Each API dialect maps them, once, to its own
 * status codes and bodies; services never speak HTTP.
 */
export type IssueType = 'invalid_value' | 'access_error' | 'value_unavailable';

export interface FieldIssue {
  /** The entity being processed, as the API names it: `Site`, `Install`, `Domain`… */
  resource: string;
  field: string;
  type: IssueType;
  /** A machine code: `blank`, `too_long`, `taken`, `invalid`… */
  code: string;
  message: string;
}

export abstract class DomainError extends Error {
  abstract readonly kind: string;
}

export class NotFoundError extends DomainError {
  readonly kind = 'not_found';
  constructor(readonly resource: string) {
    super(`${resource} not found`);
  }
}

export class ValidationError extends DomainError {
  readonly kind = 'validation';
  constructor(
    readonly resource: string,
    readonly issues: FieldIssue[],
  ) {
    super(`Invalid ${resource}: ${issues.map((i) => i.message).join('; ')}`);
  }

  static field(
    resource: string,
    field: string,
    code: string,
    message: string,
    type: IssueType = 'invalid_value',
  ): ValidationError {
    return new ValidationError(resource, [{ resource, field, type, code, message }]);
  }
}

export class ForbiddenError extends DomainError {
  readonly kind = 'forbidden';
  constructor(message = "You don't have permission to perform that action") {
    super(message);
  }
}

export class RateLimitedError extends DomainError {
  readonly kind = 'rate_limited';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

export class UnavailableError extends DomainError {
  readonly kind = 'unavailable';
}

/**
 * WordPress refused an operation inside a site: `code` and `message` are WordPress's own
 * (`folder_exists`, "Destination folder already exists."), and the site is as it was. `reason`
 * says which kind of refusal it is, for the dialects' status codes.
 */
export class SiteOperationError extends DomainError {
  readonly kind = 'site_operation';
  constructor(
    readonly reason: 'not_found' | 'invalid' | 'conflict' | 'failed',
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
