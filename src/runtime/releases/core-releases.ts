import type {
  CoreReleases,
  CoreVerification,
  VersionAvailability,
} from '../../core/site-agent/core-updates.service.js';
import { releaseStore, sourcesFor, type ReleaseOptions, type ReleaseSettings } from './add.js';
import { ReleaseError } from './errors.js';
import { verifyInstallCore } from './install-core.js';
import { MachineCache } from './machine-cache.js';
import { isVersion } from './version.js';

/**
 * Core's view of this server's releases: which versions it has or can get (the release store,
 * the machine's release cache, then each configured source asked without downloading), and the
 * check of an install's core files against its release.
 */
export function coreReleases(
  settings: ReleaseSettings,
  options: ReleaseOptions = {},
): CoreReleases {
  const store = releaseStore(settings);
  return {
    async stored() {
      return (await store.list()).map((r) => r.version);
    },

    async availability(version): Promise<VersionAvailability> {
      if (!isVersion(version)) return 'not_offered';
      if ((await store.get(version)) !== null) return 'stored';
      if ((await new MachineCache(settings.cacheDir).versions()).includes(version)) {
        return 'obtainable';
      }
      let unknown = false;
      for (const source of sourcesFor(settings, {}, options)) {
        if (source.offers === undefined) {
          unknown = true;
          continue;
        }
        try {
          if (!(await source.available())) {
            unknown = true;
            continue;
          }
          if (await source.offers(version)) return 'obtainable';
        } catch (err) {
          if (!(err instanceof ReleaseError)) throw err;
          unknown = true;
        }
      }
      return unknown ? 'unknown' : 'not_offered';
    },

    async verifyInstallCore(releaseVersion): Promise<CoreVerification> {
      const release = await store.get(releaseVersion);
      if (release === null) {
        throw new ReleaseError(
          'no_release',
          `WordPress ${releaseVersion}, the install's release, is not stored on this server`,
        );
      }
      return verifyInstallCore({ releaseDir: release.root });
    },
  };
}
