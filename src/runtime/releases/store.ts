import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { NotFoundError } from '../../core/errors.js';
import type { Checksums } from './checksums.js';
import { ReleaseError } from './errors.js';
import { sweepStale } from './files.js';
import { checkVersion, compareVersions, isVersion } from './version.js';

export type Verification =
  | {
      verified: true;
      /** What the files were checked against. */
      against: string;
      /** Files present but not named by the checksums (wordpress.org's lists can be partial). */
      unlisted: number;
    }
  | { verified: false; reason: string };

/** `<data>/releases/<version>/manifest.json` */
export interface ReleaseManifest {
  version: string;
  /** The source's name: wordpress.org, local or debian. */
  source: string;
  origin: string;
  files: number;
  bytes: number;
  verification: Verification;
  notes: string[];
  created_at: string;
}

/** A stored release, as provisioning uses it. */
export interface Release {
  version: string;
  /** The WordPress tree: core files to share, default wp-content to copy. Never write into it. */
  root: string;
  /** The release's folder, holding `wordpress/`, `manifest.json` and `checksums.json`. */
  dir: string;
  manifest: ReleaseManifest;
}

const TREE = 'wordpress';
const MANIFEST = 'manifest.json';
const CHECKSUMS = 'checksums.json';
/** No add takes this long; a staging folder this old was left by a killed process. */
const LEFTOVER_AGE_MS = 6 * 3600_000;

/**
 * The releases folder. A release appears whole or not at all: it is assembled in a staging
 * folder beside the others and renamed into place, so a crash or a second process adding the
 * same version never leaves a half release under a version's name.
 */
export class ReleaseStore {
  constructor(readonly dir: string) {}

  async list(): Promise<Release[]> {
    const names = await fs.readdir(this.dir).catch(() => []);
    const releases: Release[] = [];
    for (const name of names.filter(isVersion)) {
      const release = await this.get(name);
      if (release !== null) releases.push(release);
    }
    return releases.sort((a, b) => compareVersions(b.version, a.version));
  }

  async get(version: string): Promise<Release | null> {
    if (!isVersion(version)) return null;
    const dir = path.join(this.dir, version);
    let manifest: ReleaseManifest;
    try {
      manifest = JSON.parse(await fs.readFile(path.join(dir, MANIFEST), 'utf8')) as ReleaseManifest;
    } catch {
      return null;
    }
    return { version, root: path.join(dir, TREE), dir, manifest };
  }

  async newest(): Promise<Release | null> {
    return (await this.list())[0] ?? null;
  }

  /** A fresh folder for one add, with the path the source writes its tree to. */
  async stage(): Promise<{ scratch: string; tree: string }> {
    await fs.mkdir(this.dir, { recursive: true });
    await sweepStale(this.dir, '.staging-', LEFTOVER_AGE_MS);
    await sweepStale(this.dir, '.removing-', LEFTOVER_AGE_MS);
    const scratch = path.join(this.dir, `.staging-${randomBytes(6).toString('hex')}`);
    await fs.mkdir(scratch);
    return { scratch, tree: path.join(scratch, TREE) };
  }

  /**
   * Moves a verified tree into place as `<version>/`. When the version is already there (added
   * meanwhile by another process) that one is kept and returned.
   */
  async commit(
    staged: { scratch: string; tree: string },
    manifest: ReleaseManifest,
    checksums: Checksums,
  ): Promise<{ release: Release; added: boolean }> {
    const version = checkVersion(manifest.version);
    const folder = path.join(staged.scratch, 'release');
    await fs.mkdir(folder);
    await fs.rename(staged.tree, path.join(folder, TREE));
    await fs.writeFile(path.join(folder, CHECKSUMS), JSON.stringify({ checksums }));
    await fs.writeFile(path.join(folder, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    let added = true;
    try {
      await fs.rename(folder, path.join(this.dir, version));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      added = false;
    }
    const release = await this.get(version);
    if (release === null) throw new ReleaseError('invalid', `release ${version} vanished`);
    return { release, added };
  }

  async discard(staged: { scratch: string }): Promise<void> {
    await fs.rm(staged.scratch, { recursive: true, force: true });
  }

  /**
   * Deletes a release unless `inUse` says an install runs on it. The folder is renamed away
   * first so no reader ever sees it half deleted.
   */
  async remove(version: string, inUse: (version: string) => Promise<boolean>): Promise<void> {
    const release = await this.get(version);
    if (release === null) throw new NotFoundError(`Release ${version}`);
    if (await inUse(version)) {
      throw new ReleaseError('in_use', `release ${version} is used by installs; move them first`);
    }
    const doomed = path.join(this.dir, `.removing-${version}-${randomBytes(4).toString('hex')}`);
    await fs.rename(release.dir, doomed);
    await fs.rm(doomed, { recursive: true, force: true });
  }
}
