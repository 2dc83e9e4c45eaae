import { ValidationError } from '../errors.js';

/**
 * An install's hardening settings. What each does is in docs/operations.md; the
 * runtime writes the first two and the login path into the install's wp-config.php, and the
 * edge enforces file protection and the login path.
 */
export interface InstallSettings {
  /** WP_DEBUG, logging to wp-content/debug.log and never displaying to visitors. */
  wpDebug: boolean;
  /** DISALLOW_FILE_EDIT: no theme or plugin editor in wp-admin. */
  disallowFileEdit: boolean;
  /** The edge refuses wp-config.php, backup and dump files whether or not they exist. */
  fileProtection: boolean;
  /** A custom login slug (`/<slug>` serves wp-login.php, which then answers 404); null for none. */
  loginPath: string | null;
}

/**
 * What an install has until someone changes it: WordPress's own defaults, except file
 * protection, which a hosting platform turns on for every install, old and new.
 */
export const DEFAULT_INSTALL_SETTINGS: Readonly<InstallSettings> = Object.freeze({
  wpDebug: false,
  disallowFileEdit: false,
  fileProtection: true,
  loginPath: null,
});

const SLUG = /^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$/;

/**
 * First path segments WordPress (or the edge) answers itself: a login slug equal to one of them
 * would hide that page or be hidden by it. Every `wp-` name is refused as well (wp-admin,
 * wp-json, wp-login, wp-content, …).
 */
const RESERVED = new Set([
  'admin',
  'dashboard',
  'login',
  'feed',
  'rss',
  'rss2',
  'atom',
  'rdf',
  'embed',
  'comments',
  'search',
  'author',
  'category',
  'tag',
  'page',
  'type',
  'trackback',
  'sitemap',
  'xmlrpc',
  'index',
  'well-known',
]);

/** Why a login slug is refused, or null when it is a good one. */
export function loginPathProblem(slug: string): string | null {
  if (!SLUG.test(slug)) {
    return 'login_path must be 3 to 64 lowercase letters, digits and hyphens, starting and ending with a letter or digit';
  }
  if (slug.startsWith('wp-') || RESERVED.has(slug)) {
    return `login_path "${slug}" is a path WordPress uses itself; choose another`;
  }
  return null;
}

/** Checks a login slug: null (none) passes, anything else must be a good slug. */
export function checkLoginPath(slug: string | null): string | null {
  if (slug === null) return null;
  const problem = loginPathProblem(slug);
  if (problem !== null) throw ValidationError.field('Install', 'login_path', 'invalid', problem);
  return slug;
}

/** Settings with a change applied and checked; throws ValidationError and changes nothing. */
export function withChanges(
  current: InstallSettings,
  change: Partial<InstallSettings>,
): InstallSettings {
  const next: InstallSettings = { ...current };
  if (change.wpDebug !== undefined) next.wpDebug = change.wpDebug;
  if (change.disallowFileEdit !== undefined) next.disallowFileEdit = change.disallowFileEdit;
  if (change.fileProtection !== undefined) next.fileProtection = change.fileProtection;
  if (change.loginPath !== undefined) next.loginPath = checkLoginPath(change.loginPath);
  return next;
}
