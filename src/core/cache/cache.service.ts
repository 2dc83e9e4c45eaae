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

export class CacheService {
  constructor(
    private readonly store: Store,
    private readonly installs: InstallsService,
  ) {}

  /** Queues a purge, at most one per 60 s per install; returns the job id. */
  async purge(actor: Actor, installId: string, type: PurgeType): Promise<string> {
    return this.store.transaction(async (r) => {
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
      return job.id;
    });
  }
}
