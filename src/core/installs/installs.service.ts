import { canSeeInstall, requireAccountManager, type Actor } from '../actor.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { isUuid, newId, nowIso } from '../shared/ids.js';
import type { Page, PageRequest } from '../shared/page.js';
import { requireOwnAccount } from '../shared/text.js';
import { insertSiteWithinLimit } from '../sites/site-limit.js';
import type { JobRow } from '../jobs/jobs.repository.js';
import type { Repositories, Store } from '../store.js';
import type { InstallRecord, InstallRow } from './installs.repository.js';
import {
  INSTALL_NAME,
  NOT_PROVISIONED,
  type Activation,
  type InstallChanges,
  type InstallView,
  type NewInstall,
  type ProvisioningChoices,
} from './installs.types.js';

/** Long enough for any error we write, short enough for every API answer that shows it. */
const REASON_LENGTH = 2000;

/** The runtime acting on an install of an account, as the activity log names it. */
function runtimeActor(accountId: string): Pick<Actor, 'accountId' | 'label'> {
  return { accountId, label: 'runtime' };
}

export interface InstallsOptions {
  baseDomain: string;
  defaultPhpVersion: string;
}

export class InstallsService {
  constructor(
    private readonly store: Store,
    private readonly options: InstallsOptions,
  ) {}

  cnameOf(name: string): string {
    return `${name}.${this.options.baseDomain}`;
  }

  /** The host an install answers at: its primary domain, else its cname. The one place for this. */
  async primaryHost(install: Pick<InstallRow, 'id' | 'name'>): Promise<string> {
    return (
      (await this.store.read.domains.findPrimary(install.id))?.name ?? this.cnameOf(install.name)
    );
  }

  async list(
    actor: Actor,
    accountId: string | undefined,
    page: PageRequest,
  ): Promise<Page<InstallView>> {
    // Filtering by another (or no) account finds nothing, exactly as an unknown account would.
    if (accountId !== undefined && accountId !== actor.accountId) return { items: [], total: 0 };
    const ids = actor.installIds === null ? null : [...actor.installIds];
    const rows = await this.store.read.installs.list({ accountId: actor.accountId, ids }, page);
    return { items: this.views(rows.items), total: rows.total };
  }

  async get(actor: Actor, id: string): Promise<InstallView> {
    const install = await this.find(this.store.read, actor, id);
    const [view] = this.views([install]);
    if (view === undefined) throw new NotFoundError('Install');
    return view;
  }

  /** Records the install as pending and queues its provisioning; the runtime makes it active. */
  async create(actor: Actor, input: NewInstall): Promise<InstallView> {
    return this.store.transaction(async (r) => (await this.createWithin(r, actor, input)).view);
  }

  /**
   * `create` inside a transaction of the caller's, which can queue more work for the install in
   * it (a clone's copy, after `provisionJob`). `like` makes it run the same PHP version and
   * WordPress release as another install (provisioning keeps a release already chosen).
   */
  async createWithin(
    r: Repositories,
    actor: Actor,
    input: NewInstall,
    like?: Pick<InstallRow, 'php_version' | 'release_version'>,
  ): Promise<{ view: InstallView; provisionJob: JobRow }> {
    requireAccountManager(actor);
    requireOwnAccount('Install', actor.accountId, input.account_id);
    const name = input.name;
    if (!INSTALL_NAME.test(name)) {
      throw ValidationError.field(
        'Install',
        'name',
        'invalid',
        'Name must be 3 to 14 lowercase letters and digits, starting with a letter',
      );
    }
    const now = nowIso();
    const install: InstallRow = {
      id: newId(),
      account_id: actor.accountId,
      site_id: null,
      name,
      environment: input.environment ?? 'production',
      status: 'pending',
      php_version: like?.php_version ?? this.options.defaultPhpVersion,
      wp_version: null,
      is_multisite: 0,
      created_at: now,
      deleted_at: null,
      ...NOT_PROVISIONED,
      release_version: like?.release_version ?? null,
    };
    const cname = this.cnameOf(name);
    if ((await r.installs.nameTaken(name)) || (await r.domains.findByName(cname)) !== undefined) {
      throw ValidationError.field(
        'Install',
        'name',
        'taken',
        'Name has already been taken',
        'value_unavailable',
      );
    }
    if (input.site_id === undefined) {
      // Every install belongs to a site; one created without a site gets its own.
      const site = { id: newId(), account_id: actor.accountId, name, created_at: now };
      await insertSiteWithinLimit(r, actor, site);
      install.site_id = site.id;
    } else {
      install.site_id = await this.siteInAccount(r, actor, input.site_id);
      await this.requireFreeEnvironment(r, install.site_id, install.environment, null);
    }
    await r.installs.insert(install);
    await r.domains.insert({
      id: newId(),
      account_id: actor.accountId,
      install_id: install.id,
      name: cname,
      is_primary: 1,
      redirect_to_id: null,
      created_at: now,
    });
    const provisionJob = await r.jobs.enqueue({
      accountId: actor.accountId,
      installId: install.id,
      type: 'install.provision',
      payload: {},
      targetId: install.id,
      idempotencyKey: `install.provision:${install.id}`,
    });
    await r.activity.record(actor, {
      action: 'install.create',
      targetType: 'install',
      targetId: install.id,
      details: { name, site_id: install.site_id, environment: install.environment },
    });
    return { view: { install, cname, primaryDomain: cname }, provisionJob };
  }

  async update(actor: Actor, id: string, changes: InstallChanges): Promise<InstallView> {
    requireAccountManager(actor);
    await this.store.transaction(async (r) => {
      const install = await this.find(r, actor, id);
      const siteId =
        changes.site_id === undefined
          ? install.site_id
          : await this.siteInAccount(r, actor, changes.site_id);
      const environment = changes.environment ?? install.environment;
      if (siteId === install.site_id && environment === install.environment) return;
      if (siteId !== null) await this.requireFreeEnvironment(r, siteId, environment, install.id);
      await r.installs.update(install.id, { site_id: siteId, environment });
      await r.activity.record(actor, {
        action: 'install.update',
        targetType: 'install',
        targetId: install.id,
        details: { site_id: siteId, environment },
      });
    });
    return this.get(actor, id);
  }

  async delete(actor: Actor, id: string): Promise<void> {
    requireAccountManager(actor);
    await this.store.transaction(async (r) => {
      await this.deleteWithin(r, actor, await this.find(r, actor, id));
    });
  }

  /**
   * Marks the install deleted, frees its name and domains, and queues the removal of its files
   * and database. Shared with site deletion, which runs it inside its own transaction.
   */
  async deleteWithin(r: Repositories, actor: Actor, install: InstallRow): Promise<void> {
    await r.domains.deleteForInstall(install.id);
    await r.installs.update(install.id, { site_id: null });
    await r.installs.markDeleted(install.id, nowIso());
    await r.jobs.enqueue({
      accountId: actor.accountId,
      installId: install.id,
      type: 'install.delete',
      payload: {},
      targetId: install.id,
      idempotencyKey: `install.delete:${install.id}`,
    });
    await r.activity.record(actor, {
      action: 'install.delete',
      targetType: 'install',
      targetId: install.id,
      details: { name: install.name },
    });
  }

  /**
   * The install's lifecycle as provisioning drives it, each inside the transaction that records
   * the provisioning step: its choices (release, table prefix, agent secret, database), then
   * WordPress installed, then active.
   */
  async recordChoicesWithin(
    r: Repositories,
    installId: string,
    choices: ProvisioningChoices,
  ): Promise<void> {
    await r.installs.update(installId, choices);
  }

  /** WordPress is installed in the install's database: the edge may serve it from now on. */
  async markInstalledWithin(r: Repositories, installId: string, wpVersion: string): Promise<void> {
    await r.installs.update(installId, { wp_version: wpVersion });
  }

  /**
   * The install runs another WordPress release from now on (a core update, or its undoing),
   * inside the transaction that records the update's step. Its own files and database are not
   * touched here; the runtime restarts its PHP and upgrades the database.
   */
  async switchReleaseWithin(r: Repositories, installId: string, version: string): Promise<void> {
    await r.installs.update(installId, { release_version: version, wp_version: version });
  }

  /** A restore brought a database whose tables have another prefix. */
  async setTablePrefix(installId: string, tablePrefix: string): Promise<void> {
    await this.store.transaction((r) =>
      r.installs.update(installId, { table_prefix: tablePrefix }),
    );
  }

  /**
   * Makes a provisioned install active, inside the transaction that records the runtime's last
   * provisioning step. An install deleted meanwhile, or already active, is left as it is.
   */
  async markActiveWithin(
    r: Repositories,
    installId: string,
    activation: Activation,
    copied = false,
  ): Promise<void> {
    const install = await r.installs.findAny(installId);
    if (install === undefined || install.deleted_at !== null || install.status === 'active') return;
    // A clone's new install stays pending until its copy is in (the clone then makes it active,
    // `copied`): clients waiting for `active` never get a blank or half-copied WordPress.
    if (!copied && (await r.jobs.unfinished(installId, 'install.clone'))) return;
    await r.installs.update(installId, {
      status: 'active',
      status_reason: null,
      wp_version: activation.wp_version,
    });
    await r.activity.record(runtimeActor(install.account_id), {
      action: 'install.active',
      targetType: 'install',
      targetId: installId,
      details: { ...activation },
    });
  }

  /**
   * Marks a pending install `failed` with the reason, inside the transaction that gives up its
   * provisioning job, so that the install never stays `pending` with nothing running for it.
   */
  async markFailedWithin(r: Repositories, installId: string, reason: string): Promise<void> {
    const install = await r.installs.findAny(installId);
    if (install === undefined) return;
    const status_reason = reason.slice(0, REASON_LENGTH);
    if (!(await r.installs.changeStatus(installId, 'pending', { status: 'failed', status_reason })))
      return;
    await r.activity.record(runtimeActor(install.account_id), {
      action: 'install.failed',
      targetType: 'install',
      targetId: installId,
      details: { reason: status_reason },
    });
  }

  /**
   * Records on a deleted install that removing its files and database was given up, so that
   * what may be left behind is known (its row is kept; nothing of it is served or listed).
   */
  async markRemovalFailedWithin(r: Repositories, installId: string, reason: string): Promise<void> {
    const install = await r.installs.findAny(installId);
    if (install === undefined) return;
    const status_reason = reason.slice(0, REASON_LENGTH);
    await r.installs.update(installId, { status: 'failed', status_reason });
    await r.activity.record(runtimeActor(install.account_id), {
      action: 'install.delete_failed',
      targetType: 'install',
      targetId: installId,
      details: { reason: status_reason },
    });
  }

  /**
   * Provisions a failed install again: it is `pending` once more and a new `install.provision`
   * job picks up from what the failed one left (the choices and files it recorded).
   */
  async retry(actor: Actor, id: string): Promise<InstallView> {
    requireAccountManager(actor);
    await this.store.transaction(async (r) => {
      await this.retryWithin(r, actor, await this.find(r, actor, id));
    });
    return this.get(actor, id);
  }

  /** `retry` for the operator (the CLI), by name or id; returns the install and the new job. */
  async retryForOperator(nameOrId: string): Promise<{ install: InstallRow; jobId: string }> {
    const found = await this.findForOperator(nameOrId);
    return this.store.transaction(async (r) => {
      const install = (await r.installs.findAny(found.id)) ?? found;
      const jobId = await this.retryWithin(
        r,
        { accountId: install.account_id, label: 'cli' },
        install,
      );
      return { install: { ...install, status: 'pending', status_reason: null }, jobId };
    });
  }

  private async retryWithin(
    r: Repositories,
    actor: Pick<Actor, 'accountId' | 'label'>,
    install: InstallRow,
  ): Promise<string> {
    const retried =
      install.status === 'failed' &&
      (await r.installs.changeStatus(install.id, 'failed', {
        status: 'pending',
        status_reason: null,
      }));
    if (!retried) {
      throw ValidationError.field(
        'Install',
        'status',
        'not_failed',
        `Install is ${install.status}; only a failed install can be retried`,
      );
    }
    const job = await r.jobs.enqueue({
      accountId: install.account_id,
      installId: install.id,
      type: 'install.provision',
      payload: {},
      targetId: install.id,
    });
    await r.activity.record(actor, {
      action: 'install.retry',
      targetType: 'install',
      targetId: install.id,
      details: { job_id: job.id, previous_reason: install.status_reason },
    });
    return job.id;
  }

  /** Operator lookup by name or id (the CLI acts for the platform, not for one account). */
  async findForOperator(nameOrId: string): Promise<InstallRow> {
    const install = await this.store.read.installs.findLiveByNameOrId(nameOrId);
    if (install === undefined) throw new NotFoundError('Install');
    return install;
  }

  /** Sets the PHP version the install runs; the runtime restarts its PHP on the next request. */
  async setPhpVersion(
    nameOrId: string,
    version: string,
    available: readonly string[],
  ): Promise<InstallRow> {
    if (!available.includes(version)) {
      throw ValidationError.field(
        'Install',
        'php_version',
        'unavailable',
        `PHP ${version} is not available; available: ${available.join(', ')}`,
      );
    }
    const install = await this.findForOperator(nameOrId);
    await this.store.transaction(async (r) => {
      await r.installs.update(install.id, { php_version: version });
      await r.activity.record(
        { accountId: install.account_id, label: 'cli' },
        {
          action: 'install.php_version',
          targetType: 'install',
          targetId: install.id,
          details: { from: install.php_version, to: version },
        },
      );
    });
    return { ...install, php_version: version };
  }

  /** The install if the actor may see it; anything else is not found. */
  async find(r: Repositories, actor: Actor, id: string): Promise<InstallRecord> {
    const install =
      isUuid(id) && canSeeInstall(actor, id)
        ? await r.installs.findLive(actor.accountId, id)
        : undefined;
    if (install === undefined) throw new NotFoundError('Install');
    return install;
  }

  private async siteInAccount(r: Repositories, actor: Actor, siteId: string): Promise<string> {
    const site = isUuid(siteId)
      ? await r.sites.findById({ accountId: actor.accountId, installIds: null }, siteId)
      : undefined;
    if (site === undefined) {
      throw ValidationError.field(
        'Install',
        'site_id',
        'group_account_mismatch',
        'Site must exist and belong to the same account as the install',
        'access_error',
      );
    }
    return site.id;
  }

  private async requireFreeEnvironment(
    r: Repositories,
    siteId: string,
    environment: string | null,
    exceptId: string | null,
  ): Promise<void> {
    if (environment === null) return;
    if (await r.installs.environmentTaken(siteId, environment, exceptId)) {
      throw ValidationError.field(
        'Install',
        'environment',
        'taken',
        `Site already has a ${environment} install`,
        'value_unavailable',
      );
    }
  }

  private views(installs: InstallRecord[]): InstallView[] {
    return installs.map((install) => {
      const cname = this.cnameOf(install.name);
      return { install, cname, primaryDomain: install.primary_domain ?? cname };
    });
  }
}
