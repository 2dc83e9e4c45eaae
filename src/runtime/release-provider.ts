import path from 'node:path';
import type { Config } from '../config.js';
import { ensureRelease, releaseStore } from './releases/add.js';
import { ensureSqlitePlugin } from './releases/sqlite-plugin.js';
import type { ReleaseProvider } from './provision/provisioner.js';

/** Where a server says what adding a release did (a pino logger will do). */
export interface ReleaseLog {
  info(message: string): void;
  warn(message: string): void;
}

/** Where adding a release reports its progress and warnings: the server's log. */
export function releaseReports(log: ReleaseLog): {
  progress(message: string): void;
  warn(message: string): void;
} {
  return {
    progress: (m) => {
      log.info(m);
    },
    warn: (m) => {
      log.warn(m);
    },
  };
}

/** Provisioning's view of the release store: what it needs, nothing of how releases are made. */
export function releaseProvider(
  config: Pick<Config, 'dataDir' | 'cacheDir' | 'releaseSources' | 'wordpressOrg'>,
  log?: ReleaseLog,
): ReleaseProvider {
  const store = releaseStore(config);
  const reports = log === undefined ? {} : releaseReports(log);
  return {
    async ensure() {
      const release = await ensureRelease(config, reports);
      return { version: release.version, dir: release.root };
    },
    dir: (version) => path.join(store.dir, version, 'wordpress'),
    async sqlitePlugin() {
      return (await ensureSqlitePlugin(config.dataDir)).dir;
    },
  };
}
