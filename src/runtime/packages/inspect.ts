import path from 'node:path';
import { BrokenPackageError } from '../../core/packages/package-errors.js';
import type { PackageKind } from '../../core/packages/package-source.js';
import { fileHeader, HEADER_BYTES } from './headers.js';
import { ZipArchive, ZipFormatError, type ZipEntry } from './zip-reader.js';

/** What a package zip says it is. */
export interface PackageManifest {
  kind: PackageKind;
  /** The zip's one top folder: the name WordPress installs it under. */
  slug: string;
  name: string;
  /** The header's `Version:`; '' when it has none. */
  version: string;
}

/** Folder names WordPress could install into; nothing that walks paths. */
export const SLUG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$/;

/** WordPress's upgrader strings, which an install from such a zip would report. */
const INCOMPATIBLE = 'The package could not be installed.';
const NO_PLUGINS = 'No valid plugins were found.';

/** Zips made on macOS carry resource forks beside the real folder; unzip users ignore them. */
const IGNORED_TOP = new Set(['__MACOSX']);

/**
 * Reads a plugin or theme zip the way WordPress's upgrader checks one: exactly one top folder
 * (the slug), and in it a PHP file with a `Plugin Name:` header (Plugin_Upgrader::check_package)
 * or a style.css with `Theme Name:` and an index template (Theme_Upgrader::check_package).
 * Every entry is read once, so a damaged zip is refused here. `label` names the zip in errors.
 */
export async function inspectPackage(
  file: string,
  label: string,
  kind?: PackageKind,
): Promise<PackageManifest> {
  let zip: ZipArchive;
  try {
    zip = await ZipArchive.open(file);
  } catch (err) {
    throw broken(label, 'Incompatible Archive.', err);
  }
  try {
    const manifest = await readManifest(zip, label, kind);
    try {
      await zip.verifyAll();
    } catch (err) {
      throw broken(label, 'Incompatible Archive.', err);
    }
    return manifest;
  } finally {
    await zip.close();
  }
}

/** A zip the reader refused is WordPress's "Incompatible Archive."; anything else is rethrown. */
function broken(label: string, text: string, err: unknown): BrokenPackageError {
  if (err instanceof ZipFormatError) {
    return new BrokenPackageError(`${label}: ${text} (${err.message})`);
  }
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES') {
    return new BrokenPackageError(`${label}: cannot be read (${code})`);
  }
  throw err;
}

async function readManifest(
  zip: ZipArchive,
  label: string,
  kind: PackageKind | undefined,
): Promise<PackageManifest> {
  const files = zip.entries.filter((e) => !IGNORED_TOP.has(e.name.split('/')[0] ?? ''));
  const tops = [...new Set(files.map((e) => e.name.split('/')[0] ?? ''))].filter((t) => t !== '');
  const what = kind === 'theme' ? 'theme' : kind === 'plugin' ? 'plugin' : 'plugin or theme';
  if (files.length === 0) {
    throw new BrokenPackageError(
      `${label}: ${INCOMPATIBLE} The package is empty (no files in the zip).`,
    );
  }
  const [slug] = tops;
  if (
    tops.length !== 1 ||
    slug === undefined ||
    !files.some((e) => e.name.startsWith(`${slug}/`))
  ) {
    const listed = tops.slice(0, 5).join(', ') + (tops.length > 5 ? ', …' : '');
    throw new BrokenPackageError(
      `${label}: ${INCOMPATIBLE} A ${what} zip holds exactly one folder, named for its slug; ` +
        `this one holds ${tops.length} entries at its top (${listed}).`,
    );
  }
  if (!SLUG.test(slug)) {
    throw new BrokenPackageError(
      `${label}: ${INCOMPATIBLE} Its folder "${slug}" is not a usable slug (letters, digits, ` +
        '".", "-", "_").',
    );
  }
  const inFolder = (entry: ZipEntry): string | null => {
    const rest = entry.name.slice(slug.length + 1);
    return entry.isDirectory || rest.includes('/') || rest === '' ? null : rest;
  };
  const top = new Map<string, ZipEntry>();
  for (const entry of files) {
    const rest = inFolder(entry);
    if (rest !== null) top.set(rest, entry);
  }
  const has = (rel: string): boolean => files.some((e) => e.name === `${slug}/${rel}`);
  const text = async (entry: ZipEntry): Promise<string> => {
    try {
      return (await zip.read(entry, HEADER_BYTES)).toString('utf8');
    } catch (err) {
      throw broken(label, 'Incompatible Archive.', err);
    }
  };

  // glob( $dir . '*.php' ) in Plugin_Upgrader::check_package: the first in name order wins.
  if (kind !== 'theme') {
    const php = [...top.keys()].filter((n) => n.toLowerCase().endsWith('.php')).sort();
    for (const name of php) {
      const entry = top.get(name);
      if (entry === undefined) continue;
      const source = await text(entry);
      const pluginName = fileHeader(source, 'Plugin Name');
      if (pluginName !== '') {
        return { kind: 'plugin', slug, name: pluginName, version: fileHeader(source, 'Version') };
      }
    }
    if (kind === 'plugin') {
      throw new BrokenPackageError(
        `${label}: ${INCOMPATIBLE} ${NO_PLUGINS} (no PHP file at the top of ${slug}/ has a ` +
          '"Plugin Name:" header)',
      );
    }
  }

  const style = top.get('style.css');
  if (style === undefined) {
    throw new BrokenPackageError(
      kind === 'theme'
        ? `${label}: ${INCOMPATIBLE} The theme is missing the style.css stylesheet.`
        : `${label}: ${INCOMPATIBLE} ${NO_PLUGINS} Nor is it a theme: the theme is missing the ` +
            `style.css stylesheet. (${path.posix.join(slug, '*.php')} has no "Plugin Name:" ` +
            'header.)',
    );
  }
  const css = await text(style);
  const themeName = fileHeader(css, 'Theme Name');
  if (themeName === '') {
    throw new BrokenPackageError(
      `${label}: ${INCOMPATIBLE} The style.css stylesheet does not contain a valid theme header.`,
    );
  }
  if (
    fileHeader(css, 'Template') === '' &&
    !has('index.php') &&
    !has('templates/index.html') &&
    !has('block-templates/index.html')
  ) {
    throw new BrokenPackageError(
      `${label}: ${INCOMPATIBLE} Template is missing. Standalone themes need to have a ` +
        'templates/index.html or index.php template file. Child themes need to have a Template ' +
        'header in the style.css stylesheet.',
    );
  }
  return { kind: 'theme', slug, name: themeName, version: fileHeader(css, 'Version') };
}
