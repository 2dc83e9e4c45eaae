/**
 * What a safe update needs from the machinery that runs WordPress, as core sees it; runtime
 * implements each (src/runtime/updates/). Paths are relative to the server's data directory, so
 * that a record names them the same on every server.
 */
import type { ExtensionKind } from '../site-agent/site-agent.js';
import type { FetchedPage } from './health.js';

/** One plugin or theme an update touches. */
export interface UpdateTarget {
  kind: ExtensionKind;
  slug: string;
}

/** Pages of an install, fetched through the edge as a visitor gets them, never from its cache. */
export interface UpdatePages {
  get(installId: string, path: string): Promise<FetchedPage>;
}

/** What a snapshot holds, recorded with the job's steps so that a later attempt can restore it. */
export interface SnapshotRecord {
  /** The folder it is kept in. */
  dir: string;
  database: 'sqlite' | 'mysql';
  /** Every path under wp-content the update may write (`plugins/x`, `plugins/x.php`). */
  touched: string[];
  /** Those of them that existed, and were copied. */
  paths: string[];
  bytes: number;
}

/** The database and the files an update touches, copied before and put back on a failure. */
export interface UpdateSnapshots {
  take(installId: string, dir: string, targets: UpdateTarget[]): Promise<SnapshotRecord>;
  /**
   * Puts the files and the database back as the snapshot has them, the install's PHP restarted
   * so that nothing of the update stays loaded. Safe to run again after a crash mid-way.
   */
  restore(installId: string, snapshot: SnapshotRecord): Promise<void>;
  /** Deletes the snapshot's copies once they are no longer needed (the images stay). */
  discard(snapshot: SnapshotRecord): Promise<void>;
}

/** The comparison of two screenshots. */
export interface VisualDiff {
  /** Fraction of pixels that differ, 0..1 (a size change counts the uncovered area). */
  difference: number;
  width: number;
  height: number;
}

/** Screenshots of an install's home page and their comparison. */
export interface VisualCheck {
  /**
   * A PNG of the home page at `file`. Throws with what to do when no browser can be started
   * (the message names `apt-get install chromium`).
   */
  screenshot(installId: string, file: string): Promise<void>;
  /** Compares two PNGs and writes the diff image to `diff`. */
  compare(before: string, after: string, diff: string): Promise<VisualDiff>;
}
