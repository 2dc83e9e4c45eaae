import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

/**
 * Where an install's own files live: `<data>/installs/<install id>/` holds its wp-config.php
 * and wp-content; WordPress core stays in the shared release.
 */
export interface SiteLayout {
  dir: string;
  configFile: string;
  contentDir: string;
}

export function siteLayout(dataDir: string, installId: string): SiteLayout {
  const dir = path.join(dataDir, 'installs', installId);
  return {
    dir,
    configFile: path.join(dir, 'wp-config.php'),
    contentDir: path.join(dir, 'wp-content'),
  };
}

export interface SiteFilesInput {
  /** The release's WordPress root; its wp-content is the starting point of the install's. */
  releaseDir: string;
  /** The unpacked SQLite integration plugin, for SQLite installs. */
  sqlitePluginDir: string | null;
  /** The agent mu-plugin file. */
  agentFile: string;
  wpConfig: string;
}

/**
 * Writes the install's files. Built in a temporary folder and renamed into place, so a crash
 * leaves either nothing or the whole tree, and running it again after a crash starts clean.
 * Asynchronous throughout: copying a few megabytes must not stall the server's event loop.
 */
export async function writeSiteFiles(layout: SiteLayout, input: SiteFilesInput): Promise<void> {
  if (fs.existsSync(layout.configFile)) return;
  const tmp = `${layout.dir}.tmp`;
  await fsp.rm(tmp, { recursive: true, force: true });
  await fsp.mkdir(tmp, { recursive: true });
  const content = path.join(tmp, 'wp-content');
  await fsp.cp(path.join(input.releaseDir, 'wp-content'), content, { recursive: true });
  await fsp.mkdir(path.join(content, 'mu-plugins'), { recursive: true });
  await fsp.mkdir(path.join(content, 'uploads'), { recursive: true });
  await fsp.copyFile(input.agentFile, path.join(content, 'mu-plugins', 'wpfleet-agent.php'));
  if (input.sqlitePluginDir !== null) {
    const plugin = path.join(content, 'plugins', 'sqlite-database-integration');
    await fsp.cp(input.sqlitePluginDir, plugin, { recursive: true });
    const dropIn = (await fsp.readFile(path.join(plugin, 'db.copy'), 'utf8'))
      .replace(
        '{SQLITE_IMPLEMENTATION_FOLDER_PATH}',
        '/wordpress/wp-content/plugins/sqlite-database-integration',
      )
      .replace('{SQLITE_PLUGIN}', 'sqlite-database-integration/load.php');
    await fsp.writeFile(path.join(content, 'db.php'), dropIn);
    await fsp.mkdir(path.join(content, 'database'), { recursive: true });
  }
  await fsp.writeFile(path.join(tmp, 'wp-config.php'), input.wpConfig, { mode: 0o600 });
  await fsp.rm(layout.dir, { recursive: true, force: true });
  await fsp.mkdir(path.dirname(layout.dir), { recursive: true });
  await fsp.rename(tmp, layout.dir);
}

export async function removeSiteFiles(layout: SiteLayout): Promise<void> {
  await fsp.rm(`${layout.dir}.tmp`, { recursive: true, force: true });
  await fsp.rm(layout.dir, { recursive: true, force: true });
}

/** Bytes on disk under a folder, for the disk-per-install figure. */
export function diskUsage(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}
