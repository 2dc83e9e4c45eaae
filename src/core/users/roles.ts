/**
 * What a member of an account may do there, in wpfleet's own words. Each API dialect maps its
 * own role names to this (WP Engine's `owner`, `full,billing`…: src/api/wpengine/roles.ts).
 */

/**
 * - `owner`: everything, including naming and removing owners.
 * - `manager`: the whole account (its sites, installs and members) except its owners.
 * - `limited`: only the installs granted to the member.
 */
export type AccessLevel = 'owner' | 'manager' | 'limited';

/** An owner always sees billing; the others only when granted. */
export type AccountRole = { level: 'owner' } | { level: 'manager' | 'limited'; billing: boolean };

export const OWNER: AccountRole = { level: 'owner' };

export function isOwner(role: AccountRole): boolean {
  return role.level === 'owner';
}

/** Limited to the installs granted (every other level reaches every install). */
export function isLimited(role: AccountRole): boolean {
  return role.level === 'limited';
}

export function hasBilling(role: AccountRole): boolean {
  return role.level === 'owner' || role.billing;
}

/*
 * The `account_users.roles` column keeps the text wpfleet 0.1 stored there (which were WP
 * Engine's words): `owner`, `full`, `full,billing`, `partial`, `partial,billing`.
 */
const STORED_LEVEL = { owner: 'owner', full: 'manager', partial: 'limited' } as const;

export function roleToColumn(role: AccountRole): string {
  if (role.level === 'owner') return 'owner';
  const level = role.level === 'manager' ? 'full' : 'partial';
  return role.billing ? `${level},billing` : level;
}

/** A stored role; text it does not know (none is written) reads as the least: limited. */
export function roleFromColumn(text: string): AccountRole {
  const parts = text.split(',');
  const [first] = parts;
  if (first === 'owner') return OWNER;
  const level = first === 'full' || first === 'partial' ? STORED_LEVEL[first] : 'limited';
  return { level, billing: parts.includes('billing') };
}
