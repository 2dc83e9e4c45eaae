/** WordPress releases: complete, verified WordPress versions stored once and shared by installs. */
export {
  addRelease,
  ensureRelease,
  releaseStore,
  type AddRequest,
  type ReleaseOptions,
  type ReleaseSettings,
} from './add.js';
export { ReleaseError, type ReleaseErrorCode } from './errors.js';
export { MachineCache } from './machine-cache.js';
export type { FetchedRelease, ReleaseSource } from './source.js';
export { ReleaseStore, type Release, type ReleaseManifest, type Verification } from './store.js';
export { ensureSqlitePlugin, renderDbDropIn, type SqlitePlugin } from './sqlite-plugin.js';
export { WORDPRESS_ORG, type WordPressOrgEndpoints } from './sources/wordpress-org.js';
export { compareVersions } from './version.js';
