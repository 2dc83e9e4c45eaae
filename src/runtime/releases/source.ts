import type { Checksums } from './checksums.js';

/** What a source hands back: the tree it wrote and what to verify it against. */
export interface FetchedRelease {
  version: string;
  /** Where it came from, for the manifest: a URL, a path, the Debian packages and versions. */
  origin: string;
  /** Expected md5 per file of the tree; null when the source had nothing to verify against. */
  checksums: Checksums | null;
  /** What `checksums` is, e.g. "wordpress.org's checksums for 6.5.5 (en_US)". */
  against: string;
  /** Anything the operator should know that the checksums do not cover. */
  notes: string[];
}

export interface ReleaseSource {
  readonly name: string;
  /** Cheap check that the source can work here (network reachable, tools installed). */
  available(): Promise<boolean>;
  /** Why available() said no, for the error that lists what was tried. */
  unavailableReason(): string;
  /**
   * Writes one WordPress version (the newest the source has when `version` is undefined) as a
   * complete tree at `into`, which does not exist yet. Its parent folder is scratch space that
   * belongs to this fetch and is removed afterwards. Debian's wp-config.php and any .htaccess at
   * the top are left out: each install owns those.
   */
  fetch(version: string | undefined, into: string): Promise<FetchedRelease>;
  /**
   * The version `fetch(undefined)` would give, found without fetching it (so a release already
   * stored, or kept in the machine's cache, is not downloaded again). Sources without a cheap
   * answer leave it out.
   */
  newestVersion?(): Promise<string>;
  /**
   * Whether `fetch(version)` would find the version, asked without fetching it (a core update
   * refuses a version no source has before it queues anything). Throws ReleaseError
   * `unreachable` when the source cannot be asked now.
   */
  offers?(version: string): Promise<boolean>;
}

/** Files at the top of a WordPress tree that belong to an install, never to a release. */
export const INSTALL_OWNED = new Set(['wp-config.php', '.htaccess']);
