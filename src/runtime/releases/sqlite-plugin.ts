import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { unzipTo } from './zip.js';

/** The official SQLite integration plugin, unpacked once and shared by every SQLite install. */
export interface SqlitePlugin {
  /** The plugin folder (holds load.php and wp-includes/sqlite/). */
  dir: string;
  /** The plugin's version, from its header. */
  version: string;
  /** The drop-in to install as wp-content/db.php, with its placeholders still in it. */
  dbCopy: string;
}

const SLUG = 'sqlite-database-integration';

/**
 * The one thing wpfleet takes from Playground's builds (their WordPress zips are stripped). It
 * is a file of the package, not an export, so it is found from the package's folder.
 */
function bundledZip(): string {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve('@wp-playground/wordpress-builds/package.json');
  return path.join(path.dirname(packageJson), 'src', SLUG, `${SLUG}.zip`);
}

async function readPlugin(dir: string): Promise<SqlitePlugin | null> {
  const load = await fs.readFile(path.join(dir, 'load.php'), 'utf8').catch(() => null);
  if (load === null) return null;
  const version = /^\s*\*\s*Version:\s*(\S+)/m.exec(load)?.[1] ?? 'unknown';
  return { dir, version, dbCopy: path.join(dir, 'db.copy') };
}

/**
 * `<data>/plugins/sqlite-database-integration/`, unpacked from the npm package on first use and
 * reused after. The unpacking happens beside the target and is renamed in, so a crash or a
 * concurrent caller never leaves a partial plugin.
 */
export async function ensureSqlitePlugin(dataDir: string): Promise<SqlitePlugin> {
  const plugins = path.join(dataDir, 'plugins');
  const dir = path.join(plugins, SLUG);
  const present = await readPlugin(dir);
  if (present !== null) return present;

  await fs.mkdir(plugins, { recursive: true });
  const scratch = path.join(plugins, `.${SLUG}-${randomBytes(6).toString('hex')}`);
  try {
    await unzipTo(bundledZip(), scratch);
    // The zip holds one folder (sqlite-database-integration-main/).
    const [top] = await fs.readdir(scratch);
    const root = top === undefined ? scratch : path.join(scratch, top);
    await fs.rename(root, dir).catch((err: unknown) => {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    });
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
  const plugin = await readPlugin(dir);
  if (plugin === null) throw new Error(`${bundledZip()} holds no SQLite plugin (no load.php)`);
  return plugin;
}

/**
 * The db.php drop-in for an install, pointed at the plugin as PHP sees it (`pluginDir`, which
 * differs from `dir` when the runtime mounts the plugin elsewhere).
 */
export async function renderDbDropIn(plugin: SqlitePlugin, pluginDir: string): Promise<string> {
  const template = await fs.readFile(plugin.dbCopy, 'utf8');
  return template
    .replaceAll('{SQLITE_IMPLEMENTATION_FOLDER_PATH}', pluginDir)
    .replaceAll('{SQLITE_PLUGIN}', `${SLUG}/load.php`);
}
