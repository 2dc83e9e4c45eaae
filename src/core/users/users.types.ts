import type { AccountRole } from './roles.js';
import type { MemberRow } from './users.repository.js';

export interface AccountUserView {
  member: MemberRow;
  /** Installs a limited member may touch; null for other roles. */
  installs: { id: string; name: string }[] | null;
  /** Only set for owners: whether this is the account's last owner. */
  lastOwner: boolean | null;
}

export interface NewAccountUser {
  first_name: string;
  last_name: string;
  email: string;
  role: AccountRole;
  /** For a limited member: the installs it may touch. */
  install_ids?: string[] | undefined;
}

export interface AccountUserChanges {
  role: AccountRole;
  install_ids?: string[] | undefined;
}
