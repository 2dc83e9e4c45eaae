import type { JobDefinitions } from '../core/jobs/job-contract.js';
import type { Store } from '../core/store.js';
import type { EdgeAddress, Provisioner } from './provision/provisioner.js';

export interface SiteJobDeps {
  store: Store;
  provisioner: Provisioner;
  address: EdgeAddress;
  /** Drops the install's cached pages on every server. */
  pagesChanged: (installId: string) => Promise<void>;
}

/** Jobs that act on a running install: its URLs after a primary domain change, cache purges. */
export function siteJobHandlers({
  store,
  provisioner,
  address,
  pagesChanged,
}: SiteJobDeps): Pick<JobDefinitions, 'install.urls' | 'cache.purge'> {
  return {
    // Points WordPress's home and siteurl at the install's primary domain (or its cname).
    'install.urls': {
      run: async (job) => {
        const install = await store.read.installs.findAny(job.target_id);
        if (install === undefined || install.deleted_at !== null || install.wp_version === null) {
          return { skipped: 'install not running' };
        }
        const primary = await provisioner.primaryHost(install);
        const url = address.origin(primary);
        const urls = await provisioner.agentFor(install).setUrls(url, url);
        await pagesChanged(install.id);
        return { ...urls };
      },
    },
    // No CDN yet: `cdn` purges what there is, the page cache and the object cache.
    // Pages were purged when the purge was requested (CacheService.purge), on every server;
    // what is left is WordPress's object cache.
    'cache.purge': {
      run: async (job, { type }) => {
        let objectCache = false;
        if (type !== 'page') {
          const install = await store.read.installs.findAny(job.target_id);
          if (install !== undefined && install.wp_version !== null) {
            objectCache = await provisioner.agentFor(install).flushObjectCache();
          }
        }
        return { type, pages_purged: type !== 'object', object_cache_flushed: objectCache };
      },
    },
  };
}
