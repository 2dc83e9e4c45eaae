/**
 * Where plugins, themes and WordPress core versions come from: the port core and the runtime
 * share. The runtime implements it (an offline mirror first, then wordpress.org when the
 * network allows, and https URLs under a network policy); core only names what it needs.
 */
export type PackageKind = 'plugin' | 'theme';

export const PACKAGE_KINDS: readonly PackageKind[] = ['plugin', 'theme'];

/** What a source knows about one slug. */
export interface PackageInfo {
  kind: PackageKind;
  slug: string;
  /** As the plugin header or style.css names it (wordpress.org's `name`). */
  name: string;
  /** The newest version the source offers. */
  version: string;
  /** Every version the source can fetch, newest first. */
  versions: string[];
}

/**
 * A package zip on the server's disk. The file belongs to wpfleet: read it, never move, change
 * or delete it. A mirror's file stays until the operator removes it; a downloaded one stays for
 * at least a day.
 */
export interface LocalPackage {
  kind: PackageKind;
  slug: string;
  /** The version asked for, or the header's when it came from a URL ('' when it has none). */
  version: string;
  /** Absolute path of the zip. */
  file: string;
  /** Hex SHA-256 of the zip's bytes. */
  sha256: string;
}

export interface CoreVersions {
  latest: string;
  /** Newest first. */
  versions: string[];
}

export interface PackageSources {
  /**
   * What the first source that knows the slug offers; null when no source knows it. Fails with
   * PackageSourceUnavailableError when a source that might know it cannot be reached.
   */
  latest(kind: PackageKind, slug: string): Promise<PackageInfo | null>;
  /**
   * The package zip of `version` (default: the newest), from the first source that knows the
   * slug. UnknownPackageError, UnknownPackageVersionError, BrokenPackageError or
   * PackageSourceUnavailableError otherwise.
   */
  fetch(kind: PackageKind, slug: string, version?: string): Promise<LocalPackage>;
  /**
   * Downloads an `https://` zip under the URL policy (RefusedUrlError), and checks that it is a
   * package of `kind` (BrokenPackageError).
   */
  fromUrl(kind: PackageKind, url: string): Promise<LocalPackage>;
  /** wordpress.org's version check when the network allows, else the releases this server has. */
  coreVersions(): Promise<CoreVersions>;
}

export function isPackageKind(value: unknown): value is PackageKind {
  return value === 'plugin' || value === 'theme';
}
