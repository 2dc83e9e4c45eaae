import fs from 'node:fs/promises';
import path from 'node:path';
import { md5File, parseChecksums, type Checksums } from './checksums.js';
import { mapLimit } from './files.js';
import { INSTALL_OWNED } from './source.js';

/** What `verifyInstallCore` found; `ok` when nothing is missing or changed. */
export interface CoreVerification {
  ok: boolean;
  /** Core files the release's checksums list that are not there (or are no longer files). */
  missing: string[];
  /** Core files whose content differs from the checksums. */
  changed: string[];
  /** Files in core that the checksums do not list: reported, not failing. */
  extra: string[];
  /** Core files the checksums list, all compared. */
  checked: number;
}

/** The release's checksums, beside its tree (`<release>/checksums.json`, ReleaseStore.commit). */
const CHECKSUMS = 'checksums.json';
/** PHP sees the install's own wp-content here, never the release's (php-site.ts). */
const CONTENT = 'wp-content/';

const isCore = (rel: string): boolean => !rel.startsWith(CONTENT) && !INSTALL_OWNED.has(rel);

/**
 * Checks the WordPress core an install runs against its release's checksums: the md5 of every
 * file recorded when the release was added, itself verified then against wordpress.org's or
 * Debian's lists (docs/releases.md). Core is what the install's PHP sees of the release, mounted
 * read-only at /wordpress: every file but wp-content (the install's own is mounted over it) and
 * wp-config.php (the install's own, one level up). Listed files that are missing or differ fail;
 * unlisted files anywhere in core (root, wp-admin, wp-includes, any other folder) are `extra`.
 */
export async function verifyInstallCore(site: { releaseDir: string }): Promise<CoreVerification> {
  const root = site.releaseDir;
  const from = path.join(path.dirname(root), CHECKSUMS);
  let text: string;
  try {
    text = await fs.readFile(from, 'utf8');
  } catch (err) {
    throw new Error(`the release's checksums cannot be read (${from}): ${String(err)}`);
  }
  const listed: Checksums = {};
  for (const [rel, md5] of Object.entries(parseChecksums(text, '', from))) {
    if (isCore(rel)) listed[rel] = md5;
  }
  const files = new Set<string>();
  const others: string[] = [];
  for (const entry of await fs.readdir(root, { withFileTypes: true, recursive: true })) {
    const rel = path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep);
    const name = rel.join('/');
    if (!isCore(name) || entry.isDirectory()) continue;
    // A symlink or a device is never a core file, whatever it points at.
    if (entry.isFile()) files.add(name);
    else others.push(name);
  }
  const names = Object.keys(listed).sort();
  const present = names.filter((rel) => files.has(rel));
  const sums = await mapLimit(present, 16, (rel) => md5File(path.join(root, rel)));
  const changed = present.filter((rel, i) => sums[i] !== listed[rel]);
  const missing = names.filter((rel) => !files.has(rel));
  const extra = [...files, ...others].filter((rel) => listed[rel] === undefined).sort();
  return {
    ok: missing.length === 0 && changed.length === 0,
    missing,
    changed,
    extra,
    checked: names.length,
  };
}
