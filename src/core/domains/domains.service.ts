import type { Actor } from '../actor.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { InstallsService } from '../installs/installs.service.js';
import type { InstallRow } from '../installs/installs.repository.js';
import { throttleJob } from '../jobs/throttle.js';
import { isUuid, newId, nowIso } from '../shared/ids.js';
import type { Page, PageRequest } from '../shared/page.js';
import type { Repositories, Store } from '../store.js';
import { DOMAIN_CHECK_JOB, type DomainCheckReport } from './domain-check.js';
import { reportOfJob } from './domain-check-report.js';
import type { DomainRow } from './domains.repository.js';
import { isHostname, normalizeHostname } from './hostname.js';

export interface DomainView {
  domain: DomainRow;
  redirectTo: { id: string; name: string } | null;
}

export interface NewDomain {
  name: string;
  primary?: boolean | undefined;
  redirect_to?: string | undefined;
}

export interface DomainChanges {
  primary?: boolean | undefined;
  /** A domain id to redirect to, or null to stop redirecting. */
  redirect_to?: string | null | undefined;
}

export const BULK_MAX = 20;
const CHECK_INTERVAL_MS = 5_000;

function invalid(field: string, code: string, message: string): ValidationError {
  return ValidationError.field('Domain', field, code, message);
}

export class DomainsService {
  constructor(
    private readonly store: Store,
    private readonly installs: InstallsService,
    private readonly baseDomain: string,
  ) {}

  async list(actor: Actor, installId: string, page: PageRequest): Promise<Page<DomainView>> {
    const install = await this.installs.find(this.store.read, actor, installId);
    const rows = await this.store.read.domains.list(install.id, page);
    return { items: await this.views(this.store.read, rows.items), total: rows.total };
  }

  async get(actor: Actor, installId: string, id: string): Promise<DomainView> {
    const install = await this.installs.find(this.store.read, actor, installId);
    return this.view(this.store.read, await this.find(this.store.read, install, id));
  }

  async create(actor: Actor, installId: string, input: NewDomain): Promise<DomainView> {
    const id = await this.store.transaction(async (r) => {
      const install = await this.installs.find(r, actor, installId);
      const name = await this.availableName(r, 'name', input.name);
      let redirectId: string | null = null;
      if (input.redirect_to !== undefined) {
        if (input.primary === true)
          throw invalid('primary', 'invalid', 'A redirected domain cannot be primary');
        redirectId = (await this.redirectTarget(r, install, input.redirect_to, null)).id;
      }
      const row = this.row(install, name, redirectId);
      await r.domains.insert(row);
      if (input.primary === true) await this.makePrimary(r, install, row.id);
      await this.log(r, actor, 'domain.create', row, {
        primary: input.primary === true,
        redirect_to: redirectId,
      });
      return row.id;
    });
    return this.get(actor, installId, id);
  }

  /**
   * Adds up to 20 domains at once, all or none. `redirect_to` names a domain, which may be one
   * added in the same request (`www.example.com` → `example.com`).
   */
  async createBulk(
    actor: Actor,
    installId: string,
    items: { name: string; redirect_to?: string | undefined }[],
  ): Promise<DomainView[]> {
    if (items.length === 0 || items.length > BULK_MAX) {
      throw invalid('domains', 'invalid', `Domains must list 1 to ${BULK_MAX} domains`);
    }
    const ids = await this.store.transaction(async (r) => {
      const install = await this.installs.find(r, actor, installId);
      const rows: DomainRow[] = [];
      const byName = new Map<string, DomainRow>();
      for (const item of items) {
        const name = await this.availableName(r, 'domains.name', item.name);
        if (byName.has(name))
          throw invalid('domains.name', 'taken', `${name} is listed more than once`);
        const row = this.row(install, name, null);
        byName.set(name, row);
        rows.push(row);
      }
      for (const row of rows) await r.domains.insert(row);
      for (const [i, item] of items.entries()) {
        if (item.redirect_to === undefined) continue;
        const row = rows[i];
        if (row === undefined) continue;
        const targetName = normalizeHostname(item.redirect_to);
        // Only a host name can name a domain; anything else (a NUL byte, say) is not looked up.
        const target =
          byName.get(targetName) ??
          (isHostname(targetName) ? await r.domains.findByName(targetName) : undefined);
        if (target?.install_id !== install.id || target.id === row.id) {
          throw invalid(
            'domains.redirect_to',
            'invalid',
            `${item.redirect_to} is not a domain of this install`,
          );
        }
        // A target that redirects in turn could close a loop (a → b, b → a).
        if (target.redirect_to_id !== null) {
          throw invalid(
            'domains.redirect_to',
            'invalid',
            `${item.redirect_to} is itself a redirect; redirect to its destination instead`,
          );
        }
        row.redirect_to_id = target.id;
        await r.domains.setRedirect(row.id, target.id);
      }
      for (const row of rows) {
        await this.log(r, actor, 'domain.create', row, {
          redirect_to: row.redirect_to_id,
          bulk: true,
        });
      }
      return rows.map((row) => row.id);
    });
    const found = await this.store.read.domains.findByIds(ids);
    const views = await this.views(this.store.read, found);
    return ids.flatMap((id) => views.filter((v) => v.domain.id === id));
  }

  async update(
    actor: Actor,
    installId: string,
    id: string,
    changes: DomainChanges,
  ): Promise<DomainView> {
    await this.store.transaction(async (r) => {
      const install = await this.installs.find(r, actor, installId);
      const domain = await this.find(r, install, id);
      if (changes.redirect_to !== undefined) {
        const target =
          changes.redirect_to === null
            ? null
            : await this.redirectTarget(r, install, changes.redirect_to, domain);
        if (target !== null && (domain.is_primary === 1 || changes.primary === true)) {
          throw invalid('redirect_to', 'invalid', 'The primary domain cannot redirect');
        }
        domain.redirect_to_id = target?.id ?? null;
        await r.domains.setRedirect(domain.id, domain.redirect_to_id);
      }
      if (changes.primary === true && domain.is_primary !== 1) {
        if (domain.redirect_to_id !== null)
          throw invalid('primary', 'invalid', 'A redirected domain cannot be primary');
        await this.makePrimary(r, install, domain.id);
      } else if (changes.primary === false && domain.is_primary === 1) {
        await this.fallBackToCname(r, install, domain);
      }
      await this.log(r, actor, 'domain.update', domain, { ...changes });
    });
    return this.get(actor, installId, id);
  }

  async delete(actor: Actor, installId: string, id: string): Promise<void> {
    await this.store.transaction(async (r) => {
      const install = await this.installs.find(r, actor, installId);
      const domain = await this.find(r, install, id);
      if (domain.name === this.installs.cnameOf(install.name)) {
        throw invalid('id', 'invalid', "The install's own domain cannot be deleted");
      }
      if (domain.is_primary === 1) await this.fallBackToCname(r, install, domain);
      await r.domains.delete(domain.id);
      await this.log(r, actor, 'domain.delete', domain, { name: domain.name });
    });
  }

  /** Queues a DNS/HTTP check of the domain, at most once per 5 s per install; returns the job id. */
  async checkStatus(actor: Actor, installId: string, id: string): Promise<string> {
    return this.store.transaction(async (r) => {
      const install = await this.installs.find(r, actor, installId);
      const domain = await this.find(r, install, id);
      await throttleJob(
        r,
        install.id,
        'domain.check_status',
        CHECK_INTERVAL_MS,
        'Domain status checks are rate-limited to one request every 5 seconds for each install',
      );
      const job = await r.jobs.enqueue({
        accountId: actor.accountId,
        installId: install.id,
        type: 'domain.check_status',
        targetId: domain.id,
        payload: { name: domain.name },
      });
      await this.log(r, actor, 'domain.check_status', domain, { job_id: job.id });
      return job.id;
    });
  }

  /**
   * The report of a check_status job on this install: `complete: false` while the job waits or
   * runs. A report of another install, or of another account, is not found.
   */
  async getReport(actor: Actor, installId: string, reportId: string): Promise<DomainCheckReport> {
    const r = this.store.read;
    const install = await this.installs.find(r, actor, installId);
    const job = isUuid(reportId) ? await r.jobs.findById(actor.accountId, reportId) : undefined;
    if (job?.install_id !== install.id || job.type !== DOMAIN_CHECK_JOB) {
      throw new NotFoundError('Report');
    }
    return reportOfJob(job, install.name);
  }

  private row(install: InstallRow, name: string, redirectId: string | null): DomainRow {
    return {
      id: newId(),
      account_id: install.account_id,
      install_id: install.id,
      name,
      is_primary: 0,
      redirect_to_id: redirectId,
      created_at: nowIso(),
    };
  }

  private async availableName(r: Repositories, field: string, raw: string): Promise<string> {
    const name = normalizeHostname(raw);
    if (!isHostname(name))
      throw invalid(field, 'invalid', `${raw.slice(0, 300)} is not a valid domain name`);
    if (name === this.baseDomain || name.endsWith(`.${this.baseDomain}`)) {
      throw invalid(
        field,
        'invalid',
        `Names under ${this.baseDomain} are reserved for install addresses`,
      );
    }
    if ((await r.domains.findByName(name)) !== undefined) {
      throw ValidationError.field(
        'Domain',
        field,
        'taken',
        `${name} has already been taken`,
        'value_unavailable',
      );
    }
    return name;
  }

  private async redirectTarget(
    r: Repositories,
    install: InstallRow,
    targetId: string,
    self: DomainRow | null,
  ): Promise<DomainRow> {
    const target = isUuid(targetId) ? await r.domains.findById(install.id, targetId) : undefined;
    if (target === undefined || target.id === self?.id) {
      throw invalid(
        'redirect_to',
        'invalid',
        'Redirect target must be another domain of this install',
      );
    }
    // A target that redirects in turn could close a loop (a → b, b → a).
    if (target.redirect_to_id !== null) {
      throw invalid(
        'redirect_to',
        'invalid',
        'Redirect target is itself a redirect; redirect to its destination instead',
      );
    }
    return target;
  }

  /**
   * Makes a domain the install's primary and queues the job that points WordPress's home and
   * siteurl at it (through the agent, with WordPress's own option functions).
   */
  private async makePrimary(r: Repositories, install: InstallRow, domainId: string): Promise<void> {
    await r.domains.setPrimary(install.id, domainId);
    await r.jobs.enqueue({
      accountId: install.account_id,
      installId: install.id,
      type: 'install.urls',
      payload: {},
      targetId: install.id,
    });
  }

  /** When the primary domain stops being primary, the install's own cname takes over. */
  private async fallBackToCname(
    r: Repositories,
    install: InstallRow,
    domain: DomainRow,
  ): Promise<void> {
    const cname = await r.domains.findByName(this.installs.cnameOf(install.name));
    if (cname === undefined || cname.id === domain.id) {
      throw invalid('primary', 'invalid', 'An install must keep a primary domain');
    }
    await this.makePrimary(r, install, cname.id);
  }

  private async find(r: Repositories, install: InstallRow, id: string): Promise<DomainRow> {
    const domain = isUuid(id) ? await r.domains.findById(install.id, id) : undefined;
    if (domain === undefined) throw new NotFoundError('Domain');
    return domain;
  }

  private async log(
    r: Repositories,
    actor: Actor,
    action: string,
    domain: DomainRow,
    details: Record<string, unknown>,
  ): Promise<void> {
    await r.activity.record(actor, {
      action,
      targetType: 'domain',
      targetId: domain.id,
      details: { install_id: domain.install_id, name: domain.name, ...details },
    });
  }

  private async view(r: Repositories, domain: DomainRow): Promise<DomainView> {
    const [v] = await this.views(r, [domain]);
    if (v === undefined) throw new NotFoundError('Domain');
    return v;
  }

  private async views(r: Repositories, domains: DomainRow[]): Promise<DomainView[]> {
    const targetIds = [
      ...new Set(domains.flatMap((d) => (d.redirect_to_id === null ? [] : [d.redirect_to_id]))),
    ];
    const targets = new Map((await r.domains.findByIds(targetIds)).map((t) => [t.id, t]));
    return domains.map((domain) => {
      const t = domain.redirect_to_id === null ? undefined : targets.get(domain.redirect_to_id);
      return { domain, redirectTo: t === undefined ? null : { id: t.id, name: t.name } };
    });
  }
}
