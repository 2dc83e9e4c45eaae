import type { Actor } from '../actor.js';
import type { InstallsService } from '../installs/installs.service.js';
import { throttleJob } from '../jobs/throttle.js';
import type { Store } from '../store.js';

export const PURGE_TYPES = ['object', 'page', 'cdn'] as const;
export type PurgeType = (typeof PURGE_TYPES)[number];

const PURGE_INTERVAL_MS = 60_000;

const LABEL: Record<PurgeType, string> = {
  object: 'Object cache',
  page: 'Page cache',
  cdn: 'CDN cache',
};

/**
 * Told once a page purge is committed, with the install's new purge count: an edge in this
 * process empties its page cache.
 */
export type PagePurgeListener = (installId: string, generation: number) => void;

export class CacheService {
  private readonly listeners = new Set<PagePurgeListener>();

  constructor(
    private readonly store: Store,
    private readonly installs: InstallsService,
  ) {}

  /**
   * Registers an in-process page cache to empty at each purge, before the purge is answered.
   * Caches in other processes see the purge through the install's row (`pages_generation`).
   */
  whenPagesPurged(listener: PagePurgeListener): void {
    this.listeners.add(listener);
  }

  /**
   * Queues a purge, at most one per 60 s per install; returns the job id. A page (or cdn) purge
   * is in effect when this returns: no cached page rendered before it is served again. The job
   * does the rest (WordPress's object cache, for `object` and `cdn`).
   */
  async purge(actor: Actor, installId: string, type: PurgeType): Promise<string> {
    const queued = await this.store.transaction(async (r) => {
      const install = await this.installs.find(r, actor, installId);
      await throttleJob(
        r,
        install.id,
        'cache.purge',
        PURGE_INTERVAL_MS,
        `${LABEL[type]} purges are rate-limited to one request every 60 seconds for each install`,
      );
      const job = await r.jobs.enqueue({
        accountId: actor.accountId,
        installId: install.id,
        type: 'cache.purge',
        targetId: install.id,
        payload: { type },
      });
      await r.activity.record(actor, {
        action: 'cache.purge',
        targetType: 'install',
        targetId: install.id,
        details: { type, job_id: job.id },
      });
      const generation =
        type === 'object' ? null : await r.installs.bumpPagesGeneration(install.id);
      return { id: job.id, installId: install.id, generation };
    });
    if (queued.generation !== null) this.notify(queued.installId, queued.generation);
    return queued.id;
  }

  /**
   * The install's pages changed outside WordPress's own requests (a restore, new URLs): no page
   * rendered before may be served from any server's cache.
   */
  async pagesChanged(installId: string): Promise<void> {
    const generation = await this.store.transaction((r) =>
      r.installs.bumpPagesGeneration(installId),
    );
    this.notify(installId, generation);
  }

  private notify(installId: string, generation: number): void {
    for (const listener of this.listeners) listener(installId, generation);
  }
}
