import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ReleaseError } from './errors.js';
import { mapLimit, walkTree } from './files.js';

/** Expected md5 (hex) per file path relative to the WordPress root, as wordpress.org lists them. */
export type Checksums = Record<string, string>;

export async function md5File(file: string): Promise<string> {
  return createHash('md5')
    .update(await fs.readFile(file))
    .digest('hex');
}

/**
 * Reads wordpress.org's checksums format, `{"checksums": {"wp-login.php": "<md5>", …}}`, or the
 * multi-version form `{"checksums": {"6.5.5": {…}}}` of which `version` is taken.
 */
export function parseChecksums(text: string, version: string, from: string): Checksums {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ReleaseError('invalid', `${from} is not JSON`);
  }
  let checksums =
    typeof body === 'object' && body !== null && 'checksums' in body ? body.checksums : undefined;
  if (checksums === false) {
    throw new ReleaseError('invalid', `${from} has no checksums for WordPress ${version}`);
  }
  if (isRecord(checksums) && isRecord(checksums[version])) checksums = checksums[version];
  if (!isRecord(checksums) || Object.keys(checksums).length === 0) {
    throw new ReleaseError('invalid', `${from} is not in wordpress.org's checksums format`);
  }
  const out: Checksums = {};
  for (const [file, md5] of Object.entries(checksums)) {
    if (typeof md5 !== 'string' || !/^[0-9a-f]{32}$/i.test(md5)) {
      throw new ReleaseError('invalid', `${from}: "${file}" has no md5`);
    }
    out[file] = md5.toLowerCase();
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export interface TreeReport {
  /** Files in the tree and their total size. */
  files: number;
  bytes: number;
  /** Listed files whose content differs. */
  mismatched: string[];
  /** Listed files the tree lacks. */
  missing: string[];
  /**
   * Files in the tree the list does not name. Allowed: wordpress.org's lists are known to leave
   * out whole generated folders in some versions, so an unlisted file is reported, not refused.
   */
  unlisted: string[];
  /** Symlinks or special files, never allowed in a release. */
  notFiles: string[];
  /** md5 of every file in the tree. */
  actual: Checksums;
}

export async function checkTree(root: string, expected: Checksums | null): Promise<TreeReport> {
  const files: string[] = [];
  const notFiles: string[] = [];
  for await (const entry of walkTree(root)) {
    if (entry.kind === 'file') files.push(entry.rel);
    else notFiles.push(entry.rel);
  }
  let bytes = 0;
  const sums = await mapLimit(files, 16, async (rel) => {
    const file = path.join(root, rel);
    const { size } = await fs.stat(file);
    bytes += size;
    return md5File(file);
  });
  const actual: Checksums = {};
  files.forEach((rel, i) => (actual[rel] = sums[i] ?? ''));

  const report: TreeReport = {
    files: files.length,
    bytes,
    mismatched: [],
    missing: [],
    unlisted: [],
    notFiles,
    actual,
  };
  if (expected === null) return report;
  for (const [rel, md5] of Object.entries(expected)) {
    const got = actual[rel];
    if (got === undefined) report.missing.push(rel);
    else if (got !== md5) report.mismatched.push(rel);
  }
  report.unlisted = files.filter((rel) => expected[rel] === undefined);
  return report;
}

const SHOWN = 5;

function firstOf(label: string, paths: string[]): string {
  if (paths.length === 0) return '';
  const more = paths.length > SHOWN ? ` and ${paths.length - SHOWN} more` : '';
  return `${label}: ${paths.slice(0, SHOWN).join(', ')}${more}`;
}

/**
 * Refuses a tree that differs from its checksums, naming the first differences. Unlisted files
 * are refused only when the list is known to be complete (`strict`), as Debian's md5sums are.
 */
export function assertMatches(
  report: TreeReport,
  what: string,
  against: string,
  options: { strict?: boolean; ignoreNotFiles?: boolean } = {},
): void {
  const problems = [
    firstOf('changed', report.mismatched),
    firstOf('missing', report.missing),
    options.strict === true ? firstOf('not listed', report.unlisted) : '',
    options.ignoreNotFiles === true ? '' : firstOf('not regular files', report.notFiles),
  ].filter((p) => p !== '');
  if (problems.length > 0) {
    throw new ReleaseError(
      'checksum_mismatch',
      `${what} does not match ${against}; refused (${problems.join('; ')})`,
    );
  }
}
