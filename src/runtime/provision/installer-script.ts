import { phpScriptPreamble } from '../php/script-preamble.js';
/** What WordPress's own installer is given for one install. */
export interface InstallerInput {
  title: string;
  adminEmail: string;
  /** Random, used once and never stored: nobody logs in with a password until one is set. */
  adminPassword: string;
  /** home and siteurl: the install's address with its port. */
  url: string;
}

/**
 * PHP that runs WordPress's installer (wp_install) unless the database is already installed,
 * then sets the address and pretty permalinks, which the installer only turns on when it can
 * reach the site over HTTP. Safe to run again after a crash.
 */
export function installerScript(input: InstallerInput): string {
  return `${phpScriptPreamble(input)}define('WP_INSTALLING', true);
require '/wordpress/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
if (!is_blog_installed()) {
    $result = wp_install($in['title'], 'admin', $in['adminEmail'], true, '', wp_slash($in['adminPassword']));
    if (is_wp_error($result)) { echo json_encode(['error' => $result->get_error_message()]); exit(1); }
}
update_option('home', $in['url']);
update_option('siteurl', $in['url']);
global $wp_rewrite;
$wp_rewrite->set_permalink_structure('/%postname%/');
flush_rewrite_rules(true);
echo json_encode(['installed' => is_blog_installed(), 'wp_version' => get_bloginfo('version'), 'php_version' => PHP_VERSION]);
`;
}

export interface InstallerResult {
  installed: boolean;
  wp_version: string;
  php_version: string;
}

export function parseInstallerOutput(stdout: string): InstallerResult {
  // WordPress may print notices before our JSON; the result is the last line.
  const last = stdout.trim().split('\n').pop() ?? '';
  const parsed = JSON.parse(last) as Partial<InstallerResult> & { error?: string };
  if (parsed.error !== undefined) throw new Error(`WordPress's installer failed: ${parsed.error}`);
  if (parsed.installed !== true || typeof parsed.wp_version !== 'string') {
    throw new Error(`WordPress's installer did not finish: ${last.slice(0, 300)}`);
  }
  return {
    installed: true,
    wp_version: parsed.wp_version,
    php_version: String(parsed.php_version),
  };
}
