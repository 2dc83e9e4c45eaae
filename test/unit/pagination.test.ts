import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { envelope, pageOf } from '../../src/api/wpengine/pagination.js';

function request(url: string): FastifyRequest {
  return { url, protocol: 'https', host: 'api.example.test:8443' } as unknown as FastifyRequest;
}

const items = (n: number) => ({ items: Array.from({ length: n }, (_, i) => i), total: 250 });

describe('pagination', () => {
  it('defaults to 100 from 0 and clamps larger limits to 100', () => {
    expect(pageOf({})).toEqual({ limit: 100, offset: 0 });
    expect(pageOf({ limit: 1000, offset: 5 })).toEqual({ limit: 100, offset: 5 });
  });

  it('links the next and previous pages absolutely, keeping other parameters', () => {
    const body = envelope(
      request('/v1/installs?account_id=abc&limit=100&offset=100'),
      { limit: 100, offset: 100 },
      items(100),
      (x) => x,
    );
    expect(Object.keys(body)).toEqual(['previous', 'next', 'count', 'results']);
    expect(body.count).toBe(250);
    expect(body.next).toBe(
      'https://api.example.test:8443/v1/installs?account_id=abc&limit=100&offset=200',
    );
    expect(body.previous).toBe(
      'https://api.example.test:8443/v1/installs?account_id=abc&limit=100&offset=0',
    );
  });

  it('has null links at the ends and for a zero limit', () => {
    const first = envelope(request('/v1/sites'), { limit: 100, offset: 0 }, items(100), (x) => x);
    expect(first.previous).toBeNull();
    const last = envelope(
      request('/v1/sites?offset=200'),
      { limit: 100, offset: 200 },
      items(50),
      (x) => x,
    );
    expect(last.next).toBeNull();
    const none = envelope(
      request('/v1/sites?limit=0'),
      { limit: 0, offset: 0 },
      items(0),
      (x) => x,
    );
    expect(none.next).toBeNull();
    expect(none.previous).toBeNull();
  });
});
