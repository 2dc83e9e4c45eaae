import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { InstallRow } from '../../core/installs/installs.repository.js';
import type { SnapshotRecord, UpdateSnapshots, UpdateTarget } from '../../core/updates/ports.js';
import type { Store } from '../../core/store.js';
import { backupSqlite, dumpMysql, loadMysql, type MysqlTarget } from '../backups/database.js';
import { installMysql, type MysqlAdmin } from '../databases/mysql-admin.js';
import type { PhpRuntime } from '../php/types.js';
import { diskUsage, siteLayout, SQLITE_DATABASE } from '../sites/site-files.js';

const SQLITE_COPY = 'database.sqlite';
const MYSQL_DUMP = 'database.sql';

export interface SnapshotDeps {
  dataDir: string;
  store: Store;
  runtime: Pick<PhpRuntime, 'unload'>;
  mysql: MysqlAdmin | null;
}

/** The paths under wp-content an update of `target` may write: a plugin is a folder or a file. */
function touchedPaths(target: UpdateTarget): string[] {
  return target.kind === 'plugin'
    ? [`plugins/${target.slug}`, `plugins/${target.slug}.php`]
    : [`themes/${target.slug}`];
}

/**
 * Snapshots for safe updates, in `<data>/<dir>`: the database (SQLite's online backup, or a
 * dump of the install's MySQL database) and a copy of each folder or file the update may write
 * under wp-content. Nothing else of the install is copied: an update writes nothing else
 * (WordPress's upgrader replaces the item's folder; the database holds the rest).
 */
export class UpdateSnapshotStore implements UpdateSnapshots {
  constructor(private readonly deps: SnapshotDeps) {}

  async take(installId: string, dir: string, targets: UpdateTarget[]): Promise<SnapshotRecord> {
    const install = await this.install(installId);
    const { contentDir } = siteLayout(this.deps.dataDir, install.id);
    const abs = path.join(this.deps.dataDir, dir);
    // What an interrupted attempt left is not a snapshot: it is taken again, whole.
    await fsp.rm(abs, { recursive: true, force: true });
    await fsp.mkdir(path.join(abs, 'files'), { recursive: true });
    const prefix = install.table_prefix;
    if (prefix === null) throw new Error(`install ${install.name} has no WordPress database yet`);
    const touched = [...new Set(targets.flatMap(touchedPaths))];
    const paths: string[] = [];
    for (const rel of touched) {
      const live = path.join(contentDir, rel);
      if (!fs.existsSync(live)) continue;
      await fsp.cp(live, path.join(abs, 'files', rel), {
        recursive: true,
        verbatimSymlinks: true,
        preserveTimestamps: true,
      });
      paths.push(rel);
    }
    const mysql = this.mysqlOf(install);
    if (mysql === null) {
      await backupSqlite(
        path.join(contentDir, SQLITE_DATABASE),
        path.join(abs, SQLITE_COPY),
        prefix,
      );
    } else {
      await dumpMysql(mysql, path.join(abs, MYSQL_DUMP), prefix);
    }
    return {
      dir,
      database: mysql === null ? 'sqlite' : 'mysql',
      touched,
      paths,
      bytes: await diskUsage(abs),
    };
  }

  async restore(installId: string, snapshot: SnapshotRecord): Promise<void> {
    const install = await this.install(installId);
    const { contentDir } = siteLayout(this.deps.dataDir, install.id);
    const abs = path.join(this.deps.dataDir, snapshot.dir);
    // PHP lets go of the updated code and of the database file before they are replaced.
    await this.deps.runtime.unload(install.id);
    for (const rel of snapshot.touched) {
      await fsp.rm(path.join(contentDir, rel), { recursive: true, force: true });
    }
    for (const rel of snapshot.paths) {
      await fsp.cp(path.join(abs, 'files', rel), path.join(contentDir, rel), {
        recursive: true,
        verbatimSymlinks: true,
        preserveTimestamps: true,
      });
    }
    if (snapshot.database === 'sqlite') {
      const live = path.join(contentDir, SQLITE_DATABASE);
      const incoming = `${live}.restore`;
      await fsp.copyFile(path.join(abs, SQLITE_COPY), incoming);
      // A journal of the updated database must not be replayed onto the snapshot.
      for (const suffix of ['-wal', '-shm', '-journal']) {
        await fsp.rm(`${live}${suffix}`, { force: true });
      }
      await fsp.rename(incoming, live);
    } else {
      const mysql = this.mysqlOf(install);
      if (mysql === null)
        throw new Error('the snapshot is of a MySQL database; the install has none');
      await loadMysql(mysql, path.join(abs, MYSQL_DUMP));
    }
    await this.deps.runtime.unload(install.id);
  }

  async discard(snapshot: SnapshotRecord): Promise<void> {
    await fsp.rm(path.join(this.deps.dataDir, snapshot.dir), { recursive: true, force: true });
  }

  private async install(installId: string): Promise<InstallRow> {
    const install = await this.deps.store.read.installs.findAny(installId);
    if (install === undefined) throw new Error(`install ${installId} is gone`);
    return install;
  }

  private mysqlOf(install: InstallRow): MysqlTarget | null {
    const mysql = installMysql(install, this.deps.mysql);
    return mysql === null ? null : mysql.admin.targetFor(mysql.db);
  }
}
