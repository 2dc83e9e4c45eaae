import fs from 'node:fs';
import path from 'node:path';

/** One backup's place in a store. */
export interface BackupKey {
  installId: string;
  backupId: string;
}

/**
 * Where backups are kept. A backup is written whole into a local staging folder and then
 * committed; reading one gives a local folder holding its parts. The local store keeps them under
 * `<data>/backups/<install id>/<backup id>/`; an S3-compatible store can implement the same
 * (commit = upload then delete the staging folder, open = download into a cache folder).
 */
export interface BackupStorage {
  /** An empty local folder to write the backup's parts into (emptied if a crash left one). */
  stage(key: BackupKey): Promise<string>;
  /** Makes the staged backup the stored one, atomically replacing any earlier copy. */
  commit(key: BackupKey): Promise<void>;
  /** A local folder with the stored backup's parts, or null if it is not stored. */
  open(key: BackupKey): Promise<string | null>;
  remove(key: BackupKey): Promise<void>;
  /** Bytes free where new backups are staged, for the check before a backup starts. */
  freeBytes(): Promise<number>;
}

export class LocalBackupStorage implements BackupStorage {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'backups');
  }

  dir(key: BackupKey): string {
    return path.join(this.root, key.installId, key.backupId);
  }

  private tmp(key: BackupKey): string {
    return `${this.dir(key)}.tmp`;
  }

  async stage(key: BackupKey): Promise<string> {
    const tmp = this.tmp(key);
    await fs.promises.rm(tmp, { recursive: true, force: true });
    await fs.promises.mkdir(tmp, { recursive: true });
    return tmp;
  }

  async commit(key: BackupKey): Promise<void> {
    const dir = this.dir(key);
    await fs.promises.rm(dir, { recursive: true, force: true });
    await fs.promises.rename(this.tmp(key), dir);
  }

  async open(key: BackupKey): Promise<string | null> {
    const dir = this.dir(key);
    try {
      await fs.promises.access(path.join(dir, 'manifest.json'));
      return dir;
    } catch {
      return null;
    }
  }

  async remove(key: BackupKey): Promise<void> {
    await fs.promises.rm(this.tmp(key), { recursive: true, force: true });
    await fs.promises.rm(this.dir(key), { recursive: true, force: true });
    const installDir = path.dirname(this.dir(key));
    try {
      await fs.promises.rmdir(installDir);
    } catch (err) {
      // Other backups of the install are still there (or it is gone already).
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOENT') throw err;
    }
  }

  async freeBytes(): Promise<number> {
    await fs.promises.mkdir(this.root, { recursive: true });
    const stats = await fs.promises.statfs(this.root);
    return stats.bavail * stats.bsize;
  }
}

/**
 * Whether a backup of about `needed` bytes fits: it must leave `reserve` bytes free. The parts
 * are compressed, so the install's size is an upper bound.
 */
export function fitsOnDisk(free: number, needed: number, reserve: number): boolean {
  return free - needed >= reserve;
}
