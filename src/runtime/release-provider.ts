import path from 'node:path';
import type { Config } from '../config.js';
import { ensureRelease, releaseStore } from './releases/add.js';
import { ensureSqlitePlugin } from './releases/sqlite-plugin.js';
import type { ReleaseProvider } from './provision/provisioner.js';

/** Provisioning's view of the release store: what it needs, nothing of how releases are made. */
export function releaseProvider(
  config: Pick<Config, 'dataDir' | 'cacheDir' | 'releaseSources' | 'wordpressOrg'>,
): ReleaseProvider {
  const store = releaseStore(config);
  return {
    async ensure() {
      const release = await ensureRelease(config);
      return { version: release.version, dir: release.root };
    },
    dir: (version) => path.join(store.dir, version, 'wordpress'),
    async sqlitePlugin() {
      return (await ensureSqlitePlugin(config.dataDir)).dir;
    },
  };
}
