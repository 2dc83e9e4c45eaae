import fs from 'node:fs';
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
 */
export function writeSiteFiles(layout: SiteLayout, input: SiteFilesInput): void {
  if (fs.existsSync(layout.configFile)) return;
  const tmp = `${layout.dir}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  const content = path.join(tmp, 'wp-content');
  fs.cpSync(path.join(input.releaseDir, 'wp-content'), content, { recursive: true });
  fs.mkdirSync(path.join(content, 'mu-plugins'), { recursive: true });
  fs.mkdirSync(path.join(content, 'uploads'), { recursive: true });
  fs.copyFileSync(input.agentFile, path.join(content, 'mu-plugins', 'wpfleet-agent.php'));
  if (input.sqlitePluginDir !== null) {
    const plugin = path.join(content, 'plugins', 'sqlite-database-integration');
    fs.cpSync(input.sqlitePluginDir, plugin, { recursive: true });
    const dropIn = fs
      .readFileSync(path.join(plugin, 'db.copy'), 'utf8')
      .replace(
        '{SQLITE_IMPLEMENTATION_FOLDER_PATH}',
        '/wordpress/wp-content/plugins/sqlite-database-integration',
      )
      .replace('{SQLITE_PLUGIN}', 'sqlite-database-integration/load.php');
    fs.writeFileSync(path.join(content, 'db.php'), dropIn);
    fs.mkdirSync(path.join(content, 'database'), { recursive: true });
  }
  fs.writeFileSync(path.join(tmp, 'wp-config.php'), input.wpConfig, { mode: 0o600 });
  fs.rmSync(layout.dir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(layout.dir), { recursive: true });
  fs.renameSync(tmp, layout.dir);
}

export function removeSiteFiles(layout: SiteLayout): void {
  fs.rmSync(`${layout.dir}.tmp`, { recursive: true, force: true });
  fs.rmSync(layout.dir, { recursive: true, force: true });
}

/** Bytes on disk under a folder, for the disk-per-install figure. */
export function diskUsage(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}
