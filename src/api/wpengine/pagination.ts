import type { FastifyRequest } from 'fastify';
import type { Page, PageRequest } from '../../core/shared/page.js';

export interface ListEnvelope<T> {
  previous: string | null;
  next: string | null;
  count: number;
  results: T[];
}

const MAX_LIMIT = 100;

/**
 * Reads limit and offset after schema validation. A limit over 100 is clamped rather than
 * refused because real clients send `limit=1000` and expect results.
 */
export function pageOf(query: {
  limit?: number | undefined;
  offset?: number | undefined;
}): PageRequest {
  return {
    limit: Math.min(query.limit ?? MAX_LIMIT, MAX_LIMIT),
    offset: query.offset ?? 0,
  };
}

function pageUrl(request: FastifyRequest, limit: number, offset: number): string {
  // Path and query are set apart: `new URL('//v1/installs', base)` would read `v1` as the host.
  // Repeated slashes, which the router tolerates, are collapsed in the link.
  const url = new URL(`${request.protocol}://${request.host}`);
  const q = request.url.indexOf('?');
  url.pathname = (q === -1 ? request.url : request.url.slice(0, q)).replace(/\/{2,}/g, '/');
  url.search = q === -1 ? '' : request.url.slice(q);
  url.searchParams.set('limit', String(limit));
  url.searchParams.set('offset', String(offset));
  return url.toString();
}

/** The contract's list body, with absolute next/previous links on this server's own address. */
export function envelope<R, T>(
  request: FastifyRequest,
  req: PageRequest,
  page: Page<R>,
  present: (row: R) => T,
): ListEnvelope<T> {
  const { limit, offset } = req;
  const hasNext = limit > 0 && offset + limit < page.total;
  const hasPrevious = offset > 0 && limit > 0;
  return {
    previous: hasPrevious ? pageUrl(request, limit, Math.max(0, offset - limit)) : null,
    next: hasNext ? pageUrl(request, limit, offset + limit) : null,
    count: page.total,
    results: page.items.map(present),
  };
}
