/**
 * PHP's version_compare(), which WordPress uses to tell whether a plugin or theme has an update:
 * plugin and theme versions are free text ("2.0.0-beta1", "1.2.3a", "2024.05"), so semver
 * rules would disagree with WordPress. Returns <0, 0 or >0 like a sort comparator.
 */
export function phpVersionCompare(a: string, b: string): number {
  const partsA = canonical(a);
  const partsB = canonical(b);
  const length = Math.max(partsA.length, partsB.length);
  for (let i = 0; i < length; i++) {
    const x = partsA[i];
    const y = partsB[i];
    // PHP: the shorter version is older than more numbers, and compares as "#" (a number)
    // against a special form: 1.0 is newer than 1.0rc1, older than 1.0pl1.
    if (x === undefined) return y === undefined ? 0 : isNumber(y) ? -1 : compareForm('#', y);
    if (y === undefined) return isNumber(x) ? 1 : compareForm(x, '#');
    const diff = isNumber(x) && isNumber(y) ? Math.sign(Number(x) - Number(y)) : compareForm(x, y);
    if (diff !== 0) return diff;
  }
  return 0;
}

/** Newest first, for lists of versions. */
export function newestFirst(versions: Iterable<string>): string[] {
  return [...new Set(versions)].sort((a, b) => phpVersionCompare(b, a));
}

/** php_canonicalize_version: `-`, `_`, `+` become `.`, and a `.` goes between digits and letters. */
function canonical(version: string): string[] {
  let out = '';
  let previous = '';
  for (const ch of version.trim()) {
    const kind = /\d/.test(ch) ? 'd' : /[-_+.]/.test(ch) ? '.' : 'a';
    if (kind === '.') {
      if (previous !== '.') out += '.';
    } else {
      if (previous !== '' && previous !== '.' && previous !== kind) out += '.';
      out += ch;
    }
    previous = kind;
  }
  return out.split('.').filter((p) => p !== '');
}

function isNumber(part: string): boolean {
  return /^\d+$/.test(part);
}

/** PHP's special forms in order; anything else sorts before "dev", a number as "#". */
const FORMS: [string, number][] = [
  ['dev', 0],
  ['alpha', 1],
  ['a', 1],
  ['beta', 2],
  ['b', 2],
  ['RC', 3],
  ['rc', 3],
  ['#', 4],
  ['pl', 5],
  ['p', 5],
];

function order(part: string): number {
  if (isNumber(part)) return 4;
  for (const [form, rank] of FORMS) if (part.startsWith(form)) return rank;
  return -6;
}

function compareForm(a: string, b: string): number {
  return Math.sign(order(a) - order(b));
}
