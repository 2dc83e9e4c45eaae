import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { InstallRow } from '../../core/installs/installs.repository.js';
import type { InstallsService } from '../../core/installs/installs.service.js';
import type { ProvisioningChoices } from '../../core/installs/installs.types.js';
import { nowIso } from '../../core/shared/ids.js';
import type { Store } from '../../core/store.js';
import { JobSteps } from '../../core/jobs/steps.js';
import { AgentClient } from '../agent/client.js';
import {
  databaseNameFor,
  installMysql,
  MysqlAdmin,
  type InstallDatabase,
} from '../databases/mysql-admin.js';
import { phpAgentTransport } from '../agent/transport.js';
import type { SiteDatabase } from '../php/network-policy.js';
import type { PhpRuntime, SiteMount } from '../php/types.js';
import { AgentFreshness } from '../sites/agent-freshness.js';
import {
  removeSiteFiles,
  siteLayout,
  SQLITE_DATABASE,
  writeSiteFiles,
} from '../sites/site-files.js';
import { randomTablePrefix, renderWpConfig } from '../sites/wp-config.js';
import { installerScript, parseInstallerOutput } from './installer-script.js';
import { inTurn } from './php-turn.js';
import { installFromTemplate } from './sqlite-template.js';
import { SqliteTemplates } from './templates.js';

/** Where WordPress releases come from; implemented by src/runtime/releases. */
export interface ReleaseProvider {
  /** The newest release available, adding one from the configured sources if none is. */
  ensure(): Promise<{ version: string; dir: string }>;
  /** The folder of an added release. */
  dir(version: string): string;
  /** The unpacked SQLite integration plugin. */
  sqlitePlugin(): Promise<string>;
}

/** How the control plane reaches the edge it serves installs on. */
export interface EdgeAddress {
  /** `http://<host>[:port]` as visitors reach the install. */
  origin(host: string): string;
  /**
   * GETs a path on an install's host through the edge, with more request headers if given
   * (`cache-control: no-cache` passes the page cache by); resolves with the status and body.
   */
  get(
    host: string,
    path: string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: string }>;
}

/** Provisioning's steps in order; each is recorded as `provision.<step>` when done. */
export const PROVISION_STEPS = [
  'chosen',
  'database-created',
  'files-written',
  'installed',
  'active',
] as const;

export interface ProvisionerDeps {
  store: Store;
  /** Install lifecycle changes (active) go through the service, with their activity row. */
  installs: InstallsService;
  runtime: PhpRuntime;
  releases: ReleaseProvider;
  edge: EdgeAddress;
  dataDir: string;
  agentFile: string;
  /** Set when new installs get a MySQL/MariaDB database instead of SQLite. */
  mysql: MysqlAdmin | null;
  /** PHP version of new installs: their SQLite template is installed with it, their spare runs it. */
  templatePhpVersion: string;
}

/**
 * Makes a pending install a running WordPress, and removes one that was deleted. Each step can
 * run again after a crash: what a step chose is recorded (in the install's row, and as a step of
 * the job) before the next one relies on it.
 */
export class Provisioner {
  private readonly templates: SqliteTemplates;
  private readonly agentFiles: AgentFreshness;

  constructor(private readonly deps: ProvisionerDeps) {
    this.agentFiles = new AgentFreshness(deps.agentFile);
    this.templates = new SqliteTemplates({
      dataDir: deps.dataDir,
      runtime: deps.runtime,
      agentFile: deps.agentFile,
      sqlitePlugin: () => deps.releases.sqlitePlugin(),
      phpVersion: deps.templatePhpVersion,
    });
  }

  cname(install: Pick<InstallRow, 'name'>): string {
    return this.deps.installs.cnameOf(install.name);
  }

  /** The install's primary domain, else its cname. */
  primaryHost(install: Pick<InstallRow, 'id' | 'name'>): Promise<string> {
    return this.deps.installs.primaryHost(install);
  }

  /** The mount a live install runs with; null while it has no files yet. */
  siteMount(install: InstallRow, primaryHost?: string): SiteMount | null {
    if (install.release_version === null) return null;
    const layout = siteLayout(this.deps.dataDir, install.id);
    const database = this.databaseOf(install);
    return {
      ...(database === null ? {} : { database }),
      installId: install.id,
      phpVersion: install.php_version,
      releaseDir: this.deps.releases.dir(install.release_version),
      contentDir: layout.contentDir,
      configFile: layout.configFile,
      absoluteUrl: this.deps.edge.origin(primaryHost ?? this.cname(install)),
    };
  }

  /**
   * A signed client of the install's agent, called inside its PHP with its own Host. Each call
   * first brings the install's copy of the agent up to date (installs made before an agent
   * module shipped lack it).
   */
  agentFor(install: InstallRow): AgentClient {
    const site = this.siteMount(install);
    if (site === null || install.agent_secret === null) {
      throw new Error(`install ${install.name} is not provisioned yet`);
    }
    const host = new URL(site.absoluteUrl).host;
    return new AgentClient(
      phpAgentTransport(async (request) => {
        await this.agentFiles.ensure(site.contentDir);
        return this.deps.runtime.request(site, request);
      }, host),
      install.agent_secret,
    );
  }

  /**
   * Readies, ahead of any request, what the next new install needs: the release it would get,
   * on SQLite the plugin and the release's template database, and a spare PHP booted on that
   * release. Provisioning shares the same work while it runs (one add of the release per data
   * directory, one template build per release), so an install created meanwhile waits for it
   * instead of doing it twice.
   */
  async warmUp(): Promise<{ version: string; template: boolean }> {
    const release = await this.deps.releases.ensure();
    // The folder as provisioning names it, so the spare matches the install's mount.
    const releaseDir = this.deps.releases.dir(release.version);
    if (this.deps.mysql === null) {
      await this.deps.releases.sqlitePlugin();
      await this.templates.ensure(release.version, releaseDir);
    }
    this.deps.runtime.prewarm({ phpVersion: this.deps.templatePhpVersion, releaseDir });
    return { version: release.version, template: this.deps.mysql === null };
  }

  async provision(
    installId: string,
    steps: JobSteps = JobSteps.untracked(this.deps.store),
  ): Promise<Record<string, unknown>> {
    const { store } = this.deps;
    let install = await store.read.installs.findAny(installId);
    if (install === undefined || install.deleted_at !== null) return { skipped: 'install deleted' };

    // 1. Choices that must survive a retry: release, table prefix, agent secret, database.
    if (
      install.release_version === null ||
      install.table_prefix === null ||
      install.agent_secret === null
    ) {
      const release = await this.deps.releases.ensure();
      const dbName = databaseNameFor(install.id);
      const chosen: ProvisioningChoices = {
        release_version: install.release_version ?? release.version,
        table_prefix: install.table_prefix ?? randomTablePrefix(),
        agent_secret: install.agent_secret ?? randomBytes(32).toString('hex'),
        ...(this.deps.mysql === null
          ? {}
          : {
              db_name: dbName,
              db_user: dbName,
              db_password: randomBytes(24).toString('base64url'),
            }),
      };
      await steps.record('provision.chosen', { release: chosen.release_version }, (r) =>
        this.deps.installs.recordChoicesWithin(r, installId, chosen),
      );
      install = { ...install, ...chosen };
    }
    const version = install.release_version ?? '';
    // The install's first request then finds PHP booted and WordPress compiled.
    this.deps.runtime.prewarm({
      phpVersion: install.php_version,
      releaseDir: this.deps.releases.dir(version),
    });
    const mysql = this.mysqlOf(install);
    if (mysql !== null) {
      // Until WordPress is recorded installed, the database is nobody's yet: whatever an
      // interrupted installer left in it goes, and the installer starts on an empty one.
      if (install.wp_version === null) await mysql.admin.drop(mysql.db);
      await mysql.admin.ensure(mysql.db);
    }
    await steps.record('provision.database-created', {
      engine: mysql === null ? 'sqlite' : 'mysql',
    });

    // 2. The install's own files (written whole or not at all; kept if a crash came later).
    const layout = siteLayout(this.deps.dataDir, install.id);
    await writeSiteFiles(layout, {
      releaseDir: this.deps.releases.dir(version),
      sqlitePluginDir: mysql === null ? await this.deps.releases.sqlitePlugin() : null,
      agentFile: this.deps.agentFile,
      wpConfig: renderWpConfig({
        tablePrefix: install.table_prefix ?? '',
        database:
          mysql === null
            ? { kind: 'sqlite' }
            : {
                kind: 'mysql',
                host: mysql.admin.host,
                name: mysql.db.name,
                user: mysql.db.user,
                password: mysql.db.password,
              },
        agentSecret: install.agent_secret ?? '',
        // Settings changed while the install was pending are written with its files.
        settings: await store.read.installSettings.get(install.id),
      }),
    });
    await steps.record('provision.files-written');

    // 3. WordPress, installed: from the release's template database on SQLite, by WordPress's
    //    own installer on MySQL. The primary domain may have been chosen while pending.
    const site = this.siteMount(install);
    if (site === null) throw new Error('install has no release');
    const primary = await this.primaryHost(install);
    let wpVersion = install.wp_version;
    if (wpVersion === null) {
      const url = this.deps.edge.origin(primary);
      const owner = await this.ownerEmail(install.account_id);
      const installed =
        mysql === null
          ? await this.installSqlite(install, site, layout.contentDir, url, owner)
          : await this.runInstaller(install, site, url, owner);
      // Recorded before the check below: the edge serves an install only once it is installed.
      await steps.record('provision.installed', { wp_version: installed }, (r) =>
        this.deps.installs.markInstalledWithin(r, installId, installed),
      );
      wpVersion = installed;
    }

    // 4. Active only once the home page answers through the edge. A 503 there is PHP busy with
    //    other installs (the install is recorded installed, so the edge serves it): try again.
    const home = await inTurn('the home page check', () => this.deps.edge.get(primary, '/'), {
      busy: (r) => r.status === 503,
    });
    if (home.status !== 200 || !home.body.includes('content="WordPress')) {
      throw new Error(`the new install's home page answered ${home.status}, not WordPress's 200`);
    }
    const activation = {
      wp_version: wpVersion,
      php_version: install.php_version,
      release: version,
    };
    await steps.record('provision.active', {}, (r) =>
      this.deps.installs.markActiveWithin(r, installId, activation),
    );
    return { ...activation };
  }

  private async installSqlite(
    install: InstallRow,
    site: SiteMount,
    contentDir: string,
    url: string,
    owner: string,
  ): Promise<string> {
    const template = await this.templates.ensure(install.release_version ?? '', site.releaseDir);
    installFromTemplate(template.file, path.join(contentDir, SQLITE_DATABASE), {
      prefix: install.table_prefix ?? '',
      url,
      title: install.name,
      adminEmail: owner,
    });
    return template.wpVersion;
  }

  private async runInstaller(
    install: InstallRow,
    site: SiteMount,
    url: string,
    owner: string,
  ): Promise<string> {
    const script = installerScript({
      title: install.name,
      adminEmail: owner,
      adminPassword: randomBytes(24).toString('base64url'),
      url,
    });
    const output = await inTurn("WordPress's installer", () =>
      this.deps.runtime.runScript(site, script),
    );
    return parseInstallerOutput(output.stdout).wp_version;
  }

  /**
   * Stops the install's PHP and removes its files, and its database and user on MySQL; its row
   * stays for history and backups.
   */
  async remove(
    installId: string,
    steps: JobSteps = JobSteps.untracked(this.deps.store),
  ): Promise<Record<string, unknown>> {
    await this.deps.runtime.unload(installId);
    await removeSiteFiles(siteLayout(this.deps.dataDir, installId));
    await steps.record('delete.files-removed');
    const install = await this.deps.store.read.installs.findAny(installId);
    const mysql = install === undefined ? null : this.mysqlOf(install);
    if (mysql !== null) await mysql.admin.drop(mysql.db);
    await steps.record('delete.database-dropped', { dropped: mysql !== null });
    return { removed: true, database_dropped: mysql !== null, at: nowIso() };
  }

  /** Where the install's PHP may reach its MySQL database, and as whom; null on SQLite. */
  private databaseOf(install: InstallRow): SiteDatabase | null {
    const mysql = install.db_user === null ? null : this.mysqlOf(install);
    return mysql === null ? null : { ...mysql.admin.address, user: mysql.db.user };
  }

  /** The install's MySQL database, if it has one (it was provisioned with a MySQL URL). */
  private mysqlOf(install: InstallRow): { admin: MysqlAdmin; db: InstallDatabase } | null {
    return installMysql(install, this.deps.mysql);
  }

  private async ownerEmail(accountId: string): Promise<string> {
    const members = await this.deps.store.read.users.listMembers(accountId);
    const owner = members.find((m) => m.role.level === 'owner') ?? members[0];
    return owner?.email ?? 'owner@wpfleet.invalid';
  }
}
