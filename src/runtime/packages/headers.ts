/**
 * WordPress's get_file_data(): a header such as `Plugin Name:` is read from the first 8 KB of a
 * file, on a line of its own after optional `<?php` and comment characters, and cleaned of a
 * trailing `*\/` or `?>` (_cleanup_header_comment).
 */
export const HEADER_BYTES = 8 * 1024;

export function fileHeader(text: string, name: string): string {
  const data = text.slice(0, HEADER_BYTES).replace(/\r/g, '\n');
  const escaped = name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const match = new RegExp(`^(?:[ \\t]*<\\?php)?[ \\t/*#@]*${escaped}:(.*)$`, 'mi').exec(data);
  const value = match?.[1];
  if (value === undefined) return '';
  return value.replace(/\s*(?:\*\/|\?>).*/, '').trim();
}
