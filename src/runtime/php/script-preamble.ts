/**
 * The start of a PHP script run inside an install: decodes `input` (passed as base64 JSON, so no
 * value needs PHP escaping) into `$in`, and makes the request look like one to `$in['url']`,
 * since WordPress guesses URLs (post GUIDs among them) from the request. The platform's own
 * scripts are operations, not visits: the agent's maintenance mode (a restore's, for one) lets
 * them through, as it lets WP-CLI.
 */
export function phpScriptPreamble(input: { url: string }): string {
  const payload = Buffer.from(JSON.stringify(input)).toString('base64');
  return `<?php
$in = json_decode(base64_decode('${payload}'), true);
$u = parse_url($in['url']);
$_SERVER['HTTP_HOST'] = $u['host'] . (isset($u['port']) ? ':' . $u['port'] : '');
$_SERVER['SERVER_NAME'] = $u['host'];
$_SERVER['SERVER_PORT'] = isset($u['port']) ? $u['port'] : 80;
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['SCRIPT_NAME'] = $_SERVER['PHP_SELF'] = '/index.php';
unset($_SERVER['HTTPS']);
define('WPFLEET_IGNORE_MAINTENANCE', true);
`;
}
