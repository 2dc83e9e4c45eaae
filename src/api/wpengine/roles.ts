import { ValidationError } from '../../core/errors.js';
import type { AccountRole } from '../../core/users/roles.js';

/*
 * WP Engine's account user roles: `owner`, `full`, `full,billing`, `partial`, `partial,billing`.
 * `full` manages the whole account, `partial` only the installs listed for the user.
 */

const LEVELS = ['owner', 'full', 'partial'] as const;
type WpeLevel = (typeof LEVELS)[number];

function isLevel(part: string): part is WpeLevel {
  return (LEVELS as readonly string[]).includes(part);
}

/** Reads WP Engine roles (in any order, case and spacing), or refuses them. */
export function parseRoles(raw: string): AccountRole {
  const parts = [...new Set(raw.split(',').map((p) => p.trim().toLowerCase()))].filter(
    (p) => p !== '',
  );
  const levels = parts.filter(isLevel);
  const rest = parts.filter((p) => !isLevel(p));
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
  if (level === 'owner') return { level: 'owner' };
  return { level: level === 'full' ? 'manager' : 'limited', billing };
}

/** A role as WP Engine writes it. */
export function formatRoles(role: AccountRole): string {
  if (role.level === 'owner') return 'owner';
  const level = role.level === 'manager' ? 'full' : 'partial';
  return role.billing ? `${level},billing` : level;
}
