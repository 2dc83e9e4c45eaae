import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * A PHP script dropped into an install's wp-content and run by WordPress itself when requested
 * through the edge: it loads wp-load.php, so what it does goes through WordPress's own functions
 * (wp_insert_post…) on the install's real database. Only a request carrying its random token
 * runs it; uploads/ is never used, since the edge refuses PHP there.
 */
export interface WpScript {
  /** The path and query to request, token included; add parameters with `&name=value`. */
  url: string;
  /** The file in wp-content. */
  file: string;
  remove(): void;
}

/** Writes `body` (PHP statements run after WordPress has loaded) into `contentDir`. */
export function writeWpScript(contentDir: string, body: string): WpScript {
  const token = randomBytes(16).toString('hex');
  const name = `wpfleet-script-${randomBytes(6).toString('hex')}.php`;
  const file = path.join(contentDir, name);
  fs.writeFileSync(
    file,
    `<?php
if (!hash_equals('${token}', (string) ($_GET['token'] ?? ''))) { http_response_code(403); exit; }
define('DONOTCACHEPAGE', true);
require dirname(__DIR__) . '/wp-load.php';
header('Content-Type: application/json');
${body}
`,
  );
  return {
    url: `/wp-content/${name}?token=${token}`,
    file,
    remove: () => {
      fs.rmSync(file, { force: true });
    },
  };
}

/**
 * Inserts `n` published posts (`n` from the query, 1 by default), each in its own transaction
 * with `meta` postmeta rows (`_wpfleet_meta_0…`) written by the same wp_insert_post call, so
 * that any consistent snapshot holds every post with all its meta or none of it. Answers JSON
 * `{"ids":[…]}`. Titles carry `marker`, so the posts can be told from WordPress's own. With
 * `uploadBytes`, each post also writes an upload `wpfleet-<id>.bin` of that many random bytes.
 */
export function insertPostsScript(marker: string, meta: number, uploadBytes = 0): string {
  if (!/^[A-Za-z0-9 _-]+$/.test(marker)) throw new Error(`unsafe marker "${marker}"`);
  return `
$n = max(1, (int) ($_GET['n'] ?? 1));
$pad = str_repeat('lorem ipsum dolor sit amet ', 40);
wp_defer_term_counting(true);
$ids = [];
for ($i = 0; $i < $n; $i++) {
    $input = [];
    for ($m = 0; $m < ${meta}; $m++) { $input['_wpfleet_meta_' . $m] = wp_generate_password(24, false); }
    $wpdb->query('START TRANSACTION');
    $id = wp_insert_post([
        'post_title' => '${marker} ' . wp_generate_password(8, false),
        'post_content' => '<p>' . $pad . '</p>',
        'post_status' => 'publish',
        'meta_input' => $input,
    ], true);
    if (is_wp_error($id)) { $wpdb->query('ROLLBACK'); http_response_code(500); echo json_encode(['error' => $id->get_error_message()]); exit; }
    $wpdb->query('COMMIT');
    if (${uploadBytes} > 0) { file_put_contents(wp_upload_dir()['path'] . '/wpfleet-' . $id . '.bin', random_bytes(${uploadBytes})); }
    $ids[] = $id;
}
wp_defer_term_counting(false);
echo json_encode(['ids' => $ids]);
`;
}
