/**
 * The composition root: the one place that wires the store, the core services, the PHP runtime,
 * the edge, provisioning, backups and the job runner. `serve`, the CLI and the tests build what
 * they need from here, and nothing else constructs these.
 */
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { runnableJobs, type JobDefinitions } from './core/jobs/job-contract.js';
import { createServices, type Services } from './core/services.js';
import { Store } from './core/store.js';
import { openDatabase, type OpenOptions } from './db/database.js';
import { Edge } from './edge/edge.js';
import { loopbackGet } from './edge/loopback.js';
import { JobRunner } from './jobs/runner.js';
import { AGENT_FILE } from './runtime/agent/agent-file.js';
import {
  backupJobHandlers,
  backupManagerFor,
  type BackupManager,
} from './runtime/backups/backups.js';
import { copyJobHandlers, InstallCopier } from './runtime/clones/copier.js';
import { MysqlAdmin } from './runtime/databases/mysql-admin.js';
import { hostedCronScheduler } from './runtime/cron/hosted.js';
import { domainCheckHandler } from './runtime/domain-check/handler.js';
import { backupNotifier } from './runtime/notifications/backup-notifier.js';
import { mailerFor } from './runtime/notifications/mailer.js';
import type { PhpRuntime } from './runtime/php/types.js';
import { WasmRuntime } from './runtime/php/wasm/pool.js';
import { installJobTypes } from './runtime/provision/install-jobs.js';
import {
  Provisioner,
  type EdgeAddress,
  type ReleaseProvider,
} from './runtime/provision/provisioner.js';
import { releaseReports } from './runtime/release-provider.js';
import { siteJobHandlers } from './runtime/site-jobs.js';
import { HostedSiteAgents } from './runtime/sites/hosted-agents.js';
import { settingsApplier } from './runtime/sites/settings.js';
import { InstallSettingsService } from './core/installs/install-settings.service.js';
import { packageSourcesFor } from './runtime/packages/index.js';
import type { PackageSources } from './core/packages/package-source.js';
import { SiteOperationsService } from './core/site-agent/site-operations.service.js';
import { CoreUpdatesService } from './core/site-agent/core-updates.service.js';
import { coreReleases } from './runtime/releases/core-releases.js';
import { CoreUpdater } from './runtime/sites/core-update.js';
import { FleetService } from './core/fleet/fleet.service.js';
import { SafeUpdatesService } from './core/updates/safe-updates.service.js';
import { SafeUpdateJob } from './core/updates/safe-update.job.js';
import { EdgePages } from './runtime/updates/edge-pages.js';
import { UpdateSnapshotStore } from './runtime/updates/snapshots.js';
import { ChromiumScreenshots } from './runtime/updates/screenshots.js';

export interface App {
  config: Config;
  store: Store;
  services: Services;
  close(): Promise<void>;
}

/** The store and the core services: all the API and most CLI commands need. */
export async function createApp(config: Config, options: OpenOptions = {}): Promise<App> {
  const database = await openDatabase(config.database, options);
  const store = new Store(database.db, database.engine);
  const services = createServices(store, {
    baseDomain: config.baseDomain,
    defaultPhpVersion: config.defaultPhpVersion,
  });
  return { config, store, services, close: () => database.close() };
}

/**
 * Backups without PHP: verifying and pruning need only the store and the backups' storage
 * (the CLI uses this while a server may be running).
 */
export function offlineBackups(app: App): BackupManager {
  return backupManagerFor(app.config, {
    store: app.store,
    backups: app.services.backups,
    installs: app.services.installs,
    // Never called by verify or prune.
    runtime: undefined as never,
    provisioner: undefined as never,
    purgePages: () => Promise.resolve(),
  });
}

/** Attempts a job gets before it fails for good (the backup handler marks its backup then). */
const JOB_ATTEMPTS = 3;

export interface Hosting {
  runtime: PhpRuntime;
  backups: BackupManager;
  /** Operations inside installs' WordPress (plugins, themes, users, search-replace, …). */
  sites: SiteOperationsService;
  /** Core updates and reinstalls (queued as `install.core_update` jobs), and core checks. */
  core: CoreUpdatesService;
  /** Installs' hardening and debugging settings (wp-config.php and the edge). */
  settings: InstallSettingsService;
  /** One operation on many installs (`--all`/`--installs`, "update everything"). */
  fleet: FleetService;
  /** Plugin and theme updates behind a snapshot, checked and rolled back (`install.safe_update`). */
  updates: SafeUpdatesService;
  packages: PackageSources;
  edge: Edge;
  provisioner: Provisioner;
  /** Call once the server listens: sets the edge's address and starts the job runner. */
  start(port: number): Promise<void>;
  /**
   * Readies the next new install's release, template database and spare PHP (Provisioner.warmUp)
   * so that the first install on a fresh data directory is as fast as the next ones. Meant to
   * run in the background once the server listens; never rejects: a failure is logged, null is
   * returned, and the first install tries again. Null at once when jobs are off (the API tests
   * run that way, with no background work).
   */
  warmUp(): Promise<WarmUp | null>;
  close(): Promise<void>;
}

export interface WarmUp {
  /** The release new installs get. */
  version: string;
  /** Whether a SQLite template database is ready (not with MySQL as WordPress's database). */
  template: boolean;
  ms: number;
}

/**
 * Everything that runs WordPress: the PHP runtime, the edge in front of it, provisioning, the
 * operations inside installs and the job runner that drives the long ones. `serve` builds it and
 * starts it; CLI commands that act inside an install build it without starting its jobs.
 */
export function createHosting(app: App, releases: ReleaseProvider, log: Logger): Hosting {
  const { config, store } = app;
  const runtime = new WasmRuntime({
    perInstall: config.php.perInstall,
    total: config.php.total,
    idleMs: config.php.idleSeconds * 1000,
    timeoutMs: config.php.timeoutSeconds * 1000,
    networkAllow: config.php.networkAllow,
    onRefused: (connection) => {
      log.warn({ ...connection }, "refused a connection from an install's PHP");
    },
    queueMs: config.php.queueSeconds * 1000,
    log,
  });
  let port = config.port;
  const address: EdgeAddress = {
    origin: (host) => (port === 80 ? `http://${host}` : `http://${host}:${port}`),
    get: (host, path, headers) => {
      edge.hosts.forget(host);
      return loopbackGet(port, host, path, headers);
    },
  };
  // Installs' own MySQL databases, when WordPress's database is MySQL (else SQLite files).
  const mysql =
    config.wordpressDatabase.kind === 'mysql' ? new MysqlAdmin(config.wordpressDatabase.url) : null;
  const provisioner = new Provisioner({
    store,
    installs: app.services.installs,
    runtime,
    releases,
    edge: address,
    dataDir: config.dataDir,
    agentFile: AGENT_FILE,
    templatePhpVersion: config.defaultPhpVersion,
    mysql,
  });
  const edge: Edge = new Edge({
    store,
    runtime,
    dataDir: config.dataDir,
    siteMount: (install) => provisioner.siteMount(install),
    log,
  });
  // A purge through the API empties this process's page cache before it is answered.
  app.services.cache.whenPagesPurged((installId, generation) => {
    edge.pagesPurged(installId, generation);
  });
  const pagesChanged = (installId: string) => app.services.cache.pagesChanged(installId);
  const notify = backupNotifier({ store, mailer: mailerFor(config.mail, log), log });
  const backups = backupManagerFor(config, {
    store,
    backups: app.services.backups,
    installs: app.services.installs,
    runtime,
    provisioner,
    purgePages: pagesChanged,
    notify,
  });
  const agents = new HostedSiteAgents({ store, provisioner, dataDir: config.dataDir });
  const packages = packageSourcesFor(config, log);
  const sites = new SiteOperationsService({
    store,
    installs: app.services.installs,
    agents,
    packages,
    pagesChanged,
  });

  const reports = releaseReports(log);
  const core = new CoreUpdatesService({
    store,
    installs: app.services.installs,
    packages,
    releases: coreReleases(config, reports),
  });
  const edgePages = new EdgePages({
    store,
    provisioner,
    address,
  });
  const screenshots = new ChromiumScreenshots({
    dataDir: config.dataDir,
    host: (id) => edgePages.host(id),
    origin: (host) => address.origin(host),
  });
  const coreUpdater = new CoreUpdater({
    store,
    installs: app.services.installs,
    coreUpdates: core,
    agents,
    runtime,
    provisioner,
    address,
    releases: config,
    releaseOptions: reports,
    forgetRoutes: (id) => {
      edge.settingsChanged(id);
    },
    pagesChanged,
    refreshInventory: (id) => sites.refreshAfterJob(id),
    visual: screenshots,
  });
  const updates = new SafeUpdatesService({
    store,
    installs: app.services.installs,
    refreshInventory: (actor, id) => sites.refreshInventory(actor, id),
  });
  const safeUpdateJob = new SafeUpdateJob({
    store,
    sites,
    safeUpdates: updates,
    agents,
    pages: edgePages,
    snapshots: new UpdateSnapshotStore({
      dataDir: config.dataDir,
      store,
      runtime,
      mysql,
    }),
    visual: screenshots,
    pagesChanged,
  });
  const copier = new InstallCopier({
    store,
    backups,
    backupRecords: app.services.backups,
    clones: app.services.clones,
  });
  const jobs: JobDefinitions = {
    ...backupJobHandlers(backups, JOB_ATTEMPTS),
    ...copyJobHandlers(copier, app.services.clones),
    ...installJobTypes(provisioner, app.services.installs, (id) => {
      edge.forgetInstall(id);
    }),
    ...siteJobHandlers({ store, provisioner, address, pagesChanged }),
    'domain.check_status': domainCheckHandler(store, config),
    'install.core_update': coreUpdater.definition(),
    'install.safe_update': safeUpdateJob.definition(),
  };
  const runner = new JobRunner(
    store,
    runnableJobs(jobs),
    { concurrency: 2, pollMs: 100, maxAttempts: JOB_ATTEMPTS },
    log,
  );
  // Installs' WordPress cron, which WP-Cron no longer runs (DISABLE_WP_CRON): with the jobs.
  const cron = config.jobs ? hostedCronScheduler(config, { store, agents, log }) : null;

  const settings = new InstallSettingsService({
    store,
    installs: app.services.installs,
    applier: settingsApplier(config.dataDir, (id) => {
      edge.settingsChanged(id);
    }),
    pagesChanged,
  });

  let closing = false;
  return {
    runtime,
    backups,
    sites,
    core,
    settings,
    fleet: new FleetService(app.services.installs),
    updates,
    packages,
    edge,
    provisioner,
    async start(listeningPort) {
      port = listeningPort;
      if (config.jobs) await runner.start();
      cron?.start();
    },
    async warmUp() {
      if (!config.jobs) return null;
      const t0 = performance.now();
      try {
        const ready = await provisioner.warmUp();
        return { ...ready, ms: performance.now() - t0 };
      } catch (err) {
        // Stopping the server mid-way fails the warm-up; that is no news.
        if (!closing) log.warn({ err }, 'warm-up failed; the first install will try again');
        return null;
      }
    },
    async close() {
      closing = true;
      await cron?.stop();
      await runner.stop();
      await runtime.close();
      await edge.close();
    },
  };
}
