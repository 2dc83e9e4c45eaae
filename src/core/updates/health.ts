import { ValidationError } from '../errors.js';

/**
 * Whether a page WordPress served is healthy, judged from what a visitor gets: the status, PHP's
 * fatal-error texts, and the site's title. Pure, so that the rules are tested without a site.
 */

/** A page as the edge answered it. */
export interface FetchedPage {
  status: number;
  body: string;
}

/** One page's state, as recorded before and after an update. */
export interface PageHealth {
  path: string;
  status: number;
  /** Why the page is not healthy; null when it is. */
  problem: string | null;
  /** Whether the page shows the site's title; null when not asked (the login page, no title). */
  titleShown: boolean | null;
}

/**
 * WordPress's own fatal-error handler page ("There has been a critical error on this website."),
 * and PHP's texts when errors are displayed (`Fatal error: …`, `Parse error: …`, with or without
 * the `<b>` PHP wraps them in). PHP's texts count only with what PHP always adds (`on line N`,
 * `Uncaught`, a stack trace), so that a post that merely says "fatal error:" is not one.
 */
const FATALS: { pattern: RegExp; label: string }[] = [
  { pattern: /There has been a critical error on (?:this|your) website/i, label: 'critical error' },
  {
    pattern:
      /(?:PHP )?Fatal error(?:<\/b>)?:\s[^\n]{0,600}?(?:on line\s+\d+|Uncaught|Stack trace)/i,
    label: 'PHP fatal error',
  },
  {
    pattern: /(?:PHP )?Parse error(?:<\/b>)?:\s[^\n]{0,600}?on line\s+\d+/i,
    label: 'PHP parse error',
  },
];

/** The first line of PHP's or WordPress's error text, without its markup, for the record. */
function errorExcerpt(body: string, at: number): string {
  return body
    .slice(at, at + 600)
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 240);
}

/** The ways WordPress may print a title: as stored, and HTML-escaped (esc_html, wptexturize). */
export function titleForms(title: string): string[] {
  const escaped = title
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
  const texturized = escaped.replace(/'/g, '&#8217;');
  const numeric = escaped.replace(/'/g, '&#039;');
  return [...new Set([title, escaped, texturized, numeric])];
}

/** Whether `body` shows `title` in any form WordPress prints it. */
export function showsTitle(body: string, title: string): boolean {
  return titleForms(title).some((form) => body.includes(form));
}

/**
 * Judges one page: it must answer 200 with no fatal-error text; when `title` is given, the page
 * must show it (the site's blogname, which a theme prints in its header and `<title>`).
 */
export function judgePage(path: string, page: FetchedPage, title: string | null): PageHealth {
  const titleShown = title === null ? null : showsTitle(page.body, title);
  const fatal = FATALS.map(({ pattern, label }) => ({
    label,
    match: pattern.exec(page.body),
  })).find((f) => f.match !== null);
  let problem: string | null = null;
  if (fatal?.match !== undefined && fatal.match !== null) {
    problem = `${path} shows a ${fatal.label}: ${errorExcerpt(page.body, fatal.match.index)}`;
  } else if (page.status !== 200) {
    problem = `${path} answered ${page.status}, not 200`;
  } else if (titleShown === false) {
    problem = `${path} no longer shows the site's title "${title ?? ''}"`;
  }
  return { path, status: page.status, problem, titleShown };
}

/** The fraction of pixels an update may change unless told otherwise: 1%. */
export const DEFAULT_THRESHOLD = 0.01;

/** A threshold as asked for (the default when absent), refused unless a fraction 0..1. */
export function visualThreshold(entity: string, asked: number | undefined): number {
  const threshold = asked ?? DEFAULT_THRESHOLD;
  if (!Number.isFinite(threshold) || threshold < 0 || threshold > 1) {
    throw ValidationError.field(
      entity,
      'threshold',
      'invalid',
      `The threshold is a fraction of pixels between 0 and 1 (0.01 is 1%), not ${threshold}`,
    );
  }
  return threshold;
}

/**
 * Whether the screenshots' difference (fraction of pixels) is more than an update may change:
 * strictly more than the threshold, so a threshold of 0 allows no change at all.
 */
export function beyondThreshold(difference: number, threshold: number): boolean {
  return difference > threshold;
}
