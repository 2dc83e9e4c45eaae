import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { encodeZip } from '@php-wasm/stream-compression';

/**
 * Small plugin and theme zips for the extension tests, laid out as wordpress.org's are (one
 * folder named like the slug). Each version prints a marker a test can look for on the page.
 */

/** What wpfleet-hello prints in wp_footer. */
export const helloMarker = (version: string): string => `<!-- wpfleet-hello ${version} -->`;

/** What wpfleet-plain's index.php prints. */
export const plainMarker = (version: string): string => `wpfleet-plain theme ${version}`;

export function helloPlugin(version: string): Record<string, string> {
  return {
    'wpfleet-hello/wpfleet-hello.php': `<?php
/**
 * Plugin Name: wpfleet hello
 * Version: ${version}
 * Description: Prints a marker in the footer.
 */
function wpfleet_hello_footer() {
	echo ${JSON.stringify(helloMarker(version))};
}
add_action( 'wp_footer', 'wpfleet_hello_footer' );
`,
    'wpfleet-hello/readme.txt': `=== wpfleet hello ===\nStable tag: ${version}\n`,
  };
}

/** wpfleet-hello 2.0.0, which throws while it loads (an undefined function: an Error). */
export function helloPluginThatThrows(): Record<string, string> {
  return {
    'wpfleet-hello/wpfleet-hello.php': `<?php
/**
 * Plugin Name: wpfleet hello
 * Version: 2.0.0
 */
function wpfleet_hello_footer() {
	echo ${JSON.stringify(helloMarker('2.0.0'))};
}
wpfleet_hello_function_that_does_not_exist();
`,
  };
}

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

export function plainTheme(version: string): Record<string, string> {
  return {
    'wpfleet-plain/style.css': `/*
Theme Name: wpfleet plain
Version: ${version}
Description: One template, printing a marker.
*/
body { font-family: sans-serif; }
`,
    'wpfleet-plain/index.php': `<!doctype html>
<html><head><?php wp_head(); ?></head>
<body><p>${plainMarker(version)}</p><?php wp_footer(); ?></body></html>
`,
  };
}

/** A folder of PHP without any plugin header. */
export function headerlessPlugin(): Record<string, string> {
  return {
    'wpfleet-empty/wpfleet-empty.php': '<?php\n// No plugin header here.\n',
    'wpfleet-empty/readme.txt': 'Nothing to see.\n',
  };
}

/** Writes a zip of `files` (paths inside the zip → contents) to `file`. */
export async function writeZip(file: string, files: Record<string, string>): Promise<string> {
  const entries = Object.entries(files).map(([name, content]) => new File([content], name));
  await pipeline(Readable.fromWeb(encodeZip(entries)), createWriteStream(file));
  return file;
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

/** Writes every fixture zip into `dir`. */
export async function writeExtensionZips(dir: string): Promise<ExtensionZips> {
  await fs.mkdir(dir, { recursive: true });
  const at = (name: string): string => path.join(dir, name);
  await fs.writeFile(at('not-a-zip.zip'), 'This is not a zip archive.\n');
  return {
    hello100: await writeZip(at('wpfleet-hello.1.0.0.zip'), helloPlugin('1.0.0')),
    hello110: await writeZip(at('wpfleet-hello.1.1.0.zip'), helloPlugin('1.1.0')),
    hello200Throws: await writeZip(at('wpfleet-hello.2.0.0.zip'), helloPluginThatThrows()),
    crash: await writeZip(at('wpfleet-crash.1.0.0.zip'), crashPlugin()),
    plain100: await writeZip(at('wpfleet-plain.1.0.0.zip'), plainTheme('1.0.0')),
    plain110: await writeZip(at('wpfleet-plain.1.1.0.zip'), plainTheme('1.1.0')),
    notZip: at('not-a-zip.zip'),
    headerless: await writeZip(at('wpfleet-empty.zip'), headerlessPlugin()),
  };
}
