import type { Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Checksums } from '../checksums.js';
import { ReleaseError } from '../errors.js';
import { mapLimit } from '../files.js';
import type { UnpackedPackage } from './debian-package.js';

const posix = path.posix;

type Resolved =
  | { kind: 'dir'; virtual: string }
  | { kind: 'file'; virtual: string; pkg: UnpackedPackage; host: string }
  /** `virtual` is the whole path sought, some part of which no package has. */
  | { kind: 'missing'; virtual: string };

/**
 * The packages' files seen together as if they were installed: a symlink in one package that
 * points into another (wordpress → php-getid3, libjs-underscore…) resolves as it would on an
 * installed system, without installing anything.
 */
export class PackageUnion {
  constructor(private readonly packages: UnpackedPackage[]) {}

  private host(pkg: UnpackedPackage, virtual: string): string {
    return path.join(pkg.root, virtual);
  }

  private async lstatAny(
    virtual: string,
  ): Promise<{ pkg: UnpackedPackage; stat: Stats } | undefined> {
    for (const pkg of this.packages) {
      const stat = await fs.lstat(this.host(pkg, virtual)).catch(() => undefined);
      if (stat !== undefined) return { pkg, stat };
    }
    return undefined;
  }

  /** Follows symlinks anywhere along `virtual`, as the kernel would. */
  async resolve(virtual: string, hops = 0): Promise<Resolved> {
    const parts = virtual.split('/').filter((p) => p !== '');
    let current = '/';
    for (let i = 0; i < parts.length; i++) {
      const next = posix.join(current, parts[i] ?? '');
      const hit = await this.lstatAny(next);
      if (hit === undefined) {
        return { kind: 'missing', virtual: posix.join(next, ...parts.slice(i + 1)) };
      }
      if (hit.stat.isSymbolicLink()) {
        if (hops >= 40) throw new ReleaseError('invalid', `symlink loop at ${next}`);
        const target = await fs.readlink(this.host(hit.pkg, next));
        const base = posix.isAbsolute(target) ? target : posix.join(current, target);
        return this.resolve(posix.join(base, ...parts.slice(i + 1)), hops + 1);
      }
      if (i === parts.length - 1 && !hit.stat.isDirectory()) {
        return { kind: 'file', virtual: next, pkg: hit.pkg, host: this.host(hit.pkg, next) };
      }
      current = next;
    }
    return { kind: 'dir', virtual: current };
  }

  /** The names in a folder, merged over every package that has it. */
  async list(virtualDir: string): Promise<string[]> {
    const names = new Set<string>();
    for (const pkg of this.packages) {
      const entries = await fs.readdir(this.host(pkg, virtualDir)).catch(() => []);
      for (const name of entries) names.add(name);
    }
    return [...names].sort();
  }
}

/** Supplies a file none of the packages holds (the system CA bundle). */
export type MissingFile = (
  virtual: string,
  destination: string,
) => Promise<{ md5: string; note: string } | null>;

export interface Assembly {
  /** Expected md5 of each file written, from the md5sums of the package it came from. */
  checksums: Checksums;
  notes: string[];
}

/**
 * Lays out WordPress from the union as real files: `/usr/share/wordpress` less the install-owned
 * files at its top, with `/var/lib/wordpress/wp-content` merged into its wp-content (Debian
 * splits wp-content between the two and links the theme folders across).
 */
export class TreeBuilder {
  private readonly copies: { from: string; to: string }[] = [];
  /** Destination → virtual source path, to tell a repeat of the same file from a clash. */
  private readonly sources = new Map<string, string>();
  private readonly result: Assembly = { checksums: {}, notes: [] };

  constructor(
    private readonly union: PackageUnion,
    private readonly into: string,
    private readonly missing: MissingFile,
  ) {}

  async add(virtualDir: string, destRel: string, skip: (rel: string) => boolean): Promise<void> {
    await fs.mkdir(path.join(this.into, destRel), { recursive: true });
    for (const name of await this.union.list(virtualDir)) {
      const rel = destRel === '' ? name : `${destRel}/${name}`;
      if (skip(rel)) continue;
      const found = await this.union.resolve(posix.join(virtualDir, name));
      if (found.kind === 'dir') {
        await this.add(found.virtual, rel, skip);
      } else if (found.kind === 'file') {
        this.plan(found, rel);
      } else {
        await this.supplyMissing(posix.join(virtualDir, name), found.virtual, rel);
      }
    }
  }

  private plan(found: { virtual: string; pkg: UnpackedPackage; host: string }, rel: string): void {
    const earlier = this.sources.get(rel);
    if (earlier === found.virtual) return;
    if (earlier !== undefined) {
      throw new ReleaseError('invalid', `${rel} comes from both ${earlier} and ${found.virtual}`);
    }
    const md5 = found.pkg.md5sums[found.virtual.slice(1)];
    if (md5 === undefined) {
      throw new ReleaseError(
        'invalid',
        `${rel} comes from ${found.virtual}, which ${found.pkg.name}'s md5sums do not cover`,
      );
    }
    this.sources.set(rel, found.virtual);
    this.result.checksums[rel] = md5;
    this.copies.push({ from: found.host, to: path.join(this.into, rel) });
  }

  private async supplyMissing(link: string, target: string, rel: string): Promise<void> {
    const supplied = await this.missing(target, path.join(this.into, rel));
    if (supplied === null) {
      throw new ReleaseError('invalid', `${link} points to ${target}, which no package holds`);
    }
    this.sources.set(rel, target);
    this.result.checksums[rel] = supplied.md5;
    this.result.notes.push(supplied.note);
  }

  /** Copies everything planned; returns the checksums the copied tree must match. */
  async finish(): Promise<Assembly> {
    await mapLimit(this.copies, 16, ({ from, to }) => fs.copyFile(from, to));
    return this.result;
  }
}
