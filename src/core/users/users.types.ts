import type { MemberRow } from './users.repository.js';

export interface AccountUserView {
  member: MemberRow;
  /** Installs a partial user may touch; null for other roles. */
  installs: { id: string; name: string }[] | null;
  /** Only set for owners: whether this is the account's last owner. */
  lastOwner: boolean | null;
}

export interface NewAccountUser {
  account_id: string;
  first_name: string;
  last_name: string;
  email: string;
  roles: string;
  install_ids?: string[] | undefined;
}

export interface AccountUserChanges {
  roles: string;
  install_ids?: string[] | undefined;
}
