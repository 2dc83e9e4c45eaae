import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { assertMatches, checkTree, type Checksums } from '../checksums.js';
import { ReleaseError } from '../errors.js';

const exec = promisify(execFile);

/** One .deb unpacked with `dpkg-deb -x` (files) and `-e` (control files), never installed. */
export interface UnpackedPackage {
  name: string;
  version: string;
  /** What would be `/` had it been installed. */
  root: string;
  /** DEBIAN/md5sums: md5 per path relative to `root` (no leading slash). */
  md5sums: Checksums;
  /** DEBIAN/conffiles: absolute paths; dpkg lists no md5 for them. */
  conffiles: Set<string>;
}

export async function run(command: string, args: string[], cwd?: string): Promise<string> {
  try {
    const { stdout } = await exec(command, args, {
      maxBuffer: 64 * 1024 * 1024,
      ...(cwd === undefined ? {} : { cwd }),
    });
    return stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      throw new ReleaseError('unreachable', `${command} is not installed`);
    }
    const detail = (e.stderr ?? '').trim().split('\n').filter(Boolean).pop() ?? e.message;
    throw new ReleaseError('unreachable', `${command} ${args[0] ?? ''} failed: ${detail}`);
  }
}

export function parseMd5sums(text: string): Checksums {
  const sums: Checksums = {};
  for (const line of text.split('\n')) {
    const match = /^([0-9a-f]{32})\s+(.+)$/.exec(line.trim());
    if (match?.[1] !== undefined && match[2] !== undefined) sums[match[2]] = match[1];
  }
  return sums;
}

export async function unpackDeb(
  deb: string,
  dir: string,
  name: string,
  version: string,
): Promise<UnpackedPackage> {
  const root = path.join(dir, 'root');
  const control = path.join(dir, 'control');
  await fs.mkdir(dir, { recursive: true });
  await run('dpkg-deb', ['-x', deb, root]);
  await run('dpkg-deb', ['-e', deb, control]);
  const md5sums = parseMd5sums(
    await fs.readFile(path.join(control, 'md5sums'), 'utf8').catch(() => {
      throw new ReleaseError('invalid', `${path.basename(deb)} has no md5sums to verify against`);
    }),
  );
  const conffiles = new Set(
    (await fs.readFile(path.join(control, 'conffiles'), 'utf8').catch(() => ''))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('/')),
  );
  return { name, version, root, md5sums, conffiles };
}

/**
 * Every file of an unpacked package against the package's own md5sums: a changed, missing or
 * extra file (other than a conffile, which dpkg lists without a sum) refuses the package.
 */
export async function verifyPackage(pkg: UnpackedPackage): Promise<void> {
  const report = await checkTree(pkg.root, pkg.md5sums);
  report.unlisted = report.unlisted.filter((rel) => !pkg.conffiles.has(`/${rel}`));
  assertMatches(report, `Debian package ${pkg.name} ${pkg.version}`, 'its md5sums', {
    strict: true,
    ignoreNotFiles: true,
  });
}
