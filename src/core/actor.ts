import { ForbiddenError } from './errors.js';
import { OWNER, type AccountRole } from './users/roles.js';

export type Scope = 'read' | 'write' | 'delete';
export const SCOPES: readonly Scope[] = ['read', 'write', 'delete'];

/**
 * Who is acting, resolved once per request (or per CLI command). Every service call takes one,
 * and every lookup is confined to `accountId`.
 */
export interface Actor {
  accountId: string;
  userId: string;
  /** Recorded in the activity log: `credential:<id>` or `cli`. */
  label: string;
  scopes: ReadonlySet<Scope>;
  /** What the user may do on this account. */
  role: AccountRole;
  /** Installs a limited member may touch; null means every install of the account. */
  installIds: ReadonlySet<string> | null;
}

export function actsAsOwner(actor: Actor): boolean {
  return actor.role.level === 'owner';
}

/** Owners and managers manage the account; limited members only their installs. */
export function requireAccountManager(actor: Actor): void {
  if (actor.role.level === 'limited') throw new ForbiddenError();
}

export function canSeeInstall(actor: Actor, installId: string): boolean {
  return actor.installIds === null || actor.installIds.has(installId);
}

export function requireScope(actor: Actor, scope: Scope): void {
  if (!actor.scopes.has(scope)) throw new ForbiddenError();
}

/** The platform's operator (the CLI), acting on one account's install: every scope, logged as `cli`. */
export function operatorActor(accountId: string): Actor {
  return {
    accountId,
    userId: 'operator',
    label: 'cli',
    scopes: new Set(SCOPES),
    role: OWNER,
    installIds: null,
  };
}
