import type { AccountRow } from '../../core/accounts/accounts.repository.js';
import type { BackupRow } from '../../core/backups/backups.repository.js';
import type { DomainView } from '../../core/domains/domains.service.js';
import type { InstallView } from '../../core/installs/installs.types.js';
import type { SiteView } from '../../core/sites/sites.service.js';
import type { SshKeyRow } from '../../core/ssh-keys/ssh-keys.repository.js';
import type { UserRow } from '../../core/users/users.repository.js';
import type { AccountUserView } from '../../core/users/users.types.js';
import type {
  AccountBody,
  AccountUserBody,
  BackupBody,
  DomainBody,
  DomainOrRedirectBody,
  InstallationBody,
  SiteBody,
  SshKeyBody,
  UserBody,
} from './schemas/models.js';
import { formatRoles } from './roles.js';

export function presentAccount(a: AccountRow): AccountBody {
  return { id: a.id, name: a.name, nickname: a.nickname };
}

export function presentAccountUser(v: AccountUserView): AccountUserBody {
  const m = v.member;
  return {
    user_id: m.id,
    account_id: m.account_id,
    first_name: m.first_name,
    last_name: m.last_name,
    email: m.email,
    phone: m.phone,
    invite_accepted: m.invite_accepted === 1,
    mfa_enabled: m.mfa_enabled === 1,
    roles: formatRoles(m.role),
    ...(v.lastOwner === null ? {} : { last_owner: v.lastOwner }),
    ...(v.installs === null ? {} : { installs: v.installs }),
  };
}

export function presentInstall(v: InstallView, detail = false): InstallationBody {
  const i = v.install;
  return {
    id: i.id,
    name: i.name,
    account: { id: i.account_id },
    php_version: i.php_version,
    status: i.status,
    ...(i.status === 'failed' ? { status_reason: i.status_reason ?? 'unknown' } : {}),
    site: i.site_id === null ? null : { id: i.site_id },
    cname: v.cname,
    stable_ips: null,
    environment: i.environment,
    primary_domain: v.primaryDomain,
    is_multisite: i.is_multisite === 1,
    created_at: i.created_at,
    // WP Engine shows the WordPress version only on the single-install GET.
    ...(detail ? { wp_version: i.wp_version } : {}),
  };
}

export function presentSite(v: SiteView, cnameOf: (name: string) => string): SiteBody {
  return {
    id: v.site.id,
    name: v.site.name,
    account: { id: v.site.account_id },
    group_name: null,
    tags: [],
    created_at: v.site.created_at,
    installs: v.installs.map((i) => ({
      id: i.id,
      name: i.name,
      environment: i.environment,
      cname: cnameOf(i.name),
      php_version: i.php_version,
      is_multisite: i.is_multisite === 1,
    })),
  };
}

/**
 * The live API lists `redirect_to` (an object, `{}` when unset) while the contract names
 * `redirects_to` (an array); clients use either, so both are present.
 */
export function presentDomain(v: DomainView): DomainBody {
  return {
    name: v.domain.name,
    duplicate: false,
    primary: v.domain.is_primary === 1,
    id: v.domain.id,
    redirect_to: v.redirectTo ?? {},
    redirects_to: v.redirectTo === null ? [] : [v.redirectTo],
  };
}

/** The bulk endpoint's items carry the redirect as a single object under both keys. */
export function presentDomainOrRedirect(v: DomainView): DomainOrRedirectBody {
  return {
    id: v.domain.id,
    name: v.domain.name,
    duplicate: false,
    primary: v.domain.is_primary === 1,
    redirect_to: v.redirectTo ?? {},
    redirects_to: v.redirectTo ?? {},
  };
}

export function presentBackup(b: BackupRow): BackupBody {
  return {
    id: b.id,
    status: b.status,
    description: b.description,
    notification_emails: JSON.parse(b.notification_emails) as string[],
    create_time: b.created_at,
    complete_time: b.completed_at,
    wordpress_version: b.wordpress_version,
  };
}

export function presentUser(u: UserRow): UserBody {
  return {
    id: u.id,
    email: u.email,
    first_name: u.first_name,
    last_name: u.last_name,
    phone_number: u.phone,
  };
}

export function presentSshKey(k: SshKeyRow): SshKeyBody {
  return { uuid: k.id, comment: k.comment, fingerprint: k.fingerprint, created_at: k.created_at };
}
