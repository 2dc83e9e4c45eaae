import { ValidationError } from '../errors.js';

const LEVELS = ['owner', 'full', 'partial'] as const;

/**
 * Parses WP Engine roles (`owner`, `full`, `full,billing`, `partial`, `partial,billing`, in any
 * order and spacing) into their canonical string, or refuses them.
 */
export function parseRoles(raw: string): string {
  const parts = [...new Set(raw.split(',').map((p) => p.trim().toLowerCase()))].filter(
    (p) => p !== '',
  );
  const levels = parts.filter((p): p is (typeof LEVELS)[number] =>
    (LEVELS as readonly string[]).includes(p),
  );
  const rest = parts.filter((p) => !(LEVELS as readonly string[]).includes(p));
  const billing = rest.length === 1 && rest[0] === 'billing';
  const [level] = levels;
  if (
    levels.length !== 1 ||
    level === undefined ||
    (rest.length > 0 && !billing) ||
    (level === 'owner' && billing)
  ) {
    throw ValidationError.field(
      'AccountUser',
      'roles',
      'invalid',
      "Roles must be one of 'owner', 'full', 'full,billing', 'partial', 'partial,billing'",
    );
  }
  return billing ? `${level},billing` : level;
}

export function isOwner(roles: string): boolean {
  return roles.split(',').includes('owner');
}

export function isPartial(roles: string): boolean {
  return roles.split(',').includes('partial');
}
