import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseChecksums, type Checksums } from './checksums.js';
import { ReleaseError } from './errors.js';
import { copyTree, exists } from './files.js';
import { ReleaseStore, type Release, type ReleaseManifest, type Verification } from './store.js';
import { verifyRelease } from './verify.js';
import { compareVersions, isVersion, readWordPressVersion } from './version.js';

/** Only what was fetched and verified is kept; a zip or folder an operator hands in is not. */
const KEPT_SOURCES = new Set(['wordpress.org', 'debian']);

/** Failures of this machine's own disk, which say nothing against the cached copy. */
const OUR_DISK = new Set(['ENOSPC', 'EDQUOT', 'EROFS']);

export interface CacheReports {
  progress?: (message: string) => void;
  /** A cache entry was refused, or a release could not be kept; the add goes on. */
  warn?: (message: string) => void;
}

type CachedManifest = Pick<ReleaseManifest, 'source' | 'origin' | 'notes'> & {
  verification: Extract<Verification, { verified: true }>;
};

/**
 * `<cache>/releases/<version>/`: verified releases kept for every data directory of this
 * machine's user, laid out as a data directory's releases are. A data directory takes a copy
 * (never a link: a later change to the cache must not change its release) and checks every file
 * of the copy against the checksums kept with the entry: the cache is outside the data
 * directory, so it is not trusted. An entry that fails is removed, and the release fetched again.
 */
export class MachineCache {
  readonly dir: string;
  /** Why entries were refused during this add, for the error when no source can help either. */
  readonly refused: string[] = [];
  private readonly entries: ReleaseStore;

  constructor(
    private readonly cacheDir: string,
    private readonly reports: CacheReports = {},
  ) {
    this.dir = path.join(cacheDir, 'releases');
    this.entries = new ReleaseStore(this.dir);
  }

  /** The versions the cache holds, newest first (each is checked only when taken). */
  async versions(): Promise<string[]> {
    const names = await fs.readdir(this.dir).catch(() => []);
    return names.filter(isVersion).sort((a, b) => compareVersions(b, a));
  }

  /**
   * Adds the cached `version` to `store` as a release of its own: copied into the store's
   * staging folder, checked there (after the copy, so what is checked is what is kept), renamed
   * into place. Null when the cache has no usable copy.
   */
  async take(version: string, store: ReleaseStore): Promise<Release | null> {
    const entry = path.join(this.dir, version);
    if (!isVersion(version) || !(await exists(entry))) return null;
    this.reports.progress?.(`machine cache: taking WordPress ${version} from ${entry}`);
    const staged = await store.stage();
    try {
      for (const dir of [entry, path.join(entry, 'wordpress')]) {
        if (!(await fs.lstat(dir)).isDirectory()) {
          throw new ReleaseError('invalid', `${dir} is not a folder`);
        }
      }
      const cached = await readManifest(entry, version);
      const checksums = parseChecksums(
        await fs.readFile(path.join(entry, 'checksums.json'), 'utf8'),
        version,
        path.join(entry, 'checksums.json'),
      );
      await copyTree(path.join(entry, 'wordpress'), staged.tree);
      const verified = await verifyRelease(
        staged.tree,
        cached.source,
        {
          version,
          origin: cached.origin,
          checksums,
          against: `the checksums kept with it in ${entry}`,
          notes: cached.notes,
        },
        false,
        { strict: true },
      );
      const found = await readWordPressVersion(staged.tree);
      if (found !== version) {
        throw new ReleaseError('invalid', `${entry} holds WordPress ${found}, not ${version}`);
      }
      const manifest: ReleaseManifest = {
        ...verified.manifest,
        // As first verified (against the source's checksums), then kept and checked since.
        verification: cached.verification,
        notes: [
          ...cached.notes,
          `taken from this machine's release cache (${entry}); every file matched the checksums kept there`,
        ],
      };
      return (await store.commit(staged, manifest, verified.checksums)).release;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== undefined && OUR_DISK.has(code)) throw err;
      const why = err instanceof Error ? err.message : String(err);
      this.refused.push(`machine cache: ${why}`);
      this.reports.warn?.(
        `machine cache: WordPress ${version} in ${entry} refused and removed (${why})`,
      );
      await this.drop(version);
      return null;
    } finally {
      await store.discard(staged);
    }
  }

  /**
   * Keeps a copy of a release just fetched and verified, for the other data directories. Best
   * effort: a cache that cannot be written costs them a download, not this add.
   */
  async keep(release: Release, checksums: Checksums): Promise<void> {
    const { manifest } = release;
    if (!KEPT_SOURCES.has(manifest.source) || !manifest.verification.verified) return;
    try {
      if (await exists(path.join(this.dir, release.version))) return;
      // Only this user reads and writes it: it feeds every data directory's releases.
      await fs.mkdir(this.cacheDir, { recursive: true, mode: 0o700 });
      const staged = await this.entries.stage();
      try {
        await copyTree(release.root, staged.tree);
        const { added } = await this.entries.commit(staged, manifest, checksums);
        if (added) {
          this.reports.progress?.(
            `machine cache: kept WordPress ${release.version} in ${this.dir} for other data directories`,
          );
        }
      } finally {
        await this.entries.discard(staged);
      }
    } catch (err) {
      this.reports.warn?.(
        `machine cache: could not keep WordPress ${release.version} in ${this.dir} (${err instanceof Error ? err.message : String(err)})`,
      );
    }
  }

  /** Renamed away first, so a process reading it never sees half an entry under its name. */
  private async drop(version: string): Promise<void> {
    const doomed = path.join(this.dir, `.removing-${version}-${randomBytes(4).toString('hex')}`);
    try {
      await fs.rename(path.join(this.dir, version), doomed);
    } catch {
      return; // already removed by another process, or not ours to remove
    }
    await fs.rm(doomed, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** The entry's manifest, read as untrusted input: only a verified release is ever kept. */
async function readManifest(entry: string, version: string): Promise<CachedManifest> {
  const file = path.join(entry, 'manifest.json');
  let body: unknown;
  try {
    body = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch {
    throw new ReleaseError('invalid', `${file} is not readable JSON`);
  }
  const m = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const v = (
    typeof m.verification === 'object' && m.verification !== null ? m.verification : {}
  ) as Record<string, unknown>;
  const notes = Array.isArray(m.notes) ? (m.notes as unknown[]) : null;
  if (
    m.version !== version ||
    typeof m.source !== 'string' ||
    !KEPT_SOURCES.has(m.source) ||
    typeof m.origin !== 'string' ||
    notes === null ||
    !notes.every((n) => typeof n === 'string') ||
    v.verified !== true ||
    typeof v.against !== 'string' ||
    typeof v.unlisted !== 'number'
  ) {
    throw new ReleaseError('invalid', `${file} is not the manifest of a verified ${version}`);
  }
  return {
    source: m.source,
    origin: m.origin,
    notes,
    verification: { verified: true, against: v.against, unlisted: v.unlisted },
  };
}
