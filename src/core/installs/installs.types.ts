import type { InstallRow } from './installs.repository.js';

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

/** What a new install has not chosen yet: provisioning fills these in. */
export const NOT_PROVISIONED = {
  release_version: null,
  table_prefix: null,
  agent_secret: null,
  db_name: null,
  db_user: null,
  db_password: null,
  pages_generation: 0,
} as const;
