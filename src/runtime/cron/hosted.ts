import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import type { SiteAgents } from '../../core/site-agent/site-agent.js';
import type { Store } from '../../core/store.js';
import { maintenanceFlagSet } from '../backups/maintenance.js';
import { MysqlAdmin } from '../databases/mysql-admin.js';
import { siteLayout } from '../sites/site-files.js';
import { hostedCronSource } from './cron-sources.js';
import { CronScheduler } from './scheduler.js';

/**
 * The scheduler of the installs this server hosts (their databases and wp-content are on its
 * disk), with the server's settings; null when `WPFLEET_CRON_INTERVAL` is 0.
 */
export function hostedCronScheduler(
  config: Config,
  deps: { store: Store; agents: SiteAgents; log: Pick<Logger, 'debug' | 'info' | 'warn'> },
): CronScheduler | null {
  if (config.cron.intervalSeconds === 0) return null;
  const mysql =
    config.wordpressDatabase.kind === 'mysql' ? new MysqlAdmin(config.wordpressDatabase.url) : null;
  return new CronScheduler(
    {
      ...deps,
      source: (install) => hostedCronSource(install, config.dataDir, mysql),
      inMaintenance: (install) =>
        maintenanceFlagSet(siteLayout(config.dataDir, install.id).contentDir),
    },
    {
      intervalMs: config.cron.intervalSeconds * 1000,
      concurrency: config.cron.concurrency,
      timeoutMs: config.cron.timeoutSeconds * 1000,
    },
  );
}
