import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

/**
 * Hands a package (a plugin, theme or translation zip the control plane has on disk) to an
 * install's agent. PHP cannot fetch it itself: the network gate refuses private addresses and
 * the machine may be offline. So the zip is copied into the install's own files, under a random
 * name the agent accepts only as a bare file name, and removed when the work is done.
 */
export const PACKAGES_FOLDER = 'upgrade-packages';

/** The agent's pattern for a package name (agent/wpfleet-agent/upgrader.php). */
export const PACKAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}\.zip$/;

/**
 * Copies `zipFile` to `<contentDir>/upgrade-packages/<random>.zip`, runs `work` with that name,
 * and deletes the copy afterwards, whether `work` succeeded or not.
 */
export async function withPackageInInstall<T>(
  contentDir: string,
  zipFile: string,
  work: (packageName: string) => Promise<T>,
): Promise<T> {
  const source = await fsp.stat(zipFile);
  if (!source.isFile()) throw new Error(`${zipFile} is not a file`);
  const folder = await packagesFolder(contentDir);
  const name = `${randomBytes(16).toString('hex')}.zip`;
  const target = path.join(folder, name);
  try {
    // EXCL: never write through something the install put there under that name.
    await fsp.copyFile(zipFile, target, constants.COPYFILE_EXCL);
    return await work(name);
  } finally {
    await fsp.rm(target, { force: true });
  }
}

/**
 * The install's packages folder, made if missing. The install's PHP can write in wp-content, so
 * what is there is checked: a symbolic link instead of a folder (from a restored backup, say)
 * would send the copy outside the install.
 */
async function packagesFolder(contentDir: string): Promise<string> {
  const content = await fsp.lstat(contentDir);
  if (!content.isDirectory()) throw new Error(`${contentDir} is not a folder`);
  const folder = path.join(contentDir, PACKAGES_FOLDER);
  await fsp.mkdir(folder, { recursive: true });
  const stat = await fsp.lstat(folder);
  if (!stat.isDirectory()) {
    throw new Error(`${folder} is not a folder (a link or a file is in its place)`);
  }
  return folder;
}
