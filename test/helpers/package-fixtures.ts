import { createHash } from 'node:crypto';
import fsSync, { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { encodeZip } from '@php-wasm/stream-compression';
import { addRelease } from '../../src/runtime/releases/index.js';
import { unpackDeb, verifyPackage } from '../../src/runtime/releases/sources/debian-package.js';
import { isVersion, compareVersions } from '../../src/runtime/releases/version.js';
import { SHARED_CACHE } from './engines.js';

const exec = promisify(execFile);

/** A zip of `files` (path in the zip → contents), as a client or wordpress.org would hand one. */
export async function zipFiles(
  files: Record<string, string | Uint8Array>,
  file: string,
): Promise<string> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const entries = Object.entries(files).map(([name, content]) => new File([content], name));
  await pipeline(Readable.fromWeb(encodeZip(entries)), createWriteStream(file));
  return file;
}

/** Every file below `dir`, as zip entries under `prefix/`. */
async function treeFiles(dir: string, prefix: string): Promise<Record<string, Uint8Array>> {
  const out: Record<string, Uint8Array> = {};
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) await walk(child);
      else if (entry.isFile()) out[`${prefix}/${child}`] = await fs.readFile(path.join(dir, child));
      else throw new Error(`${path.join(dir, child)} is not a file or folder`);
    }
  };
  await walk('');
  return out;
}

/** wpfleet-hello: a footer line; 2.0.0 calls an undefined function as it loads (a fatal). */
export function helloPlugin(version: string): Record<string, string> {
  const fatal =
    version === '2.0.0'
      ? '\n// 2.0.0 is broken on purpose: this function exists nowhere.\nwpfleet_hello_function_that_does_not_exist();\n'
      : '';
  return {
    'wpfleet-hello/wpfleet-hello.php': `<?php
/**
 * Plugin Name: wpfleet Hello
 * Description: A small plugin for wpfleet's tests.
 * Version: ${version}
 * Author: wpfleet
 * License: GPLv2 or later
 */
${fatal}
add_action( 'wp_footer', function () {
	echo '<p id="wpfleet-hello">wpfleet-hello ${version}</p>';
} );
`,
    'wpfleet-hello/readme.txt': `=== wpfleet Hello ===\nStable tag: ${version}\n\nA test plugin.\n`,
    'wpfleet-hello/includes/helpers.php': '<?php\n// Not a plugin file: no header.\n',
  };
}

/** wpfleet-plain: a classic theme; 1.1.0 paints a large red block across the top of every page. */
export function plainTheme(version: string): Record<string, string> {
  const banner =
    version === '1.1.0'
      ? `<div id="wpfleet-plain-banner" style="display:block;width:100%;height:400px;background:#e11d48;color:#fff;font-size:48px">wpfleet-plain ${version}</div>`
      : '';
  return {
    'wpfleet-plain/style.css': `/*
Theme Name: wpfleet Plain
Description: A small theme for wpfleet's tests.
Version: ${version}
Author: wpfleet
License: GPLv2 or later
*/
body { font-family: sans-serif; margin: 2em; }
`,
    'wpfleet-plain/index.php': `<!doctype html>
<html <?php language_attributes(); ?>>
<head><meta charset="<?php bloginfo( 'charset' ); ?>"><?php wp_head(); ?></head>
<body <?php body_class(); ?> data-theme-version="${version}">
${banner}
<h1 id="wpfleet-plain-title"><?php bloginfo( 'name' ); ?></h1>
<?php while ( have_posts() ) : the_post(); ?>
<article><h2><?php the_title(); ?></h2><?php the_content(); ?></article>
<?php endwhile; ?>
<?php wp_footer(); ?>
</body>
</html>
`,
    'wpfleet-plain/functions.php': `<?php\nadd_theme_support( 'title-tag' );\n`,
  };
}

/** What wpfleet-hello prints in wp_footer, in every version that loads. */
export const helloMarker = (version: string): string =>
  `<p id="wpfleet-hello">wpfleet-hello ${version}</p>`;

/** What wpfleet-plain's template prints on every page. */
export const plainMarker = (version: string): string => `data-theme-version="${version}"`;

/**
 * wpfleet-crash, which redeclares a WordPress function: a compile-time fatal error that no
 * try/catch can stop, only a shutdown function sees.
 */
export function crashPlugin(): Record<string, string> {
  return {
    'wpfleet-crash/wpfleet-crash.php': `<?php
/**
 * Plugin Name: wpfleet crash
 * Version: 1.0.0
 */
function wp_die( $message = '' ) {
}
`,
  };
}

/**
 * wpfleet-fragile: 1.0.0 prints a footer line; 2.0.0 loads and activates fine (the agent's update
 * succeeds) but fatals on every front-end page, so WordPress answers its critical-error page.
 */
export function fragilePlugin(version: string): Record<string, string> {
  const fatal =
    version === '2.0.0'
      ? "add_action( 'template_redirect', function () {\n\twpfleet_fragile_function_that_does_not_exist();\n} );\n"
      : '';
  return {
    'wpfleet-fragile/wpfleet-fragile.php': `<?php
/**
 * Plugin Name: wpfleet Fragile
 * Description: A test plugin whose 2.0.0 breaks the front end.
 * Version: ${version}
 */
${fatal}add_action( 'wp_footer', function () {
	echo '<p id="wpfleet-fragile">wpfleet-fragile ${version}</p>';
} );
`,
  };
}

/**
 * wpfleet-paint: 1.0.0 draws nothing; 1.1.0 a 4×4 dot in the page's top-left corner (a few
 * pixels); 2.0.0 a coloured block over the whole first screen (most of the page).
 */
export function paintPlugin(version: string): Record<string, string> {
  const style: Record<string, string> = {
    '1.1.0': 'width:4px;height:4px;background:#0a7f3f',
    '2.0.0': 'width:100%;height:2000px;background:#e11d48',
  };
  const css = style[version];
  const paint =
    css === undefined
      ? ''
      : `add_action( 'wp_footer', function () {
	echo '<div id="wpfleet-paint" style="position:absolute;top:0;left:0;z-index:99999;${css}"></div>';
} );
`;
  return {
    'wpfleet-paint/wpfleet-paint.php': `<?php
/**
 * Plugin Name: wpfleet Paint
 * Description: A test plugin that changes how the page looks, a little (1.1.0) or a lot (2.0.0).
 * Version: ${version}
 */
${paint}`,
  };
}

/** The versions of wpfleet-fragile and wpfleet-paint, zipped into `dir`. */
export async function writeSafeUpdatePackages(dir: string): Promise<FixtureZip[]> {
  const out: FixtureZip[] = [];
  const builders = { 'wpfleet-fragile': fragilePlugin, 'wpfleet-paint': paintPlugin };
  const versions = {
    'wpfleet-fragile': ['1.0.0', '2.0.0'],
    'wpfleet-paint': ['1.0.0', '1.1.0', '2.0.0'],
  };
  for (const [slug, build] of Object.entries(builders)) {
    for (const version of versions[slug as keyof typeof versions]) {
      const file = await zipFiles(build(version), path.join(dir, `${slug}.${version}.zip`));
      out.push({ kind: 'plugin', slug, version, file });
    }
  }
  return out;
}

/**
 * A copy of a WordPress tree as another version (`$wp_version`, and `$wp_db_version` one higher),
 * changed by `change`, with its checksums in wordpress.org's format, for `wpfleet releases add
 * --from DIR --checksums FILE`.
 */
export function fakeRelease(
  from: string,
  into: string,
  version: string,
  change: (root: string) => void = () => undefined,
): { dir: string; checksums: string } {
  const dir = path.join(into, `wordpress-${version}`);
  fsSync.cpSync(from, dir, { recursive: true });
  const versionFile = path.join(dir, 'wp-includes', 'version.php');
  const text = fsSync.readFileSync(versionFile, 'utf8');
  const db = Number(/\$wp_db_version\s*=\s*(\d+);/.exec(text)?.[1]);
  fsSync.writeFileSync(
    versionFile,
    text
      .replace(/\$wp_version\s*=\s*'[^']+';/, `$wp_version = '${version}';`)
      .replace(/\$wp_db_version\s*=\s*\d+;/, `$wp_db_version = ${db + 1};`),
  );
  change(dir);
  const sums: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const entry of fsSync.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else {
        const rel = path.relative(dir, full).split(path.sep).join('/');
        sums[rel] = createHash('md5').update(fsSync.readFileSync(full)).digest('hex');
      }
    }
  };
  walk(dir);
  const checksums = path.join(into, `checksums-${version}.json`);
  fsSync.writeFileSync(checksums, JSON.stringify({ checksums: sums }));
  return { dir, checksums };
}

/** A folder of PHP without any plugin header. */
export function headerlessPlugin(): Record<string, string> {
  return {
    'wpfleet-empty/wpfleet-empty.php': '<?php\n// No plugin header here.\n',
    'wpfleet-empty/readme.txt': 'Nothing to see.\n',
  };
}

export const HELLO_VERSIONS = ['1.0.0', '1.1.0', '2.0.0'];
export const PLAIN_VERSIONS = ['1.0.0', '1.1.0'];

/** The Debian packages of default themes that the release (twentytwentythree) does not hold. */
export const DEBIAN_THEME_PACKAGES = [
  'wordpress-theme-twentytwentyone',
  'wordpress-theme-twentytwentytwo',
];

export interface FixtureZip {
  kind: 'plugin' | 'theme';
  slug: string;
  version: string;
  file: string;
}

/** wpfleet's own test packages in every version, written into `dir`. */
export async function writeTestPackages(dir: string): Promise<FixtureZip[]> {
  const out: FixtureZip[] = [];
  for (const version of HELLO_VERSIONS) {
    const file = await zipFiles(
      helloPlugin(version),
      path.join(dir, `wpfleet-hello.${version}.zip`),
    );
    out.push({ kind: 'plugin', slug: 'wpfleet-hello', version, file });
  }
  for (const version of PLAIN_VERSIONS) {
    const file = await zipFiles(
      plainTheme(version),
      path.join(dir, `wpfleet-plain.${version}.zip`),
    );
    out.push({ kind: 'theme', slug: 'wpfleet-plain', version, file });
  }
  return out;
}

export interface ExtensionZips {
  hello100: string;
  hello110: string;
  /** wpfleet-hello 2.0.0: throws while it loads. */
  hello200Throws: string;
  crash: string;
  plain100: string;
  plain110: string;
  /** A text file named .zip. */
  notZip: string;
  /** A zip with PHP but no plugin header. */
  headerless: string;
}

/** The zips the agent's extension tests hand over, each by its role, written into `dir`. */
export async function writeExtensionZips(dir: string): Promise<ExtensionZips> {
  await fs.mkdir(dir, { recursive: true });
  const at = (name: string): string => path.join(dir, name);
  await fs.writeFile(at('not-a-zip.zip'), 'This is not a zip archive.\n');
  return {
    hello100: await zipFiles(helloPlugin('1.0.0'), at('wpfleet-hello.1.0.0.zip')),
    hello110: await zipFiles(helloPlugin('1.1.0'), at('wpfleet-hello.1.1.0.zip')),
    hello200Throws: await zipFiles(helloPlugin('2.0.0'), at('wpfleet-hello.2.0.0.zip')),
    crash: await zipFiles(crashPlugin(), at('wpfleet-crash.1.0.0.zip')),
    plain100: await zipFiles(plainTheme('1.0.0'), at('wpfleet-plain.1.0.0.zip')),
    plain110: await zipFiles(plainTheme('1.1.0'), at('wpfleet-plain.1.1.0.zip')),
    notZip: at('not-a-zip.zip'),
    headerless: await zipFiles(headerlessPlugin(), at('wpfleet-empty.zip')),
  };
}

/**
 * The WordPress tree of Debian's release in the tests' machine cache (added from Debian's
 * packages into it if it is not there yet).
 */
async function debianRelease(): Promise<string> {
  const cached = path.join(SHARED_CACHE, 'releases');
  const find = async (): Promise<string | undefined> => {
    const versions = (await fs.readdir(cached).catch(() => []))
      .filter(isVersion)
      .sort((a, b) => compareVersions(b, a));
    for (const version of versions) {
      const manifest = await fs
        .readFile(path.join(cached, version, 'manifest.json'), 'utf8')
        .catch(() => '');
      if (/"source":\s*"debian"/.test(manifest)) return path.join(cached, version, 'wordpress');
    }
    return undefined;
  };
  const found = await find();
  if (found !== undefined) return found;
  // Adding it once keeps it in the shared cache, where the next run finds it.
  const data = await fs.mkdtemp(path.join(os.tmpdir(), 'wpfleet-pkgfix-'));
  try {
    await addRelease(
      { dataDir: data, cacheDir: SHARED_CACHE, releaseSources: ['debian'] },
      { source: 'debian' },
    );
  } finally {
    await fs.rm(data, { recursive: true, force: true });
  }
  const added = await find();
  if (added === undefined) throw new Error(`Debian's release did not reach ${cached}`);
  return added;
}

/** A Debian package's .deb in the shared cache, downloaded with apt-get the first time. */
async function debianPackage(name: string): Promise<string> {
  const dir = path.join(SHARED_CACHE, 'debian');
  await fs.mkdir(dir, { recursive: true });
  const find = async (): Promise<string | undefined> =>
    (await fs.readdir(dir)).find((n) => n.startsWith(`${name}_`) && n.endsWith('.deb'));
  let found = await find();
  if (found === undefined) {
    const incoming = await fs.mkdtemp(path.join(dir, '.incoming-'));
    try {
      await exec('apt-get', ['download', name], { cwd: incoming });
      for (const deb of await fs.readdir(incoming)) {
        await fs.rename(path.join(incoming, deb), path.join(dir, deb));
      }
    } finally {
      await fs.rm(incoming, { recursive: true, force: true });
    }
    found = await find();
  }
  if (found === undefined) throw new Error(`apt-get download ${name} gave no .deb`);
  return path.join(dir, found);
}

/**
 * Zips of what Debian's WordPress packages hold: Akismet and twentytwentythree from the release
 * (package `wordpress` and `wordpress-theme-twentytwentythree`), and the older default themes
 * from their own packages, each checked against its md5sums.
 */
export async function writeDebianPackages(dir: string): Promise<FixtureZip[]> {
  const root = await debianRelease();
  const out: FixtureZip[] = [];
  const add = async (kind: 'plugin' | 'theme', slug: string, from: string): Promise<void> => {
    const files = await treeFiles(from, slug);
    const header = new TextDecoder().decode(
      files[kind === 'plugin' ? `${slug}/${slug}.php` : `${slug}/style.css`],
    );
    const version = /^[ \t/*#@]*Version:\s*(\S+)/im.exec(header)?.[1];
    if (version === undefined) throw new Error(`${from} has no Version header`);
    const file = await zipFiles(files, path.join(dir, `${slug}.${version}.zip`));
    out.push({ kind, slug, version, file });
  };
  await add('plugin', 'akismet', path.join(root, 'wp-content/plugins/akismet'));
  await add('theme', 'twentytwentythree', path.join(root, 'wp-content/themes/twentytwentythree'));
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'wpfleet-debthemes-'));
  try {
    for (const name of DEBIAN_THEME_PACKAGES) {
      const deb = await debianPackage(name);
      const version = path.basename(deb).split('_')[1] ?? '';
      const pkg = await unpackDeb(deb, path.join(scratch, name), name, version);
      await verifyPackage(pkg);
      const slug = name.replace(/^wordpress-theme-/, '');
      await add('theme', slug, path.join(pkg.root, 'usr/share/wordpress/wp-content/themes', slug));
    }
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
  return out;
}
