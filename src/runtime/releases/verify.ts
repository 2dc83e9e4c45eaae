import fs from 'node:fs/promises';
import path from 'node:path';
import { assertMatches, checkTree, type Checksums } from './checksums.js';
import { ReleaseError } from './errors.js';
import { exists } from './files.js';
import { INSTALL_OWNED, type FetchedRelease } from './source.js';
import type { ReleaseManifest } from './store.js';

/** Files a complete WordPress has; Playground's stripped builds lack the static ones. */
const REQUIRED = [
  'index.php',
  'wp-settings.php',
  'wp-login.php',
  'wp-admin/index.php',
  'wp-admin/css/login.min.css',
  'wp-includes/js/jquery/jquery.min.js',
];

/**
 * Checks a fetched tree before it becomes a release: not a Playground build, verified against
 * the source's checksums (or explicitly let through unverified), complete. Returns its manifest
 * and the md5 of every file, kept beside it for later checks. `strict` refuses files the
 * checksums do not name, for lists known to be complete (a release's own checksums.json).
 */
export async function verifyRelease(
  tree: string,
  source: string,
  fetched: FetchedRelease,
  noVerify: boolean,
  options: { strict?: boolean } = {},
): Promise<{ manifest: ReleaseManifest; checksums: Checksums }> {
  const what = `WordPress ${fetched.version} from ${fetched.origin}`;
  if (await exists(path.join(tree, 'wordpress-remote-asset-paths'))) {
    throw new ReleaseError(
      'invalid',
      `${what} is a WordPress Playground build, stripped of its static files; not a release`,
    );
  }
  if (fetched.checksums === null && !noVerify) {
    const why = fetched.notes.length > 0 ? ` (${fetched.notes.join('; ')})` : '';
    throw new ReleaseError(
      'unverifiable',
      `${what} has no checksums to be verified against${why}; give --checksums FILE (wordpress.org's format) or add it unverified with --no-verify`,
    );
  }
  // A list that names an install's own files (a site's checksums) is not held against a
  // release that leaves them out.
  const expected =
    fetched.checksums === null
      ? null
      : Object.fromEntries(
          Object.entries(fetched.checksums).filter(([rel]) => !INSTALL_OWNED.has(rel)),
        );
  const report = await checkTree(tree, expected);
  assertMatches(report, what, fetched.against, { strict: options.strict === true });
  const missing = [];
  for (const rel of REQUIRED) {
    if (
      !(await fs.stat(path.join(tree, rel)).then(
        (s) => s.isFile(),
        () => false,
      ))
    ) {
      missing.push(rel);
    }
  }
  if (missing.length > 0) {
    throw new ReleaseError('invalid', `${what} is incomplete: it lacks ${missing.join(', ')}`);
  }
  const notes = [...fetched.notes];
  if (expected !== null && report.unlisted.length > 0) {
    const shown = report.unlisted.slice(0, 5).join(', ');
    const n = report.unlisted.length;
    notes.push(`${n} file${n === 1 ? ' is' : 's are'} not named by the checksums (${shown}…)`);
  }
  return {
    manifest: {
      version: fetched.version,
      source,
      origin: fetched.origin,
      files: report.files,
      bytes: report.bytes,
      verification:
        fetched.checksums === null
          ? { verified: false, reason: 'added with --no-verify: no checksums were given' }
          : { verified: true, against: fetched.against, unlisted: report.unlisted.length },
      notes,
      created_at: new Date().toISOString(),
    },
    checksums: report.actual,
  };
}
