import fs from 'node:fs/promises';
import path from 'node:path';
import { parseChecksums, type Checksums } from '../checksums.js';
import { ReleaseError } from '../errors.js';
import { copyDereferenced } from '../files.js';
import { INSTALL_OWNED, type FetchedRelease, type ReleaseSource } from '../source.js';
import { readWordPressVersion } from '../version.js';
import { findWordPressRoot, unzipTo } from '../zip.js';
import type { WordPressOrgClient } from './wordpress-org.js';

export interface LocalSourceOptions {
  /** A WordPress zip (like wordpress.org's) or an unpacked WordPress folder. */
  from: string;
  /** A checksums file in wordpress.org's format. */
  checksumsFile?: string | undefined;
  /** Asked for the version's checksums when no file is given; null to never ask. */
  wordpressOrg: WordPressOrgClient | null;
}

/** A zip or folder the operator has: an offline mirror, or a version no other source offers. */
export class LocalSource implements ReleaseSource {
  readonly name = 'local';

  constructor(private readonly options: LocalSourceOptions) {}

  async available(): Promise<boolean> {
    return fs.stat(this.options.from).then(
      () => true,
      () => false,
    );
  }

  unavailableReason(): string {
    return `${this.options.from} does not exist`;
  }

  async fetch(version: string | undefined, into: string): Promise<FetchedRelease> {
    const from = path.resolve(this.options.from);
    const stat = await fs.stat(from);
    let root: string;
    if (stat.isDirectory()) {
      root = await findWordPressRoot(from);
      // Symlinks become real files, so the release does not depend on the folder staying put.
      await copyDereferenced(root, into, (rel) => INSTALL_OWNED.has(rel)).catch((err: unknown) => {
        throw new ReleaseError(
          'invalid',
          `cannot copy ${root}: ${err instanceof Error ? err.message : String(err)}`,
        );
      });
    } else {
      const unpacked = path.join(path.dirname(into), 'unzipped');
      await unzipTo(from, unpacked);
      root = await findWordPressRoot(unpacked, from);
      for (const name of INSTALL_OWNED) await fs.rm(path.join(root, name), { force: true });
      await fs.rename(root, into);
    }
    const found = await readWordPressVersion(into);
    if (version !== undefined && version !== found) {
      throw new ReleaseError('invalid', `${from} holds WordPress ${found}, not ${version}`);
    }
    const { checksums, against, notes } = await this.checksumsFor(found);
    return { version: found, origin: from, checksums, against, notes };
  }

  private async checksumsFor(
    version: string,
  ): Promise<{ checksums: Checksums | null; against: string; notes: string[] }> {
    const file = this.options.checksumsFile;
    if (file !== undefined) {
      let text: string;
      try {
        text = await fs.readFile(file, 'utf8');
      } catch {
        throw new ReleaseError('invalid', `cannot read the checksums file ${file}`);
      }
      return {
        checksums: parseChecksums(text, version, file),
        against: `the checksums in ${path.resolve(file)}`,
        notes: [],
      };
    }
    const client = this.options.wordpressOrg;
    if (client === null) return { checksums: null, against: 'nothing', notes: [] };
    try {
      return {
        checksums: await client.checksums(version),
        against: `wordpress.org's checksums for ${version} (en_US)`,
        notes: [],
      };
    } catch (err) {
      if (!(err instanceof ReleaseError)) throw err;
      return { checksums: null, against: 'nothing', notes: [err.message] };
    }
  }
}
