import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureSqlitePlugin, renderDbDropIn } from '../../src/runtime/releases/index.js';
import { tempDir } from './releases-fixtures.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
});

describe('the SQLite integration plugin', () => {
  it('is unpacked once from @wp-playground/wordpress-builds into the data folder', async () => {
    const data = await tempDir('sqlite');
    dirs.push(data);
    const [plugin, concurrent] = await Promise.all([
      ensureSqlitePlugin(data),
      ensureSqlitePlugin(data),
    ]);
    expect(concurrent).toEqual(plugin);
    expect(plugin.dir).toBe(path.join(data, 'plugins', 'sqlite-database-integration'));
    expect(plugin.version).toMatch(/^\d+\.\d+\.\d+$/);
    for (const rel of ['load.php', 'db.copy', 'wp-includes/sqlite/db.php']) {
      expect((await fs.stat(path.join(plugin.dir, rel))).isFile(), rel).toBe(true);
    }
    expect(plugin.dbCopy).toBe(path.join(plugin.dir, 'db.copy'));
    expect(await fs.readdir(path.join(data, 'plugins'))).toEqual(['sqlite-database-integration']);

    const before = (await fs.stat(path.join(plugin.dir, 'load.php'))).mtimeMs;
    const again = await ensureSqlitePlugin(data);
    expect(again).toEqual(plugin);
    expect((await fs.stat(path.join(plugin.dir, 'load.php'))).mtimeMs).toBe(before);
  });

  it('renders the db.php drop-in pointed at the plugin', async () => {
    const data = await tempDir('sqlite');
    dirs.push(data);
    const plugin = await ensureSqlitePlugin(data);
    const dropIn = await renderDbDropIn(plugin, '/wordpress/wp-content/plugins/sqlite');
    expect(dropIn).toContain("= '/wordpress/wp-content/plugins/sqlite';");
    expect(dropIn).toContain("'sqlite-database-integration/load.php'");
    expect(dropIn).not.toMatch(/\{SQLITE_[A-Z_]+\}/);
  });
});
