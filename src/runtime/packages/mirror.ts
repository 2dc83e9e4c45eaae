import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ValidationError } from '../../core/errors.js';
import { BrokenPackageError } from '../../core/packages/package-errors.js';
import type { LocalPackage, PackageKind } from '../../core/packages/package-source.js';
import { newestFirst } from '../../core/packages/version-compare.js';
import { inspectPackage, type PackageManifest } from './inspect.js';

/** One stored version of a slug. */
export interface MirrorFile {
  version: string;
  /** Relative to the mirror's directory. */
  file: string;
  sha256: string;
  bytes: number;
  added_at: string;
}

export interface MirrorPackage {
  kind: PackageKind;
  slug: string;
  /** The name in the newest version's header. */
  name: string;
  /** Newest first. */
  versions: MirrorFile[];
}

export interface MirrorAddResult extends PackageManifest {
  file: string;
  sha256: string;
  /** `unchanged`: that version with the same bytes was there already. */
  status: 'added' | 'unchanged' | 'replaced';
}

/** Re-adding a version with other bytes, without --force. */
export class MirrorConflictError extends ValidationError {
  readonly code = 'mirror_conflict';
  constructor(message: string) {
    super('Package', [
      { resource: 'Package', field: 'version', type: 'invalid_value', code: 'taken', message },
    ]);
    this.name = 'MirrorConflictError';
    this.message = message;
  }
}

interface IndexEntry {
  name: string;
  versions: Map<string, MirrorFile>;
}
type Index = Record<PackageKind, Map<string, IndexEntry>>;

const INDEX = 'index.json';
const LOCK = 'index.lock';
const FORMAT = 1;
/** A version is part of a file name: nothing that walks paths. */
const VERSION = /^[0-9A-Za-z][0-9A-Za-z.+_~-]{0,63}$/;
const LOCK_WAIT_MS = 15_000;
/** A lock this old was left by a process that died while adding. */
const LOCK_STALE_MS = 120_000;

/**
 * The offline mirror: `<dir>/plugins/<slug>/<slug>.<version>.zip` and the same for themes, with
 * `<dir>/index.json` naming each. Only `add` writes it, under a lock file (two adds at once do
 * not lose each other's entries); the index is replaced by a rename, so a reader sees the old
 * index or the new one, and a zip is in place before the index names it.
 */
export class PackageMirror {
  constructor(readonly dir: string) {}

  async list(): Promise<MirrorPackage[]> {
    const index = await this.readIndex();
    const out: MirrorPackage[] = [];
    for (const kind of ['plugin', 'theme'] as const) {
      const slugs = [...index[kind].keys()].sort();
      for (const slug of slugs) {
        const entry = index[kind].get(slug);
        if (entry !== undefined) out.push(present(kind, slug, entry));
      }
    }
    return out;
  }

  async find(kind: PackageKind, slug: string): Promise<MirrorPackage | null> {
    const entry = (await this.readIndex())[kind].get(slug);
    return entry === undefined ? null : present(kind, slug, entry);
  }

  /**
   * The stored zip of one version, checked against the index's SHA-256 (the files sit on disk
   * where anyone with access could change them); null when that version is not there.
   */
  async file(kind: PackageKind, slug: string, version: string): Promise<LocalPackage | null> {
    const stored = (await this.readIndex())[kind].get(slug)?.versions.get(version);
    if (stored === undefined) return null;
    const file = path.join(this.dir, stored.file);
    const sha256 = await sha256File(file).catch(() => null);
    if (sha256 !== stored.sha256) {
      // Said without the path: the message may reach an API client.
      throw new BrokenPackageError(
        `The mirror's copy of ${kind} ${slug} ${version} is ${sha256 === null ? 'missing' : 'not the file its index names'}; ` +
          'add it again with `wpfleet mirror add --force`',
      );
    }
    return { kind, slug, version, file, sha256 };
  }

  /**
   * Adds one zip: its kind, slug, name and version come from its headers. The same version
   * with the same bytes changes nothing; with other bytes it is refused unless `force`.
   */
  async add(
    zipFile: string,
    options: { force?: boolean; kind?: PackageKind } = {},
  ): Promise<MirrorAddResult> {
    // A private copy is inspected and stored, so what is kept is exactly what was checked.
    const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'wpfleet-mirror-add-'));
    try {
      const copy = path.join(scratch, 'package.zip');
      await fs.copyFile(path.resolve(zipFile), copy).catch((err: unknown) => {
        const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
        throw new BrokenPackageError(
          `${zipFile}: ${code === 'ENOENT' ? 'no such file' : `cannot be read (${code})`}`,
        );
      });
      return await this.store(copy, zipFile, options);
    } finally {
      await fs.rm(scratch, { recursive: true, force: true });
    }
  }

  private async store(
    copy: string,
    label: string,
    options: { force?: boolean; kind?: PackageKind },
  ): Promise<MirrorAddResult> {
    const manifest = await inspectPackage(copy, label, options.kind);
    if (manifest.version === '') {
      throw new BrokenPackageError(
        `${label}: the ${manifest.kind} ${manifest.slug} has no Version: header; the mirror keeps packages by version`,
      );
    }
    if (!VERSION.test(manifest.version)) {
      throw new BrokenPackageError(
        `${label}: the version "${manifest.version}" cannot name a file in the mirror`,
      );
    }
    const sha256 = await sha256File(copy);
    const { size } = await fs.stat(copy);
    const rel = path.posix.join(
      `${manifest.kind}s`,
      manifest.slug,
      `${manifest.slug}.${manifest.version}.zip`,
    );
    const target = path.join(this.dir, rel);

    return this.locked(async () => {
      const index = await this.readIndex();
      const entry = index[manifest.kind].get(manifest.slug);
      const existing = entry?.versions.get(manifest.version);
      let status: MirrorAddResult['status'] = 'added';
      if (existing !== undefined) {
        const onDisk = await sha256File(target).catch(() => null);
        if (existing.sha256 === sha256 && onDisk === sha256) {
          return { ...manifest, file: target, sha256, status: 'unchanged' };
        }
        if (existing.sha256 !== sha256 && options.force !== true) {
          throw new MirrorConflictError(
            `${label}: the mirror already has ${manifest.kind} ${manifest.slug} ${manifest.version} ` +
              `with other contents (sha256 ${existing.sha256.slice(0, 12)}…, this zip ${sha256.slice(0, 12)}…); ` +
              'use --force to replace it',
          );
        }
        // Same bytes but the stored file is gone or damaged: put it back.
        status = 'replaced';
      }
      await fs.mkdir(path.dirname(target), { recursive: true });
      const incoming = `${target}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        await fs.copyFile(copy, incoming);
        if ((await sha256File(incoming)) !== sha256) {
          throw new Error(`copying ${label} into the mirror gave other bytes; try again`);
        }
        await fs.rename(incoming, target);
      } finally {
        await fs.rm(incoming, { force: true });
      }
      const versions = entry?.versions ?? new Map<string, MirrorFile>();
      versions.set(manifest.version, {
        version: manifest.version,
        file: rel,
        sha256,
        bytes: size,
        added_at: new Date().toISOString(),
      });
      const newest = newestFirst(versions.keys())[0];
      index[manifest.kind].set(manifest.slug, {
        // The name follows the newest version's header.
        name: newest === manifest.version || entry === undefined ? manifest.name : entry.name,
        versions,
      });
      await this.writeIndex(index);
      return { ...manifest, file: target, sha256, status };
    });
  }

  /**
   * Removes one version of a slug, or every version when `version` is undefined; the index
   * stops naming them first, then the zips go. Returns the versions removed (none: not there).
   */
  async remove(kind: PackageKind, slug: string, version?: string): Promise<string[]> {
    return this.locked(async () => {
      const index = await this.readIndex();
      const entry = index[kind].get(slug);
      if (entry === undefined) return [];
      const gone =
        version === undefined
          ? [...entry.versions.keys()]
          : entry.versions.has(version)
            ? [version]
            : [];
      if (gone.length === 0) return [];
      const files = gone.flatMap((v) => {
        const stored = entry.versions.get(v);
        entry.versions.delete(v);
        return stored === undefined ? [] : [path.join(this.dir, stored.file)];
      });
      if (entry.versions.size === 0) index[kind].delete(slug);
      await this.writeIndex(index);
      for (const file of files) await fs.rm(file, { force: true });
      await fs.rmdir(path.join(this.dir, `${kind}s`, slug)).catch(() => undefined);
      return newestFirst(gone);
    });
  }

  private async readIndex(): Promise<Index> {
    let text: string;
    try {
      text = await fs.readFile(path.join(this.dir, INDEX), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyIndex();
      throw err;
    }
    return parseIndex(text, path.join(this.dir, INDEX));
  }

  private async writeIndex(index: Index): Promise<void> {
    const json: Record<string, unknown> = { format: FORMAT };
    for (const kind of ['plugin', 'theme'] as const) {
      const slugs: Record<string, unknown> = {};
      for (const slug of [...index[kind].keys()].sort()) {
        const entry = index[kind].get(slug);
        if (entry === undefined) continue;
        const versions: Record<string, unknown> = {};
        for (const stored of present(kind, slug, entry).versions) {
          const { version, ...rest } = stored;
          versions[version] = rest;
        }
        slugs[slug] = { name: entry.name, versions };
      }
      json[`${kind}s`] = slugs;
    }
    const file = path.join(this.dir, INDEX);
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await fs.writeFile(tmp, `${JSON.stringify(json, null, 2)}\n`);
    await fs.rename(tmp, file);
  }

  private async locked<T>(work: () => Promise<T>): Promise<T> {
    await fs.mkdir(this.dir, { recursive: true });
    const lock = path.join(this.dir, LOCK);
    const started = Date.now();
    for (;;) {
      try {
        await fs.writeFile(lock, `${process.pid}\n`, { flag: 'wx' });
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const stat = await fs.stat(lock).catch(() => null);
        if (stat !== null && Date.now() - stat.mtimeMs > LOCK_STALE_MS) {
          await fs.rm(lock, { force: true });
          continue;
        }
        if (Date.now() - started > LOCK_WAIT_MS) {
          throw new Error(`the mirror ${this.dir} is locked by another add (${lock})`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    try {
      return await work();
    } finally {
      await fs.rm(lock, { force: true });
    }
  }
}

function present(kind: PackageKind, slug: string, entry: IndexEntry): MirrorPackage {
  const versions = newestFirst(entry.versions.keys()).flatMap((v) => {
    const file = entry.versions.get(v);
    return file === undefined ? [] : [file];
  });
  return { kind, slug, name: entry.name, versions };
}

function emptyIndex(): Index {
  return { plugin: new Map(), theme: new Map() };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** index.json is wpfleet's own file, but a hand edit must fail clearly, not half-work. */
function parseIndex(text: string, file: string): Index {
  const bad = (why: string): Error => new Error(`the mirror's index ${file} is damaged: ${why}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw bad('not JSON');
  }
  if (!isRecord(json) || json.format !== FORMAT) throw bad(`not format ${FORMAT}`);
  const index = emptyIndex();
  for (const kind of ['plugin', 'theme'] as const) {
    const slugs = json[`${kind}s`] ?? {};
    if (!isRecord(slugs)) throw bad(`"${kind}s" is not an object`);
    for (const [slug, raw] of Object.entries(slugs)) {
      if (!isRecord(raw) || typeof raw.name !== 'string' || !isRecord(raw.versions)) {
        throw bad(`${kind} ${slug} has no name or versions`);
      }
      const versions = new Map<string, MirrorFile>();
      for (const [version, v] of Object.entries(raw.versions)) {
        if (
          !isRecord(v) ||
          typeof v.file !== 'string' ||
          typeof v.sha256 !== 'string' ||
          typeof v.bytes !== 'number' ||
          typeof v.added_at !== 'string' ||
          !VERSION.test(version) ||
          v.file.split('/').includes('..') ||
          path.isAbsolute(v.file)
        ) {
          throw bad(`${kind} ${slug} ${version} is malformed`);
        }
        versions.set(version, {
          version,
          file: v.file,
          sha256: v.sha256,
          bytes: v.bytes,
          added_at: v.added_at,
        });
      }
      index[kind].set(slug, { name: raw.name, versions });
    }
  }
  return index;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
