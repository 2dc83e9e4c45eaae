import type { InstallRow } from './installs.repository.js';

/**
 * `pending` while provisioning runs (or is queued), `active` once the install serves, `failed`
 * when provisioning was given up (`status_reason` says why; a retry makes it `pending` again).
 */
export const INSTALL_STATUSES = ['active', 'pending', 'failed'] as const;
export type InstallStatus = (typeof INSTALL_STATUSES)[number];

export const ENVIRONMENTS = ['production', 'staging', 'development'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** WP Engine's install name rule, which is also our cname label. */
export const INSTALL_NAME = /^[a-z][a-z0-9]{2,13}$/;

export interface InstallView {
  install: InstallRow;
  /** `<name>.<base domain>`, where the edge serves it. */
  cname: string;
  primaryDomain: string;
}

export interface NewInstall {
  name: string;
  account_id: string;
  site_id?: string | undefined;
  environment?: Environment | undefined;
}

export interface InstallChanges {
  site_id?: string | undefined;
  environment?: Environment | undefined;
}

/** What a new install has not got yet: provisioning fills in its choices (a reason only if it fails). */
export const NOT_PROVISIONED = {
  release_version: null,
  table_prefix: null,
  agent_secret: null,
  db_name: null,
  db_user: null,
  db_password: null,
  status_reason: null,
  pages_generation: 0,
} as const;

/** What provisioning chooses once and keeps across retries (the database only with MySQL). */
export interface ProvisioningChoices {
  release_version: string;
  table_prefix: string;
  agent_secret: string;
  db_name?: string;
  db_user?: string;
  db_password?: string;
}

/** What the runtime records when an install becomes active. */
export interface Activation {
  wp_version: string;
  php_version: string;
  release: string;
}
