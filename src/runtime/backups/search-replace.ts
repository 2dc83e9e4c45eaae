import { phpScriptPreamble } from '../php/script-preamble.js';

/** A URL rewrite to run inside an install's WordPress after restoring another install's backup. */
export interface SearchReplaceInput {
  /** The install's address (`http://host:port`), as WordPress must see the request. */
  url: string;
  pairs: { from: string; to: string }[];
}

/**
 * PHP that replaces URLs in posts, postmeta and options the way `wp search-replace` does
 * (docs: WP-CLI-SEMANTICS.md §1): serialized values are unserialized (stdClass only; other
 * objects are left as they are, like WP-CLI ≥ 2.1.12), replaced inside and serialized again, so
 * every `s:N:` length stays right; plain strings get `str_replace` of the raw and the
 * JSON-escaped form. Keys and primary keys are never changed; only changed rows are written.
 * Prints one JSON line of counts.
 */
export function searchReplaceScript(input: SearchReplaceInput): string {
  return `${phpScriptPreamble(input)}require '/wordpress/wp-load.php';
global $wpdb;

function wpfleet_json_form($s) {
  $j = json_encode($s);
  return $j === false ? $s : substr($j, 1, -1);
}

function wpfleet_replace($value, $from, $to, $depth = 0) {
  if ($depth > 32) return $value;
  if (is_string($value)) {
    $un = @unserialize($value, ['allowed_classes' => ['stdClass']]);
    if ($un !== false || $value === 'b:0;') {
      if (is_object($un) && !($un instanceof stdClass)) return $value;
      return serialize(wpfleet_replace($un, $from, $to, $depth + 1));
    }
    $out = str_replace($from, $to, $value);
    $jf = wpfleet_json_form($from);
    if ($jf !== $from) $out = str_replace($jf, wpfleet_json_form($to), $out);
    return $out;
  }
  if (is_array($value)) {
    foreach ($value as $k => $v) $value[$k] = wpfleet_replace($v, $from, $to, $depth + 1);
    return $value;
  }
  if ($value instanceof stdClass) {
    foreach (get_object_vars($value) as $k => $v) $value->$k = wpfleet_replace($v, $from, $to, $depth + 1);
    return $value;
  }
  return $value;
}

$targets = [
  [$wpdb->posts, 'ID', ['post_content', 'post_excerpt', 'post_content_filtered', 'guid']],
  [$wpdb->postmeta, 'meta_id', ['meta_value']],
  [$wpdb->options, 'option_id', ['option_value']],
];
$changed = 0;
foreach ($in['pairs'] as $pair) {
  $from = $pair['from']; $to = $pair['to'];
  if ($from === '' || $from === $to) continue;
  foreach ($targets as [$table, $pk, $columns]) {
    foreach ($columns as $col) {
      $like = '%' . $wpdb->esc_like($from) . '%';
      $likeJson = '%' . $wpdb->esc_like(wpfleet_json_form($from)) . '%';
      $rows = $wpdb->get_results($wpdb->prepare(
        "SELECT \`$pk\` AS pk, \`$col\` AS val FROM \`$table\` WHERE \`$col\` LIKE %s OR \`$col\` LIKE %s",
        $like, $likeJson
      ), ARRAY_A);
      foreach ($rows as $row) {
        if ($row['val'] === null || $row['val'] === '') continue;
        $new = wpfleet_replace($row['val'], $from, $to);
        if ($new !== $row['val']) {
          $wpdb->update($table, [$col => $new], [$pk => $row['pk']]);
          $changed++;
        }
      }
    }
  }
}
wp_cache_flush();
echo "\\n" . json_encode(['rows_changed' => $changed]);
`;
}
