import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { addRelease, releaseStore, type ReleaseOptions, type ReleaseSettings } from './add.js';
import { assertMatches, checkTree, parseChecksums, type Checksums } from './checksums.js';
import type { Release, ReleaseManifest } from './store.js';

/** What differs in a stored release from the checksums recorded when it was added. */
export interface ReleaseDamage {
  ok: boolean;
  changed: string[];
  missing: string[];
  /** Files (or links, or devices) that were not in the release when it was added. */
  extra: string[];
}

const CHECKSUMS = 'checksums.json';
const MANIFEST = 'manifest.json';

/** The md5 of every file of the release as it was added (ReleaseStore.commit writes them). */
async function recordedChecksums(release: Release): Promise<Checksums> {
  const file = path.join(release.dir, CHECKSUMS);
  return parseChecksums(await fs.readFile(file, 'utf8'), release.version, file);
}

/**
 * Checks every file of a stored release against the list recorded when it was added, which is
 * complete: a file that was not there then is damage too.
 */
export async function checkStoredRelease(release: Release): Promise<ReleaseDamage> {
  const report = await checkTree(release.root, await recordedChecksums(release));
  const extra = [...report.unlisted, ...report.notFiles].sort();
  return {
    ok: report.mismatched.length === 0 && report.missing.length === 0 && extra.length === 0,
    changed: report.mismatched,
    missing: report.missing,
    extra,
  };
}

/**
 * Puts a damaged release right: the version is fetched again where it came from (this machine's
 * release cache or the configured sources; for a release added from a folder or zip, that folder
 * or zip) into a scratch folder of the release store, checked file by file against the checksums
 * recorded when the release was first added, and swapped in by two renames. The release keeps
 * its manifest, with a note. Installs running on it see the old files or the new ones, never a
 * mix of a half-copied tree. Throws (a ReleaseError) when the version cannot be fetched again or
 * what was fetched does not match; the damaged release is then left as it was.
 */
export async function repairRelease(
  settings: ReleaseSettings,
  release: Release,
  options: ReleaseOptions = {},
): Promise<{ from: string }> {
  const store = releaseStore(settings);
  const expected = await recordedChecksums(release);
  const scratch = path.join(store.dir, `.staging-repair-${randomBytes(6).toString('hex')}`);
  try {
    const local = release.manifest.source === 'local';
    // The recorded checksums are what the copy is held to, so a local folder needs no others.
    const { release: fresh } = await addRelease(
      { ...settings, dataDir: scratch },
      local
        ? { from: release.manifest.origin, noVerify: true, version: release.version }
        : { version: release.version },
      options,
    );
    const what = `WordPress ${release.version} fetched again (${fresh.manifest.origin})`;
    assertMatches(
      await checkTree(fresh.root, expected),
      what,
      'the checksums recorded when it was added',
      { strict: true },
    );
    const manifest: ReleaseManifest = {
      ...release.manifest,
      notes: [
        ...release.manifest.notes,
        `repaired ${new Date().toISOString()}: fetched again from ${fresh.manifest.origin}; every file matched the checksums recorded when it was added`,
      ],
    };
    await fs.writeFile(path.join(fresh.dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    await fs.writeFile(path.join(fresh.dir, CHECKSUMS), JSON.stringify({ checksums: expected }));
    const doomed = path.join(
      store.dir,
      `.removing-${release.version}-${randomBytes(4).toString('hex')}`,
    );
    await fs.rename(release.dir, doomed);
    try {
      await fs.rename(fresh.dir, release.dir);
    } catch (err) {
      await fs.rename(doomed, release.dir);
      throw err;
    }
    await fs.rm(doomed, { recursive: true, force: true });
    return { from: fresh.manifest.origin };
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}
