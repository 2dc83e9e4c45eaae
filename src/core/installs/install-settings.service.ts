import { requireScope, type Actor } from '../actor.js';
import type { Store } from '../store.js';
import { withChanges, type InstallSettings } from './install-settings.js';
import type { InstallsService } from './installs.service.js';

/** Writes stored settings where WordPress and the edge read them (runtime's wp-config.php). */
export interface SettingsApplier {
  apply(installId: string, settings: InstallSettings): Promise<void>;
}

export interface InstallSettingsDeps {
  store: Store;
  installs: InstallsService;
  applier: SettingsApplier;
  /** Drops the install's cached pages on every server (their links name the login path). */
  pagesChanged: (installId: string) => Promise<void>;
}

/**
 * An install's hardening and debugging settings: WP_DEBUG, DISALLOW_FILE_EDIT, the edge's file
 * protection and a custom login path. Stored first (so provisioning and a restart apply them),
 * logged with before and after, then applied.
 */
export class InstallSettingsService {
  constructor(private readonly deps: InstallSettingsDeps) {}

  async get(actor: Actor, installId: string): Promise<InstallSettings> {
    requireScope(actor, 'read');
    const install = await this.deps.installs.find(this.deps.store.read, actor, installId);
    return this.deps.store.read.installSettings.get(install.id);
  }

  /** Bad values (a reserved login path) are refused before anything is stored. */
  async change(
    actor: Actor,
    installId: string,
    change: Partial<InstallSettings>,
  ): Promise<InstallSettings> {
    requireScope(actor, 'write');
    const { before, after, install } = await this.deps.store.transaction(async (r) => {
      const found = await this.deps.installs.find(r, actor, installId);
      await r.installs.lock(found.id);
      const current = await r.installSettings.get(found.id);
      const next = withChanges(current, change);
      await r.installSettings.put(found.id, next);
      await r.activity.record(actor, {
        action: 'install.settings',
        targetType: 'install',
        targetId: found.id,
        details: { before: { ...current }, after: { ...next } },
      });
      return { before: current, after: next, install: found };
    });
    // An install still being provisioned gets them written with its files.
    if (install.release_version !== null) await this.deps.applier.apply(install.id, after);
    if (before.loginPath !== after.loginPath) await this.deps.pagesChanged(install.id);
    return after;
  }
}
