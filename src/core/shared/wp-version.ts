/**
 * WordPress version numbers as wpfleet takes them: 6.1, 6.1.9, 6.5-RC1, 6.6-beta2. A version is
 * also a folder name (a release's), so nothing that walks paths is one.
 */
const VERSION = /^\d+\.\d+(\.\d+)?(-[A-Za-z0-9.]+)?$/;

export function isWordPressVersion(raw: string): boolean {
  return VERSION.test(raw);
}

/** Newer first when used with sort(); a pre-release sorts before its final version. */
export function compareWordPressVersions(a: string, b: string): number {
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
