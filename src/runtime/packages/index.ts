import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import type { PackageSources } from '../../core/packages/package-source.js';
import { MachineCache } from '../releases/machine-cache.js';
import { ReleaseStore } from '../releases/store.js';
import { PackageMirror } from './mirror.js';
import { LayeredPackageSources } from './sources.js';
import { UrlFetcher, type UrlFetchOptions } from './url-fetch.js';
import { WordPressOrgPackages, type WordPressOrgPackageEndpoints } from './wordpress-org.js';

export { inspectPackage, type PackageManifest } from './inspect.js';
export {
  PackageMirror,
  MirrorConflictError,
  type MirrorPackage,
  type MirrorAddResult,
} from './mirror.js';
export { LayeredPackageSources } from './sources.js';
export { UrlFetcher, DEFAULT_MAX_BYTES } from './url-fetch.js';
export { WordPressOrgPackages } from './wordpress-org.js';

/** What the settings do not say; tests shorten timeouts and point wordpress.org elsewhere. */
export interface PackageSourcesOptions {
  wordpressOrg?: Partial<WordPressOrgPackageEndpoints>;
  urls?: Omit<UrlFetchOptions, 'allow'>;
  retryAfterMs?: number;
}

export type PackageSettings = Pick<Config, 'dataDir' | 'cacheDir' | 'packages' | 'wordpressOrg'>;

export function packageMirror(settings: Pick<Config, 'packages'>): PackageMirror {
  return new PackageMirror(settings.packages.mirrorDir);
}

/** The package sources of a server or command: mirror, then wordpress.org, and URLs. */
export function packageSourcesFor(
  config: PackageSettings,
  log: Pick<Logger, 'warn' | 'info'>,
  options: PackageSourcesOptions = {},
): PackageSources {
  const releases = new ReleaseStore(path.join(config.dataDir, 'releases'));
  const cache = new MachineCache(config.cacheDir);
  return new LayeredPackageSources({
    mirror: packageMirror(config),
    wordpressOrg: config.packages.wordpressOrg
      ? new WordPressOrgPackages({
          api: config.wordpressOrg.api,
          timeoutMs: 5_000,
          ...options.wordpressOrg,
        })
      : null,
    urls: new UrlFetcher({ allow: config.packages.fetchAllow, ...options.urls }),
    downloadsDir: path.join(config.dataDir, 'packages', 'downloads'),
    knownReleases: async () => [
      ...(await releases.list()).map((r) => r.version),
      ...(await cache.versions()),
    ],
    log,
    ...(options.retryAfterMs === undefined ? {} : { retryAfterMs: options.retryAfterMs }),
  });
}
