import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import {
  BrokenPackageError,
  PackageSourceUnavailableError,
  UnknownPackageError,
  UnknownPackageVersionError,
} from '../../core/packages/package-errors.js';
import type {
  CoreVersions,
  LocalPackage,
  PackageInfo,
  PackageKind,
  PackageSources,
} from '../../core/packages/package-source.js';
import { newestFirst } from '../../core/packages/version-compare.js';
import { inspectPackage, SLUG } from './inspect.js';
import { sha256File, type PackageMirror } from './mirror.js';
import type { UrlFetcher } from './url-fetch.js';
import type { WordPressOrgPackages } from './wordpress-org.js';

export interface PackageSourcesParts {
  mirror: PackageMirror;
  /** Null when WPFLEET_WPORG is off. */
  wordpressOrg: WordPressOrgPackages | null;
  urls: UrlFetcher;
  /** Where downloaded zips are kept for a day (`<data>/packages/downloads`). */
  downloadsDir: string;
  /** Core versions this server has without the network (stored and cached releases). */
  knownReleases: () => Promise<string[]>;
  log: Pick<Logger, 'warn' | 'info'>;
  /** After a failure, wordpress.org is not asked again for this long (default 60 s). */
  retryAfterMs?: number;
}

/** A downloaded zip stays at least this long, so a caller can use it (docs). */
const DOWNLOAD_KEEP_MS = 24 * 3600_000;
/** Versions an error lists at most; a popular plugin has hundreds. */
const LISTED = 10;

/**
 * The sources in order: the offline mirror, then wordpress.org when it is on and reachable.
 * The first source that knows a slug answers for it alone: a slug in the mirror is the
 * mirror's package (a private plugin that shares a wordpress.org slug never "updates" to the
 * wordpress.org one). An unreachable wordpress.org is remembered for a minute, so a run over many
 * installs waits for its timeout once, not once per install.
 */
export class LayeredPackageSources implements PackageSources {
  private downUntil = 0;
  private downReason = '';

  constructor(private readonly parts: PackageSourcesParts) {}

  async latest(kind: PackageKind, slug: string): Promise<PackageInfo | null> {
    if (!SLUG.test(slug)) return null;
    const mirrored = await this.parts.mirror.find(kind, slug);
    if (mirrored !== null) {
      return {
        kind,
        slug,
        name: mirrored.name,
        version: mirrored.versions[0]?.version ?? '',
        versions: mirrored.versions.map((v) => v.version),
      };
    }
    const wporg = this.parts.wordpressOrg;
    if (wporg === null) return null;
    const found = await this.ask(kind, slug, () => wporg.lookup(kind, slug));
    return found.found ? found.info : null;
  }

  async fetch(kind: PackageKind, slug: string, version?: string): Promise<LocalPackage> {
    const mirror = this.parts.mirror;
    if (!SLUG.test(slug)) {
      throw new UnknownPackageError(kind, slug, `"${slug}" is not a ${kind} slug.`);
    }
    const mirrored = await mirror.find(kind, slug);
    if (mirrored !== null) {
      const wanted = version ?? mirrored.versions[0]?.version ?? '';
      const local = await mirror.file(kind, slug, wanted);
      if (local !== null) return local;
      const available = mirrored.versions.map((v) => v.version);
      throw new UnknownPackageVersionError(
        kind,
        slug,
        wanted,
        available,
        `Can't find the requested ${kind}'s version ${wanted} in the ${kind} mirror. ${availableText(available)}`,
      );
    }
    const wporg = this.parts.wordpressOrg;
    if (wporg === null) {
      throw new UnknownPackageError(
        kind,
        slug,
        `Couldn't find '${slug}' in the ${kind} mirror; wordpress.org is off (WPFLEET_WPORG=off).`,
      );
    }
    const found = await this.ask(kind, slug, () => wporg.lookup(kind, slug));
    if (!found.found) {
      throw new UnknownPackageError(
        kind,
        slug,
        `Couldn't find '${slug}' in the WordPress.org ${kind} directory (${found.message}), nor in the mirror.`,
      );
    }
    const wanted = version ?? found.info.version;
    const url = found.downloads.get(wanted);
    if (url === undefined) {
      throw new UnknownPackageVersionError(
        kind,
        slug,
        wanted,
        found.info.versions,
        `Can't find the requested ${kind}'s version ${wanted} in the WordPress.org ${kind} repository. ${availableText(found.info.versions)}`,
      );
    }
    const incoming = await this.incoming();
    try {
      await this.ask(kind, slug, () => wporg.download(kind, slug, wanted, url, incoming));
      const manifest = await inspectPackage(incoming, url, kind);
      if (manifest.slug !== slug) {
        throw new BrokenPackageError(
          `${url}: The package could not be installed. It holds the folder "${manifest.slug}", not "${slug}".`,
        );
      }
      return await this.keep(incoming, kind, slug, wanted);
    } finally {
      await fs.rm(incoming, { force: true });
    }
  }

  async fromUrl(kind: PackageKind, url: string): Promise<LocalPackage> {
    const incoming = await this.incoming();
    try {
      const downloaded = await this.parts.urls.download(url, incoming);
      // Named without its query, which may carry a token (a signed download link).
      const final = new URL(downloaded.url);
      const manifest = await inspectPackage(incoming, `${final.origin}${final.pathname}`, kind);
      return await this.keep(incoming, kind, manifest.slug, manifest.version);
    } finally {
      await fs.rm(incoming, { force: true });
    }
  }

  async coreVersions(): Promise<CoreVersions> {
    const wporg = this.parts.wordpressOrg;
    let why = 'wordpress.org is off (WPFLEET_WPORG=off)';
    if (wporg !== null) {
      try {
        return await this.ask('core', 'wordpress', () => wporg.coreVersions());
      } catch (err) {
        if (!(err instanceof PackageSourceUnavailableError)) throw err;
        why = err.message;
      }
    }
    const versions = newestFirst(await this.parts.knownReleases());
    const latest = versions[0];
    if (latest === undefined) {
      throw new PackageSourceUnavailableError(
        `No WordPress versions are known: ${why}, and this server has no release; add one with \`wpfleet releases add\``,
      );
    }
    this.parts.log.info(`WordPress versions from this server's releases: ${why}`);
    return { latest, versions };
  }

  /**
   * Runs a wordpress.org call unless it failed within the last minute; a failure is logged
   * once and remembered.
   */
  private async ask<T>(kind: string, slug: string, call: () => Promise<T>): Promise<T> {
    const mirrorNote = kind === 'core' ? '' : `; the mirror has no ${kind} '${slug}'`;
    if (Date.now() < this.downUntil) {
      throw new PackageSourceUnavailableError(`${this.downReason}${mirrorNote}`);
    }
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof PackageSourceUnavailableError)) throw err;
      this.downUntil = Date.now() + (this.parts.retryAfterMs ?? 60_000);
      this.downReason = err.message;
      this.parts.log.warn(`${err.message}; using the mirror alone for a minute`);
      throw new PackageSourceUnavailableError(`${err.message}${mirrorNote}`);
    }
  }

  private async incoming(): Promise<string> {
    const dir = this.parts.downloadsDir;
    await fs.mkdir(dir, { recursive: true });
    await sweep(dir);
    return path.join(dir, `.incoming-${randomBytes(8).toString('hex')}.zip`);
  }

  /** Renames a checked download to a name of its own (content-addressed) and describes it. */
  private async keep(
    incoming: string,
    kind: PackageKind,
    slug: string,
    version: string,
  ): Promise<LocalPackage> {
    const sha256 = await sha256File(incoming);
    const name = `${kind}-${slug}-${version === '' ? 'unversioned' : version.replace(/[^0-9A-Za-z.+_~-]/g, '_')}-${sha256.slice(0, 16)}.zip`;
    const file = path.join(this.parts.downloadsDir, name);
    await fs.rename(incoming, file);
    // A rename over an existing copy keeps its old time; the day is counted from now.
    const now = new Date();
    await fs.utimes(file, now, now);
    return { kind, slug, version, file, sha256 };
  }
}

function availableText(versions: string[]): string {
  if (versions.length === 0) return 'It has no versions.';
  const shown = versions.slice(0, LISTED).join(', ');
  const more = versions.length > LISTED ? `, … (${versions.length} in all)` : '';
  return `Available versions: ${shown}${more}.`;
}

async function sweep(dir: string): Promise<void> {
  const names = await fs.readdir(dir).catch(() => []);
  for (const name of names) {
    const file = path.join(dir, name);
    const stat = await fs.stat(file).catch(() => undefined);
    if (stat !== undefined && Date.now() - stat.mtimeMs > DOWNLOAD_KEEP_MS) {
      await fs.rm(file, { force: true });
    }
  }
}
