import { ValidationError } from '../errors.js';

/** Trims a required name and enforces its length, with the contract's codes. */
export function requiredName(resource: string, field: string, raw: string, max: number): string {
  const value = raw.trim();
  const label = field.charAt(0).toUpperCase() + field.slice(1).replace(/_/g, ' ');
  if (value === '')
    throw ValidationError.field(resource, field, 'blank', `${label} cannot be empty`);
  if (value.length > max) {
    throw ValidationError.field(
      resource,
      field,
      'too_long',
      `${label} is too long (maximum is ${max} characters)`,
    );
  }
  // Control characters have no place in a name and break logs and terminals.
  if (/\p{Cc}/u.test(value)) {
    throw ValidationError.field(resource, field, 'invalid', `${label} contains control characters`);
  }
  return value;
}

/** A body's account_id must be the actor's own; any other is answered the same as a missing one. */
export function requireOwnAccount(
  resource: string,
  actorAccountId: string,
  accountId: string,
): void {
  if (accountId !== actorAccountId) {
    throw ValidationError.field(
      resource,
      'account_id',
      'not_found',
      'Account was not found or you do not have access to it',
      'access_error',
    );
  }
}
