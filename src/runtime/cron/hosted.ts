import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import type { SiteAgents } from '../../core/site-agent/site-agent.js';
import type { InstallRow } from '../../core/installs/installs.repository.js';
import type { Store } from '../../core/store.js';
import { maintenanceFlagSet } from '../backups/maintenance.js';
import { MysqlAdmin } from '../databases/mysql-admin.js';
import { siteLayout } from '../sites/site-files.js';
import { parseCronOption, type CronEvent } from './cron-option.js';
import { hostedCronSource } from './cron-sources.js';
import { CronScheduler } from './scheduler.js';

/**
 * The scheduler of the installs this server hosts (their databases and wp-content are on its
 * disk), with the server's settings; null when `WPFLEET_CRON_INTERVAL` is 0.
 */
function mysqlAdminOf(config: Config): MysqlAdmin | null {
  return config.wordpressDatabase.kind === 'mysql'
    ? new MysqlAdmin(config.wordpressDatabase.url)
    : null;
}

export function hostedCronScheduler(
  config: Config,
  deps: { store: Store; agents: SiteAgents; log: Pick<Logger, 'debug' | 'info' | 'warn'> },
): CronScheduler | null {
  if (config.cron.intervalSeconds === 0) return null;
  const mysql = mysqlAdminOf(config);
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

/**
 * A hosted install's scheduled events as its database holds them, read as the scheduler reads
 * them (its PHP is not woken); an install that is not provisioned yet has none.
 */
export async function hostedCronEvents(config: Config, install: InstallRow): Promise<CronEvent[]> {
  if (install.table_prefix === null || install.wp_version === null) return [];
  const stored = await hostedCronSource(
    { ...install, table_prefix: install.table_prefix },
    config.dataDir,
    mysqlAdminOf(config),
  ).read();
  return stored === null || stored === '' ? [] : parseCronOption(stored).events;
}
