import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { md5File } from '../checksums.js';
import { ReleaseError } from '../errors.js';
import { exists, sweepStale } from '../files.js';
import { INSTALL_OWNED, type FetchedRelease, type ReleaseSource } from '../source.js';
import { readWordPressVersion } from '../version.js';
import { run, unpackDeb, verifyPackage, type UnpackedPackage } from './debian-package.js';
import { PackageUnion, TreeBuilder, type MissingFile } from './debian-tree.js';

/** WordPress, its default theme, and the packages its symlinks point into. */
export const WORDPRESS_PACKAGES = [
  'wordpress',
  'wordpress-theme-twentytwentythree',
  'php-getid3',
  'libjs-underscore',
  'libjs-cropper',
];

/** Where Debian's WordPress links its CA bundle; no package ships the file itself. */
const SYSTEM_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

export interface DebianSourceOptions {
  /** The downloaded .deb files are kept here and reused while apt says they are current. */
  cacheDir: string;
  /** Extra `-o Name=value` options for apt-get and apt-cache (tests point them elsewhere). */
  aptOptions?: string[];
  /** The machine's CA bundle; when it is missing one is built from the ca-certificates package. */
  caBundle?: string;
  progress?: (message: string) => void;
}

interface Candidate {
  name: string;
  version: string;
  architecture: string;
  sha256: string;
}

/**
 * Debian's `wordpress` packages, downloaded with apt-get and unpacked without installing them:
 * the offline source for machines that reach Debian's mirrors but not wordpress.org.
 */
export class DebianSource implements ReleaseSource {
  readonly name = 'debian';
  private reason = '';
  private listsUpdated = false;

  constructor(private readonly options: DebianSourceOptions) {}

  private say(message: string): void {
    this.options.progress?.(`debian: ${message}`);
  }

  private get apt(): string[] {
    return this.options.aptOptions ?? [];
  }

  async available(): Promise<boolean> {
    for (const tool of ['apt-get', 'apt-cache', 'dpkg-deb']) {
      try {
        await run(tool, ['--version']);
      } catch {
        this.reason = `${tool} is not installed`;
        return false;
      }
    }
    return true;
  }

  unavailableReason(): string {
    return this.reason;
  }

  /** The upstream version of apt's candidate: 1:6.1.9+dfsg1-0+deb12u1 is WordPress 6.1.9. */
  async newestVersion(): Promise<string> {
    const [wordpress] = await this.candidates(['wordpress']);
    return wordpress?.version.replace(/^\d+:/, '').replace(/[+~-].*$/, '') ?? 'nothing';
  }

  /** Debian's lists hold one WordPress: apt's candidate. */
  async offers(version: string): Promise<boolean> {
    return (await this.newestVersion()) === version;
  }

  async fetch(version: string | undefined, into: string): Promise<FetchedRelease> {
    const scratch = path.dirname(into);
    if (version !== undefined) {
      const upstream = await this.newestVersion();
      if (upstream !== version) {
        throw new ReleaseError(
          'not_offered',
          `Debian's packages offer WordPress ${upstream}, not ${version}`,
        );
      }
    }
    const packages = await this.unpackAll(WORDPRESS_PACKAGES, path.join(scratch, 'debian'));
    const union = new PackageUnion(packages);
    const builder = new TreeBuilder(union, into, this.supplyCaBundle(scratch));
    await builder.add('/usr/share/wordpress', '', (rel) => INSTALL_OWNED.has(rel));
    await builder.add('/var/lib/wordpress/wp-content', 'wp-content', () => false);
    const { checksums, notes } = await builder.finish();

    const found = await readWordPressVersion(into);
    if (version !== undefined && version !== found) {
      throw new ReleaseError(
        'not_offered',
        `Debian's packages hold WordPress ${found}, not ${version}`,
      );
    }
    const list = packages.map((p) => `${p.name} ${p.version}`).join(', ');
    return {
      version: found,
      origin: `Debian packages ${list}`,
      checksums,
      against: `the md5sums of Debian packages ${list}`,
      notes,
    };
  }

  /** Downloads (or reuses), unpacks and verifies each package. */
  private async unpackAll(names: string[], dir: string): Promise<UnpackedPackage[]> {
    const debs = await this.download(names);
    const packages: UnpackedPackage[] = [];
    for (const { candidate, file } of debs) {
      this.say(`unpacking ${candidate.name} ${candidate.version}`);
      const pkg = await unpackDeb(
        file,
        path.join(dir, candidate.name),
        candidate.name,
        candidate.version,
      );
      await verifyPackage(pkg);
      packages.push(pkg);
    }
    return packages;
  }

  /**
   * apt's candidate of each package, from its package lists. A fresh machine has empty lists,
   * so when a package is not found the lists are updated once and asked again.
   */
  private async candidates(names: string[]): Promise<Candidate[]> {
    const show = async (): Promise<Map<string, Candidate>> => {
      const out = await run('apt-cache', [
        ...this.apt,
        'show',
        '--no-all-versions',
        ...names,
      ]).catch(() => '');
      return parseStanzas(out);
    };
    let found = await show();
    if (names.some((n) => !found.has(n)) && !this.listsUpdated) {
      this.say('package lists lack WordPress; running apt-get update');
      this.listsUpdated = true;
      await run('apt-get', [...this.apt, 'update']).catch((err: unknown) => {
        throw new ReleaseError(
          'unreachable',
          `Debian's package lists are empty and apt-get update failed (${err instanceof Error ? err.message : String(err)}); run apt-get update as root`,
        );
      });
      found = await show();
    }
    return names.map((name) => {
      const candidate = found.get(name);
      if (candidate === undefined) {
        throw new ReleaseError('unreachable', `apt knows no package ${name}`);
      }
      return candidate;
    });
  }

  /**
   * The .deb of each candidate in the cache, checked against the SHA-256 in apt's signed lists,
   * so a cached file is as trustworthy as a fresh download; only missing or stale ones are
   * fetched.
   */
  private async download(names: string[]): Promise<{ candidate: Candidate; file: string }[]> {
    const cache = this.options.cacheDir;
    await fs.mkdir(cache, { recursive: true });
    await sweepStale(cache, '.incoming-', 6 * 3600_000);
    const wanted = (await this.candidates(names)).map((candidate) => ({
      candidate,
      file: path.join(
        cache,
        `${candidate.name}_${candidate.version.replace(/:/g, '%3a')}_${candidate.architecture}.deb`,
      ),
    }));
    const stale = [];
    for (const deb of wanted) {
      if (!(await sha256Matches(deb.file, deb.candidate.sha256))) stale.push(deb);
    }
    if (stale.length > 0) {
      this.say(`downloading ${stale.map((d) => d.candidate.name).join(', ')}`);
      // Into a private folder first, then renamed in: another process sharing the cache never
      // reads a file that is still being written.
      const incoming = await fs.mkdtemp(path.join(cache, '.incoming-'));
      try {
        await run(
          'apt-get',
          [
            ...this.apt,
            'download',
            ...stale.map((d) => `${d.candidate.name}=${d.candidate.version}`),
          ],
          incoming,
        );
        for (const deb of stale) {
          const fresh = path.join(incoming, path.basename(deb.file));
          if (!(await sha256Matches(fresh, deb.candidate.sha256))) {
            throw new ReleaseError(
              'checksum_mismatch',
              `${path.basename(deb.file)} does not match the SHA-256 in apt's package lists; refused`,
            );
          }
          await fs.rename(fresh, deb.file);
        }
      } finally {
        await fs.rm(incoming, { recursive: true, force: true });
      }
    }
    return wanted;
  }

  /** The one file WordPress links outside any package it needs: the CA bundle. */
  private supplyCaBundle(scratch: string): MissingFile {
    return async (virtual, destination) => {
      if (virtual !== SYSTEM_CA_BUNDLE) return null;
      const system = this.options.caBundle ?? SYSTEM_CA_BUNDLE;
      if (await exists(system)) {
        await fs.copyFile(system, destination);
        return {
          md5: await md5File(system),
          note: `wp-includes/certificates/ca-bundle.crt is this machine's ${system}, which no package checksum covers`,
        };
      }
      const [pkg] = await this.unpackAll(['ca-certificates'], path.join(scratch, 'debian'));
      if (pkg === undefined) return null;
      const mozilla = path.join(pkg.root, 'usr/share/ca-certificates/mozilla');
      const certs = (await fs.readdir(mozilla)).filter((n) => n.endsWith('.crt')).sort();
      const parts = await Promise.all(certs.map((n) => fs.readFile(path.join(mozilla, n))));
      const bundle = Buffer.concat(parts);
      await fs.writeFile(destination, bundle);
      return {
        md5: createHash('md5').update(bundle).digest('hex'),
        note: `wp-includes/certificates/ca-bundle.crt is built from the ${certs.length} certificates of Debian package ca-certificates ${pkg.version}`,
      };
    };
  }
}

function parseStanzas(text: string): Map<string, Candidate> {
  const found = new Map<string, Candidate>();
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (name: string): string | undefined =>
      new RegExp(`^${name}: *(.+)$`, 'm').exec(stanza)?.[1]?.trim();
    const name = field('Package');
    const version = field('Version');
    const architecture = field('Architecture');
    const sha256 = field('SHA256');
    if (name === undefined || version === undefined || architecture === undefined) continue;
    if (sha256 === undefined || found.has(name)) continue;
    found.set(name, { name, version, architecture, sha256 });
  }
  return found;
}

async function sha256Matches(file: string, sha256: string): Promise<boolean> {
  try {
    const hash = createHash('sha256')
      .update(await fs.readFile(file))
      .digest('hex');
    return hash === sha256.toLowerCase();
  } catch {
    return false;
  }
}
