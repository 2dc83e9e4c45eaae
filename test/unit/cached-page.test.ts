import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { acceptedEncodings, CachedPage, type Variant } from '../../src/edge/cached-page.js';
import type { PhpResponse } from '../../src/runtime/php/types.js';

const html = `<!doctype html><title>t</title>${'<p>WordPress</p>'.repeat(400)}`;

function response(body: Buffer | string, headers: Record<string, string[]> = {}): PhpResponse {
  return {
    status: 200,
    headers: { 'content-type': ['text/html; charset=UTF-8'], ...headers },
    body: new Uint8Array(Buffer.from(body)),
  };
}

function headerMap(v: Variant): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i < v.headers.length; i += 2) {
    const name = (v.headers[i] ?? '').toLowerCase();
    (out[name] ??= []).push(v.headers[i + 1] ?? '');
  }
  return out;
}

async function until<T>(get: () => T | null | undefined): Promise<T> {
  for (let i = 0; i < 200; i += 1) {
    const v = get();
    if (v !== null && v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('never ready');
}

describe('what a client takes, from Accept-Encoding', () => {
  it.each([
    [undefined, { br: false, gzip: false }],
    ['', { br: false, gzip: false }],
    ['gzip, deflate, br', { br: true, gzip: true }],
    ['gzip', { br: false, gzip: true }],
    ['br;q=0, gzip;q=0.5', { br: false, gzip: true }],
    ['*', { br: true, gzip: true }],
    ['*, br;q=0', { br: false, gzip: true }],
    ['identity', { br: false, gzip: false }],
    ['GZIP', { br: false, gzip: true }],
  ])('%s', (header, expected) => {
    expect(acceptedEncodings(header)).toEqual(expected);
  });
});

describe('a cached page', () => {
  it('answers with PHP headers less the hop-by-hop ones, and its own length and X-Cache', () => {
    const page = new CachedPage(
      response(html, {
        'x-powered-by': ['PHP/8.3'],
        connection: ['close'],
        'content-length': ['1'],
        'transfer-encoding': ['chunked'],
        link: ['<a>; rel="x"', '<b>; rel="y"'],
      }),
    );
    const v = page.variantFor({ br: false, gzip: false });
    expect(v).not.toBeNull();
    const h = headerMap(v as Variant);
    expect(h).toEqual({
      'content-type': ['text/html; charset=UTF-8'],
      'x-powered-by': ['PHP/8.3'],
      link: ['<a>; rel="x"', '<b>; rel="y"'],
      vary: ['Accept-Encoding'],
      'x-cache': ['HIT'],
      'content-length': [String(Buffer.byteLength(html))],
    });
    expect(v?.body.toString()).toBe(html);
  });

  it('makes each compressed copy once, off the hot path, and serves it once made', async () => {
    const page = new CachedPage(response(html, { vary: ['Cookie'] }));
    // Asked first: the plain body while brotli is made.
    const first = page.variantFor({ br: true, gzip: true });
    expect(headerMap(first as Variant)['content-encoding']).toBeUndefined();
    const br = await until(() => {
      const v = page.variantFor({ br: true, gzip: true });
      return headerMap(v as Variant)['content-encoding']?.[0] === 'br' ? v : null;
    });
    expect(zlib.brotliDecompressSync(br.body).toString()).toBe(html);
    expect(headerMap(br)).toMatchObject({
      vary: ['Cookie, Accept-Encoding'],
      'content-length': [String(br.body.length)],
    });
    expect(br.body.length).toBeLessThan(Buffer.byteLength(html) / 5);
    const gz = await until(() => {
      const v = page.variantFor({ br: false, gzip: true });
      return headerMap(v as Variant)['content-encoding']?.[0] === 'gzip' ? v : null;
    });
    expect(zlib.gunzipSync(gz.body).toString()).toBe(html);
    // The same objects every time: nothing is compressed per hit.
    expect(page.variantFor({ br: true, gzip: true })).toBe(br);
    expect(page.variantFor({ br: false, gzip: true })).toBe(gz);
  });

  it('keeps a page PHP compressed as it came, and decodes it once for other clients', async () => {
    const gz = zlib.gzipSync(html);
    const page = new CachedPage(response(gz, { 'content-encoding': ['gzip'] }));
    const asked = page.variantFor({ br: false, gzip: true });
    expect(asked?.body.equals(gz)).toBe(true);
    expect(headerMap(asked as Variant)['content-encoding']).toEqual(['gzip']);
    await page.ready();
    const plain = page.variantFor({ br: false, gzip: false });
    expect(plain?.body.toString()).toBe(html);
    expect(headerMap(plain as Variant)['content-encoding']).toBeUndefined();
  });

  it('does not compress, nor vary, a tiny page', async () => {
    const page = new CachedPage(response('ok'));
    page.variantFor({ br: true, gzip: true });
    await new Promise((r) => setTimeout(r, 50));
    const v = page.variantFor({ br: true, gzip: true });
    expect(v?.body.toString()).toBe('ok');
    expect(headerMap(v as Variant).vary).toBeUndefined();
  });
});
