import { requireAccountManager, type Actor } from '../actor.js';
import { NotFoundError } from '../errors.js';
import type { InstallRow } from '../installs/installs.repository.js';
import { isUuid, newId, nowIso } from '../shared/ids.js';
import type { Page, PageRequest } from '../shared/page.js';
import { requiredName, requireOwnAccount } from '../shared/text.js';
import type { Repositories, Store } from '../store.js';
import { insertSiteWithinLimit } from './site-limit.js';
import type { SiteFilter, SiteRow } from './sites.repository.js';
import type { InstallsService } from '../installs/installs.service.js';

export interface SiteView {
  site: SiteRow;
  installs: InstallRow[];
}

const NAME_MAX = 40;

export class SitesService {
  constructor(
    private readonly store: Store,
    private readonly installs: InstallsService,
  ) {}

  async list(
    actor: Actor,
    accountId: string | undefined,
    page: PageRequest,
  ): Promise<Page<SiteView>> {
    // Filtering by another (or no) account finds nothing, exactly as an unknown account would.
    if (accountId !== undefined && accountId !== actor.accountId) return { items: [], total: 0 };
    const sites = await this.store.read.sites.list(this.filter(actor), page);
    return { items: await this.withInstalls(actor, sites.items), total: sites.total };
  }

  async get(actor: Actor, id: string): Promise<SiteView> {
    const site = await this.find(this.store.read, actor, id);
    const [view] = await this.withInstalls(actor, [site]);
    if (view === undefined) throw new NotFoundError('Site');
    return view;
  }

  async create(actor: Actor, input: { name: string; account_id: string }): Promise<SiteView> {
    requireAccountManager(actor);
    requireOwnAccount('Site', actor.accountId, input.account_id);
    const name = requiredName('Site', 'name', input.name, NAME_MAX);
    const site: SiteRow = { id: newId(), account_id: actor.accountId, name, created_at: nowIso() };
    await this.store.transaction((r) => insertSiteWithinLimit(r, actor, site));
    return { site, installs: [] };
  }

  async update(actor: Actor, id: string, input: { name?: string | undefined }): Promise<SiteView> {
    requireAccountManager(actor);
    await this.store.transaction(async (r) => {
      const site = await this.find(r, actor, id);
      if (input.name === undefined) return;
      const name = requiredName('Site', 'name', input.name, NAME_MAX);
      await r.sites.rename(site.id, name);
      await r.activity.record(actor, {
        action: 'site.update',
        targetType: 'site',
        targetId: site.id,
        details: { name },
      });
    });
    return this.get(actor, id);
  }

  /** Deleting a site deletes its installs too, as WP Engine does. */
  async delete(actor: Actor, id: string): Promise<void> {
    requireAccountManager(actor);
    await this.store.transaction(async (r) => {
      const site = await this.find(r, actor, id);
      for (const install of await r.installs.listForSites(actor.accountId, [site.id])) {
        await this.installs.deleteWithin(r, actor, install);
      }
      await r.sites.delete(site.id);
      await r.activity.record(actor, {
        action: 'site.delete',
        targetType: 'site',
        targetId: site.id,
      });
    });
  }

  /** Partial users see only the sites that hold one of their installs. */
  private filter(actor: Actor): SiteFilter {
    return {
      accountId: actor.accountId,
      installIds: actor.installIds === null ? null : [...actor.installIds],
    };
  }

  private async find(r: Repositories, actor: Actor, id: string): Promise<SiteRow> {
    const site = isUuid(id) ? await r.sites.findById(this.filter(actor), id) : undefined;
    if (site === undefined) throw new NotFoundError('Site');
    return site;
  }

  private async withInstalls(actor: Actor, sites: SiteRow[]): Promise<SiteView[]> {
    const installs = await this.store.read.installs.listForSites(
      actor.accountId,
      sites.map((s) => s.id),
    );
    const visible = installs.filter((i) => actor.installIds === null || actor.installIds.has(i.id));
    return sites.map((site) => ({ site, installs: visible.filter((i) => i.site_id === site.id) }));
  }
}
