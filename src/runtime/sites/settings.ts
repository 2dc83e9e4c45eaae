import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import type { InstallSettings } from '../../core/installs/install-settings.js';
import type { SettingsApplier } from '../../core/installs/install-settings.service.js';
import { siteLayout } from './site-files.js';
import { withSettings } from './wp-config.js';

/**
 * Writes an install's settings into its wp-config.php (WP_DEBUG, DISALLOW_FILE_EDIT, the login
 * path the agent's hardening module reads). The file is replaced whole (a temporary file beside
 * it, renamed over it), so PHP never reads half of it; PHP includes wp-config.php afresh on
 * every request (php-wasm runs no OPcache, docs/runtime.md), so the next request of every
 * running instance sees the change. Answers whether the file changed.
 *
 * The edge reads file protection and the login path from the store: after storing a change,
 * the caller also tells the edge (`Edge.settingsChanged`).
 */
export async function applySettings(
  site: { configFile: string },
  settings: InstallSettings,
): Promise<boolean> {
  const before = await fs.readFile(site.configFile, 'utf8');
  const after = withSettings(before, settings);
  if (after === before) return false;
  const tmp = `${site.configFile}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const file = await fs.open(tmp, 'wx', 0o600);
    try {
      await file.writeFile(after);
      await file.sync();
    } finally {
      await file.close();
    }
    await fs.rename(tmp, site.configFile);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  return true;
}

/**
 * The SettingsApplier of installs on this server: rewrites an install's wp-config.php, then
 * `applied` (the edge forgets what it cached). An install whose files are not written yet is
 * left to provisioning, which writes the stored settings with them.
 */
export function settingsApplier(
  dataDir: string,
  applied: (installId: string) => void,
): SettingsApplier {
  return {
    async apply(installId, settings) {
      const layout = siteLayout(dataDir, installId);
      try {
        await applySettings(layout, settings);
      } catch (err) {
        if (!(err instanceof Error && 'code' in err && err.code === 'ENOENT')) throw err;
      }
      applied(installId);
    },
  };
}
