import fs from 'node:fs/promises';
import path from 'node:path';
import { ReleaseError } from './errors.js';

/** 6.1, 6.1.9, 6.5-RC1, 6.6-beta2: also used as a folder name, so nothing that walks paths. */
const VERSION = /^\d+\.\d+(\.\d+)?(-[A-Za-z0-9.]+)?$/;

export function isVersion(raw: string): boolean {
  return VERSION.test(raw);
}

export function checkVersion(raw: string): string {
  if (!isVersion(raw)) {
    throw new ReleaseError('invalid', `"${raw}" is not a WordPress version (like 6.5 or 6.1.9)`);
  }
  return raw;
}

/** Newer first when used with sort(); a pre-release sorts before its final version. */
export function compareVersions(a: string, b: string): number {
  const [coreA = '', preA] = a.split('-', 2);
  const [coreB = '', preB] = b.split('-', 2);
  const partsA = coreA.split('.').map(Number);
  const partsB = coreB.split('.').map(Number);
  for (let i = 0; i < Math.max(partsA.length, partsB.length); i++) {
    const diff = (partsA[i] ?? 0) - (partsB[i] ?? 0);
    if (diff !== 0) return diff;
  }
  if (preA === preB) return 0;
  if (preA === undefined) return 1;
  if (preB === undefined) return -1;
  return preA.localeCompare(preB, 'en', { numeric: true });
}

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
