import type { Generated } from 'kysely';

/**
 * Table types shared by SQLite and PostgreSQL. Timestamps are ISO-8601 UTC strings and flags are
 * 0/1 integers, so both engines store and sort them the same way.
 */
export interface AccountsTable {
  id: string;
  name: string;
  nickname: string;
  site_limit: number | null;
  created_at: string;
  // backup_retention_days (003-backups, nullable) is read and set only by BackupsRepository, with
  // SQL of its own, so that code creating accounts needs no change.
}

export interface UsersTable {
  id: string;
  email: string;
  first_name: string;
  last_name: string;
  phone: string | null;
  mfa_enabled: number;
  created_at: string;
}

export interface AccountUsersTable {
  account_id: string;
  user_id: string;
  roles: string;
  invite_accepted: number;
  created_at: string;
}

export interface AccountUserInstallsTable {
  account_id: string;
  user_id: string;
  install_id: string;
}

export interface CredentialsTable {
  id: string;
  account_id: string;
  user_id: string;
  scopes: string;
  password_hash: string;
  mainwp_key_hash: string;
  mainwp_secret_hash: string;
  wispanel_hash: string;
  created_at: string;
  revoked_at: string | null;
}

export interface SitesTable {
  id: string;
  account_id: string;
  name: string;
  created_at: string;
}

export interface InstallsTable {
  id: string;
  account_id: string;
  site_id: string | null;
  name: string;
  environment: string | null;
  status: string;
  php_version: string;
  wp_version: string | null;
  is_multisite: number;
  created_at: string;
  deleted_at: string | null;
  release_version: string | null;
  table_prefix: string | null;
  /** Signs the control plane's calls to the install's agent; also in its wp-config.php. */
  agent_secret: string | null;
  /** Set for installs on MySQL/MariaDB: their own database and least-privilege user. */
  db_name: string | null;
  db_user: string | null;
  db_password: string | null;
  /** Why a `failed` install failed; null otherwise. */
  status_reason: string | null;
  /** Bumped by each page purge: an edge drops the install's pages rendered before it. */
  pages_generation: number;
}

export interface DomainsTable {
  id: string;
  account_id: string;
  install_id: string;
  name: string;
  is_primary: number;
  redirect_to_id: string | null;
  created_at: string;
}

export interface BackupsTable {
  id: string;
  account_id: string;
  install_id: string;
  status: string;
  description: string;
  notification_emails: string;
  wordpress_version: string | null;
  created_at: string;
  completed_at: string | null;
  /** Bytes of the stored backup, once completed (bigint: PostgreSQL returns it as text). */
  size_bytes: number | string | null;
  /** Why a failed backup failed. */
  error: string | null;
}

export interface SshKeysTable {
  id: string;
  account_id: string;
  user_id: string;
  public_key: string;
  fingerprint: string;
  comment: string;
  created_at: string;
}

export interface JobsTable {
  id: string;
  account_id: string;
  install_id: string | null;
  type: string;
  target_id: string;
  idempotency_key: string | null;
  state: string;
  progress: number;
  payload: string;
  result: string | null;
  attempts: number;
  created_at: string;
  updated_at: string;
  run_after: string | null;
  error: string | null;
  /** Restarts in a row that interrupted the job at the same recorded step (src/jobs/recovery.ts). */
  interruptions: number;
  /** The last step the job had recorded when a restart last interrupted it; null for none. */
  interrupted_at: string | null;
}

export interface ActivityTable {
  id: Generated<number>;
  account_id: string;
  actor: string;
  action: string;
  target_type: string;
  target_id: string;
  details: string;
  created_at: string;
}

/** An install's hardening settings (007-install-settings); no row means the defaults. */
export interface InstallSettingsTable {
  install_id: string;
  wp_debug: number;
  disallow_file_edit: number;
  file_protection: number;
  login_path: string | null;
  updated_at: string;
}

export interface DB {
  accounts: AccountsTable;
  users: UsersTable;
  account_users: AccountUsersTable;
  account_user_installs: AccountUserInstallsTable;
  credentials: CredentialsTable;
  sites: SitesTable;
  installs: InstallsTable;
  domains: DomainsTable;
  backups: BackupsTable;
  ssh_keys: SshKeysTable;
  jobs: JobsTable;
  activity: ActivityTable;
  install_inventory: InstallInventoryTable;
  install_settings: InstallSettingsTable;
  install_cron: InstallCronTable;
}

/** One row per install that has been inventoried (006-inventory). */
export interface InstallInventoryTable {
  install_id: string;
  /** The last inventory read (JSON of core/inventory's Inventory); null until one succeeds. */
  inventory: string | null;
  refreshed_at: string | null;
  /** Why the last refresh failed; null once one succeeds. */
  error: string | null;
  failed_at: string | null;
}

/** The scheduler's record of an install's WordPress cron (009-install-cron). */
export interface InstallCronTable {
  install_id: string;
  /** Before this, no server process runs the install's cron (a minute after a run, or backoff). */
  next_run_at: string;
  /** When the last run started. */
  last_run_at: string | null;
  /** When the last run that succeeded started. */
  last_ok_at: string | null;
  /** Runs that failed in a row (0 after a success). */
  failures: Generated<number>;
  last_error: string | null;
  /** Runs and hooks run since the row was created. */
  runs: Generated<number>;
  hooks_run: Generated<number>;
  /** The install's earliest scheduled event after the last successful run; null for none. */
  next_event_at: string | null;
}
