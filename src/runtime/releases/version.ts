import fs from 'node:fs/promises';
import path from 'node:path';
import { compareWordPressVersions, isWordPressVersion } from '../../core/shared/wp-version.js';
import { ReleaseError } from './errors.js';

/** The rules live in core (a requested core update is checked there); releases use the same. */
export function isVersion(raw: string): boolean {
  return isWordPressVersion(raw);
}

export function checkVersion(raw: string): string {
  if (!isVersion(raw)) {
    throw new ReleaseError('invalid', `"${raw}" is not a WordPress version (like 6.5 or 6.1.9)`);
  }
  return raw;
}

/** Newer first when used with sort(); a pre-release sorts before its final version. */
export const compareVersions = compareWordPressVersions;

/**
 * The version a WordPress tree says it is, from `$wp_version` in wp-includes/version.php; also
 * the check that the tree is WordPress at all.
 */
export async function readWordPressVersion(root: string): Promise<string> {
  const file = path.join(root, 'wp-includes', 'version.php');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new ReleaseError(
      'invalid',
      `${root} is not WordPress: it has no wp-includes/version.php`,
    );
  }
  const version = /\$wp_version\s*=\s*'([^']+)'/.exec(text)?.[1];
  if (version === undefined || !isVersion(version)) {
    throw new ReleaseError('invalid', `${file} does not set $wp_version`);
  }
  return version;
}
