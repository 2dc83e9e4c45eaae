import path from 'node:path';
import type { Config, ReleaseSourceName } from '../../config.js';
import type { Checksums } from './checksums.js';
import { ReleaseError } from './errors.js';
import { MachineCache } from './machine-cache.js';
import type { ReleaseSource } from './source.js';
import { DebianSource } from './sources/debian.js';
import { LocalSource } from './sources/local.js';
import {
  WORDPRESS_ORG,
  WordPressOrgClient,
  WordPressOrgSource,
  type WordPressOrgEndpoints,
} from './sources/wordpress-org.js';
import { ReleaseStore, type Release } from './store.js';
import { verifyRelease } from './verify.js';
import { checkVersion, isVersion } from './version.js';

/** The settings releases use; a whole Config will do. */
export type ReleaseSettings = Pick<Config, 'dataDir' | 'cacheDir' | 'releaseSources'> &
  Partial<Pick<Config, 'wordpressOrg'>>;

/** What the settings do not say: apt options and timeouts (tests change them), progress. */
export interface ReleaseOptions {
  /** Overrides the settings' wordpress.org URLs and sets the timeout. */
  wordpressOrg?: WordPressOrgEndpoints;
  aptOptions?: string[];
  /** The system CA bundle Debian's WordPress links to. */
  caBundle?: string;
  progress?: (message: string) => void;
  /** Something the operator should know though the add goes on (a cache entry refused). */
  warn?: (message: string) => void;
}

export interface AddRequest {
  /** Default: the newest the source offers. */
  version?: string | undefined;
  /** Use only this source, whether or not the settings list it. */
  source?: ReleaseSourceName | undefined;
  /** A WordPress zip or folder the operator has. */
  from?: string | undefined;
  /** wordpress.org-format checksums for `from`. */
  checksumsFile?: string | undefined;
  /** Add `from` without any checksums; the manifest says it is unverified. */
  noVerify?: boolean | undefined;
}

export function releaseStore(settings: ReleaseSettings): ReleaseStore {
  return new ReleaseStore(path.join(settings.dataDir, 'releases'));
}

function howToAdd(settings: ReleaseSettings): string {
  const order = settings.releaseSources.length > 0 ? settings.releaseSources.join(', ') : 'none';
  return (
    `Add one with \`wpfleet releases add [--source wordpress.org|debian]\` (without --source it ` +
    `tries WPFLEET_RELEASE_SOURCES: ${order}), or from a zip you have: ` +
    `\`wpfleet releases add --from wordpress-X.Y.Z.zip --checksums checksums.json\``
  );
}

export function sourcesFor(
  settings: ReleaseSettings,
  request: AddRequest,
  options: ReleaseOptions,
): ReleaseSource[] {
  const client = new WordPressOrgClient(
    options.wordpressOrg ?? { ...WORDPRESS_ORG, ...settings.wordpressOrg },
  );
  if (request.from !== undefined) {
    return [
      new LocalSource({
        from: request.from,
        checksumsFile: request.checksumsFile,
        wordpressOrg: request.noVerify === true ? null : client,
      }),
    ];
  }
  const make = (name: ReleaseSourceName): ReleaseSource =>
    name === 'wordpress.org'
      ? new WordPressOrgSource(client)
      : new DebianSource({
          cacheDir: path.join(settings.cacheDir, 'debian'),
          ...(options.aptOptions === undefined ? {} : { aptOptions: options.aptOptions }),
          ...(options.caBundle === undefined ? {} : { caBundle: options.caBundle }),
          ...(options.progress === undefined ? {} : { progress: options.progress }),
        });
  return (request.source === undefined ? settings.releaseSources : [request.source]).map(make);
}

/**
 * Adds a release from the request's source, or from the configured sources in order: a source
 * that is unreachable here or lacks the version is passed over, but a release that fails
 * verification stops everything (a tampered download is no reason to try elsewhere quietly).
 * The machine's release cache stands in for a download: a version it holds is copied from it
 * and checked instead of fetched, a release fetched is kept in it, and when no source can be
 * reached the newest release it holds is taken (unless the request names a source).
 */
export async function addRelease(
  settings: ReleaseSettings,
  request: AddRequest = {},
  options: ReleaseOptions = {},
): Promise<{ release: Release; added: boolean }> {
  const store = releaseStore(settings);
  const version = request.version === undefined ? undefined : checkVersion(request.version);
  // What the operator hands in (--from) is added as given, never swapped for a cached copy.
  const cache = request.from === undefined ? new MachineCache(settings.cacheDir, options) : null;
  if (version !== undefined && cache !== null) {
    const present = await store.get(version);
    if (present !== null) return { release: present, added: false };
    const cached = await cache.take(version, store);
    if (cached !== null) return { release: cached, added: true };
  }
  const sources = sourcesFor(settings, request, options);
  const tried: string[] = [];
  for (const source of sources) {
    if (!(await source.available())) {
      tried.push(`${source.name}: ${source.unavailableReason()}`);
      continue;
    }
    try {
      return await addFrom(source, { store, cache, version, request, options });
    } catch (err) {
      const passOver =
        err instanceof ReleaseError && (err.code === 'unreachable' || err.code === 'not_offered');
      if (!passOver) throw err;
      tried.push(`${source.name}: ${err.message}`);
    }
  }
  if (cache !== null && version === undefined && request.source === undefined) {
    for (const cachedVersion of await cache.versions()) {
      const present = await store.get(cachedVersion);
      if (present !== null) return { release: present, added: false };
      const cached = await cache.take(cachedVersion, store);
      if (cached !== null) return { release: cached, added: true };
    }
  }
  const what = version === undefined ? 'WordPress' : `WordPress ${version}`;
  const refused = cache?.refused ?? [];
  const why = refused.length > 0 ? ` (${refused.join('; ')})` : '';
  throw new ReleaseError(
    'no_release',
    sources.length === 0
      ? `No WordPress release is available and every release source is turned off (WPFLEET_RELEASE_SOURCES)${why}. ${howToAdd(settings)}`
      : `No source could provide ${what} (${[...tried, ...refused].join('; ')}). ${howToAdd(settings)}`,
  );
}

interface AddContext {
  store: ReleaseStore;
  cache: MachineCache | null;
  version: string | undefined;
  request: AddRequest;
  options: ReleaseOptions;
}

/** One source's release: already stored, taken from the cache, or fetched and verified. */
async function addFrom(
  source: ReleaseSource,
  { store, cache, version, request, options }: AddContext,
): Promise<{ release: Release; added: boolean }> {
  if (version === undefined && cache !== null && source.newestVersion !== undefined) {
    const newest = await source.newestVersion();
    if (isVersion(newest)) {
      const present = await store.get(newest);
      if (present !== null) return { release: present, added: false };
      const cached = await cache.take(newest, store);
      if (cached !== null) return { release: cached, added: true };
    }
  }
  options.progress?.(`${source.name}: fetching WordPress ${version ?? '(newest)'}`);
  const staged = await store.stage();
  let added: { release: Release; added: boolean };
  let checksums: Checksums;
  try {
    const fetched = await source.fetch(version, staged.tree);
    const verified = await verifyRelease(
      staged.tree,
      source.name,
      fetched,
      request.noVerify === true,
    );
    const present = await store.get(fetched.version);
    if (present !== null) return { release: present, added: false };
    added = await store.commit(staged, verified.manifest, verified.checksums);
    checksums = verified.checksums;
  } finally {
    await store.discard(staged);
  }
  if (cache !== null && added.added) await cache.keep(added.release, checksums);
  return added;
}

const ensuring = new Map<string, Promise<Release>>();

/**
 * The release provisioning uses: the given version, or the newest stored one; when there is
 * none, one is added from the configured sources. Concurrent callers share one add.
 */
export function ensureRelease(
  settings: ReleaseSettings,
  options: ReleaseOptions & { version?: string } = {},
): Promise<Release> {
  const key = `${settings.dataDir}\0${options.version ?? ''}`;
  let pending = ensuring.get(key);
  if (pending === undefined) {
    pending = (async () => {
      const store = releaseStore(settings);
      const present =
        options.version === undefined ? await store.newest() : await store.get(options.version);
      if (present !== null) return present;
      options.progress?.('no WordPress release stored; adding one');
      return (await addRelease(settings, { version: options.version }, options)).release;
    })().finally(() => ensuring.delete(key));
    ensuring.set(key, pending);
  }
  return pending;
}
