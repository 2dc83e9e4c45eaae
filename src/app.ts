import type { Config } from './config.js';
import { createServices, type Services } from './core/services.js';
import { Store } from './core/store.js';
import { openDatabase, type OpenOptions } from './db/database.js';

export interface App {
  config: Config;
  store: Store;
  services: Services;
  close(): Promise<void>;
}

/** Builds the store and the services from a config; shared by `serve`, the CLI and the tests. */
export async function createApp(config: Config, options: OpenOptions = {}): Promise<App> {
  const database = await openDatabase(config.database, options);
  const store = new Store(database.db, database.engine);
  const services = createServices(store, {
    baseDomain: config.baseDomain,
    defaultPhpVersion: config.defaultPhpVersion,
  });
  return { config, store, services, close: () => database.close() };
}
