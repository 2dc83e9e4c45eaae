/** `manifest.json` of a backup: what it holds and the checksum of every part and file. */
export interface BackupManifest {
  format: 1;
  backup_id: string;
  install_id: string;
  install_name: string;
  account_id: string;
  created_at: string;
  wordpress_version: string | null;
  php_version: string;
  release_version: string | null;
  table_prefix: string;
  /** home and siteurl as stored in the database when the backup was taken. */
  home: string | null;
  siteurl: string | null;
  database: { engine: 'sqlite' | 'mysql'; part: string };
  /** The files of wp-content (wp-content/database, the SQLite database, is the database part). */
  files: ManifestFile[];
  parts: ManifestPart[];
}

export interface ManifestFile {
  /** Relative to wp-content, with `/`. */
  path: string;
  size: number;
  sha256: string;
}

export interface ManifestPart {
  name: string;
  size: number;
  sha256: string;
}

export const MANIFEST = 'manifest.json';
export const FILES_PART = 'files.tar.gz';
export const SQLITE_PART = 'database.sqlite';
export const MYSQL_PART = 'database.sql.gz';

export class ManifestError extends Error {}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checksums(list: unknown, what: string): void {
  if (!Array.isArray(list)) throw new ManifestError(`the manifest has no ${what} list`);
  for (const item of list) {
    if (
      !isObject(item) ||
      typeof item.size !== 'number' ||
      typeof item.sha256 !== 'string' ||
      !/^[0-9a-f]{64}$/.test(item.sha256) ||
      (typeof item.path !== 'string' && typeof item.name !== 'string')
    ) {
      throw new ManifestError(`the manifest has a bad ${what} entry`);
    }
  }
}

/** Parses and checks the shape of a manifest; throws ManifestError naming what is wrong. */
export function parseManifest(text: string): BackupManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ManifestError('manifest.json is not valid JSON');
  }
  if (!isObject(raw) || raw.format !== 1) {
    throw new ManifestError('manifest.json is not a wpfleet backup manifest (format 1)');
  }
  const db = raw.database;
  if (
    !isObject(db) ||
    (db.engine !== 'sqlite' && db.engine !== 'mysql') ||
    typeof db.part !== 'string'
  ) {
    throw new ManifestError('the manifest does not say which database engine it holds');
  }
  if (typeof raw.table_prefix !== 'string' || typeof raw.install_id !== 'string') {
    throw new ManifestError('the manifest has no table prefix or install');
  }
  checksums(raw.files, 'file');
  checksums(raw.parts, 'part');
  return raw as unknown as BackupManifest;
}
