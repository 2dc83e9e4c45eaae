import { Type, type Static } from '@sinclair/typebox';
import { INSTALL_STATUSES } from '../../../core/installs/installs.types.js';
import { Nullable, Uuid } from './common.js';

/** Response models of the WP Engine Customer API v1, as swagger 1.6.7 defines them. */

export const Status = Type.Object({ success: Type.Boolean(), created_on: Type.String() });

export const Account = Type.Object({ id: Uuid, name: Type.String(), nickname: Type.String() });

const InstallRef = Type.Object({ id: Uuid, name: Type.String() });

export const AccountUser = Type.Object({
  user_id: Uuid,
  account_id: Uuid,
  first_name: Type.String(),
  last_name: Type.String(),
  email: Type.String(),
  phone: Nullable(Type.String()),
  invite_accepted: Type.Boolean(),
  mfa_enabled: Type.Boolean(),
  roles: Type.String(),
  last_owner: Type.Optional(Nullable(Type.Boolean())),
  installs: Type.Optional(Nullable(Type.Array(InstallRef))),
});

const Environment = Nullable(Type.String({ enum: ['production', 'staging', 'development'] }));

export const Installation = Type.Object({
  id: Uuid,
  name: Type.String({ pattern: '^[a-z][a-z0-9]{2,13}$' }),
  account: Type.Object({ id: Uuid }),
  php_version: Nullable(Type.String()),
  // `failed` and `status_reason` are ours (docs/api/wpengine.md, Deviations): provisioning that
  // was given up says so and why, and `POST /installs/{id}/retry` takes it up again.
  status: Type.String({ enum: [...INSTALL_STATUSES] }),
  status_reason: Type.Optional(
    Type.String({ description: 'Why provisioning failed; present only when status is failed' }),
  ),
  site: Nullable(Type.Object({ id: Uuid })),
  cname: Type.String(),
  stable_ips: Nullable(Type.Array(Type.String())),
  environment: Environment,
  primary_domain: Nullable(Type.String()),
  is_multisite: Nullable(Type.Boolean()),
  created_at: Type.String({ format: 'date-time' }),
  wp_version: Type.Optional(Nullable(Type.String())),
});

export const Site = Type.Object({
  id: Uuid,
  name: Type.String(),
  account: Type.Object({ id: Uuid }),
  group_name: Nullable(Type.String()),
  tags: Type.Array(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
  installs: Type.Array(
    Type.Object({
      id: Uuid,
      name: Type.String(),
      environment: Environment,
      cname: Type.String(),
      php_version: Nullable(Type.String()),
      is_multisite: Nullable(Type.Boolean()),
    }),
  ),
});

const DomainRef = Type.Object({ id: Uuid, name: Type.String() });
/** Either `{id, name}` or `{}`: the live API answers `{}` for a domain without a redirect. */
const RedirectObject = Type.Object({ id: Type.Optional(Uuid), name: Type.Optional(Type.String()) });

export const Domain = Type.Object({
  name: Type.String(),
  duplicate: Type.Boolean(),
  primary: Type.Boolean(),
  id: Uuid,
  redirect_to: RedirectObject,
  redirects_to: Type.Array(DomainRef),
});

export const DomainOrRedirect = Type.Object({
  id: Uuid,
  name: Type.String(),
  duplicate: Type.Boolean(),
  primary: Type.Boolean(),
  redirect_to: RedirectObject,
  redirects_to: RedirectObject,
});

export const Backup = Type.Object({
  id: Uuid,
  status: Type.String({ enum: ['requested', 'in_progress', 'completed', 'failed'] }),
  description: Nullable(Type.String()),
  notification_emails: Type.Array(Type.String()),
  create_time: Nullable(Type.String({ format: 'date-time' })),
  complete_time: Nullable(Type.String({ format: 'date-time' })),
  wordpress_version: Nullable(Type.String()),
});

export const User = Type.Object({
  id: Uuid,
  email: Type.String(),
  first_name: Type.String(),
  last_name: Type.String(),
  phone_number: Nullable(Type.String()),
});

export const SshKey = Type.Object({
  uuid: Uuid,
  comment: Type.String(),
  fingerprint: Type.String(),
  created_at: Type.String(),
});

export type AccountBody = Static<typeof Account>;
export type AccountUserBody = Static<typeof AccountUser>;
export type InstallationBody = Static<typeof Installation>;
export type SiteBody = Static<typeof Site>;
export type DomainBody = Static<typeof Domain>;
export type DomainOrRedirectBody = Static<typeof DomainOrRedirect>;
export type BackupBody = Static<typeof Backup>;
export type UserBody = Static<typeof User>;
export type SshKeyBody = Static<typeof SshKey>;
