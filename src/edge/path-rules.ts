/**
 * Which requests the edge refuses or reroutes before PHP sees them. Rules are matched against the
 * path as php-wasm will resolve it (`phpPath`), not as written: its request handler parses the
 * URL with WHATWG's parser (dot segments, `%2e`, backslashes, a `//host` prefix, a `#`), decodes
 * it, drops empty segments and resolves `..`, then runs the first `.php` file found walking up
 * the path (`/x.php/anything` runs x.php). A rule written against the raw path misses each of
 * these (`/wp-content/uploads/a.php/x`, `/wp-content/uploads/a.php#?`, `//h/wp-content/…`).
 */

/** What the edge knows of an install's hardening settings (src/core/installs/install-settings.ts). */
export interface PathSettings {
  fileProtection: boolean;
  loginPath: string | null;
}

export type PathVerdict =
  /** Goes on as it is: static file, page cache, WordPress. */
  | { kind: 'pass' }
  /** 403, whether or not such a file exists. */
  | { kind: 'forbidden' }
  /** 404: WordPress's login pages while a custom login path hides them. */
  | { kind: 'hidden' }
  /** The custom login path: WordPress's wp-login.php renders it, with this URL. */
  | { kind: 'login'; url: string };

const PASS: PathVerdict = { kind: 'pass' };
const FORBIDDEN: PathVerdict = { kind: 'forbidden' };
const HIDDEN: PathVerdict = { kind: 'hidden' };

export const NO_PROTECTION: PathSettings = { fileProtection: false, loginPath: null };

/**
 * Every rule below needs a dot, an escape, a backslash, a character WHATWG drops, or
 * wp-content in the path: most page paths have none of them, so a cached page costs one test.
 * (What php-wasm takes as the path is never longer than the path up to `?`.)
 */
const MAYBE_RULED = /[.%\\\t\n\r]|wp-content/i;
/** The base php-wasm resolves a relative request URL against (DEFAULT_BASE_URL). */
const PHP_WASM_BASE = 'http://example.com';
/** Scripts php-wasm runs, and what other servers would run: never under uploads. */
const PHP_SCRIPT = /\.(?:php\d*|pht(?:ml)?|phps|phar)$/i;
/**
 * Backup, dump, editor and configuration leftovers, after h5bp's nginx rule (`deny all`, so 403):
 * bak, conf, dist, inc, ini, log, orig, sh, sql, swo/swp, `~`; plus compressed dumps and the
 * `.old`/`.save` copies editors and admins leave.
 */
const LEFTOVER =
  /(?:\.(?:bak|conf|dist|inc|ini|log|old|orig|save|sh|swo|swp)|\.sql(?:\.(?:gz|bz2|xz|zip))?|~)$/i;
/** WordPress pages that link to the login page, hidden with it (on a single site). */
const LOGIN_PAGES = new Set(['wp-login.php', 'wp-signup.php', 'wp-activate.php']);

/**
 * The segments of the path php-wasm serves for a request URL (path and query as received), or
 * null when it cannot be decoded (php-wasm would fail on it).
 */
export function phpPath(url: string): string[] | null {
  let decoded: string;
  try {
    const parsed = new URL(url.split('#')[0] ?? '', PHP_WASM_BASE);
    decoded = decodeURIComponent(parsed.pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const out: string[] = [];
  for (const part of decoded.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out;
}

/** Segments of the path as written, decoded, `\` a separator, no empty ones; null if undecodable. */
function writtenSegments(pathname: string): string[] | null {
  try {
    return decodeURIComponent(pathname)
      .split(/[\\/]+/)
      .filter((part) => part !== '');
  } catch {
    return null;
  }
}

const isHidden = (part: string): boolean => part.startsWith('.') && part !== '.well-known';

/** Refused for every install: what exposes the platform's or the install's data, or runs uploads. */
function alwaysForbidden(parts: string[]): boolean {
  if (parts.some(isHidden)) return true;
  if (parts[0]?.toLowerCase() !== 'wp-content') return false;
  const second = parts[1]?.toLowerCase();
  // The SQLite database; WP_DEBUG's log (wpfleet turns WP_DEBUG_LOG on with WP_DEBUG).
  if (second === 'database' || (second === 'debug.log' && parts.length === 2)) return true;
  // Uploaded files are data: a PHP file among them is never run, wherever it sits in the path.
  return second === 'uploads' && parts.slice(2).some((p) => PHP_SCRIPT.test(p));
}

/** Refused while the install's file protection is on. */
function protectedFile(parts: string[]): boolean {
  if (parts.some((p) => p.toLowerCase().startsWith('wp-config.php'))) return true;
  const last = parts.at(-1);
  return last !== undefined && LEFTOVER.test(last);
}

/**
 * What the edge does with a request for `url` (path and query) whose path is `pathname`, under
 * an install's settings. Each rule is held against the path as php-wasm resolves it and as it is
 * written (decoded, `\\` a separator, empty segments dropped), so that neither reading slips by.
 */
export function classifyPath(url: string, pathname: string, settings: PathSettings): PathVerdict {
  const slug = settings.loginPath;
  if (slug !== null && (pathname === `/${slug}` || pathname === `/${slug}/`)) {
    const query = url.indexOf('?');
    return { kind: 'login', url: `/wp-login.php${query < 0 ? '' : url.slice(query)}` };
  }
  if (!MAYBE_RULED.test(pathname)) return PASS;
  const written = writtenSegments(pathname);
  const resolved = phpPath(url);
  // `..` and other dot segments as written are refused too, as they always were.
  if (written === null || resolved === null || written.some(isHidden)) return FORBIDDEN;
  const views = [resolved, written];
  if (views.some(alwaysForbidden)) return FORBIDDEN;
  if (settings.fileProtection && views.some(protectedFile)) return FORBIDDEN;
  if (slug !== null && views.some(loginPage)) return HIDDEN;
  return PASS;
}

/** WordPress's pages that are the login page or link to it. */
function loginPage(parts: string[]): boolean {
  const first = parts[0]?.toLowerCase() ?? '';
  if (LOGIN_PAGES.has(first)) return true;
  // Its "already installed" page links to the login page.
  return first === 'wp-admin' && parts[1]?.toLowerCase() === 'install.php';
}

/** Paths no visitor may fetch from any install, whatever its settings. */
export function isForbiddenPath(pathname: string): boolean {
  return classifyPath(pathname, pathname, NO_PROTECTION).kind === 'forbidden';
}
