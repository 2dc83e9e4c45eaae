import type { Command } from 'commander';
import { createApp } from '../composition.js';
import { hostedCronEvents } from '../runtime/cron/hosted.js';
import { configFrom, withStoreOptions, type StoreFlags } from './options.js';

interface CronFlags extends StoreFlags {
  json?: boolean;
}

const iso = (unixSeconds: number): string => new Date(unixSeconds * 1000).toISOString();

/**
 * `wpfleet installs cron INSTALL`: the install's scheduled events, read from its database as the
 * server's scheduler reads them (its PHP is not woken), and what the scheduler recorded of its
 * runs.
 */
export function installCronCommand(installs: Command): void {
  withStoreOptions(installs.command('cron <install>'))
    .description("show an install's scheduled events and the server's runs of them")
    .option('--json', 'print JSON')
    .action(async (nameOrId: string, flags: CronFlags) => {
      const config = configFrom({ ...flags });
      const app = await createApp(config);
      try {
        const install = await app.services.installs.findForOperator(nameOrId);
        const [events, record] = await Promise.all([
          hostedCronEvents(config, install),
          app.store.read.cron.find(install.id),
        ]);
        const now = Date.now() / 1000;
        const json = {
          install: install.name,
          due: events.filter((e) => e.at <= now).length,
          events: events.map((e) => ({ hook: e.hook, at: iso(e.at), schedule: e.schedule })),
          runs:
            record === undefined
              ? null
              : {
                  last_run_at: record.lastRunAt,
                  last_ok_at: record.lastOkAt,
                  next_run_at: record.nextRunAt,
                  failures: record.failures,
                  last_error: record.lastError,
                  runs: record.runs,
                  hooks_run: record.hooksRun,
                },
        };
        if (flags.json === true) {
          console.log(JSON.stringify(json));
          return;
        }
        for (const e of json.events) {
          console.log([e.at, e.hook, e.schedule ?? 'once'].join('\t'));
        }
        console.log(
          `${events.length} events, ${json.due} due; ` +
            (record === undefined
              ? 'never run by the server'
              : `last run ${record.lastRunAt ?? '-'} (runs: ${record.runs}, events run: ${record.hooksRun}` +
                (record.failures > 0
                  ? `; failed ${record.failures} times in a row: ${record.lastError ?? ''})`
                  : ')')),
        );
      } finally {
        await app.close();
      }
    });
}
