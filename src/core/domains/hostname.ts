const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * A fully qualified host name as DNS allows it: dot-separated labels of letters, digits and
 * inner hyphens, at most 63 characters each and 253 in all, with at least two labels and a
 * top-level label that is not all digits (so IP addresses are not names).
 */
export function isHostname(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  if (labels.length < 2) return false;
  if (!labels.every((l) => LABEL.test(l))) return false;
  return !/^\d+$/.test(labels[labels.length - 1] ?? '');
}

/** Domains are compared case-insensitively and stored without a trailing dot. */
export function normalizeHostname(raw: string): string {
  return raw.trim().toLowerCase().replace(/\.$/, '');
}
