import zlib from 'node:zlib';
import type { PhpResponse } from '../runtime/php/types.js';
import { remembered } from './remembered.js';

type Encoding = 'br' | 'gzip' | 'identity';

/** Headers that describe one connection or one body's framing: never copied from PHP's answer. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'content-length',
]);

/** What a kept page sets itself, per encoding and per hit. */
const SET_HERE = new Set([...HOP_BY_HOP, 'content-encoding', 'vary', 'x-cache']);

/** Bodies smaller than this are not worth compressing (nor a Vary on them). */
const MIN_COMPRESS = 1024;

/** One body of the page, with the exact header list a HIT answers it with. */
export interface Variant {
  /** Flat `[name, value, name, value, …]`, as `writeHead` takes it without copying. */
  headers: string[];
  body: Buffer;
}

function gzip(body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zlib.gzip(body, { level: 6 }, (err, out) => {
      if (err === null) resolve(out);
      else reject(err);
    });
  });
}

function brotli(body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zlib.brotliCompress(
      body,
      {
        params: {
          [zlib.constants.BROTLI_PARAM_QUALITY]: 5,
          [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length,
        },
      },
      (err, out) => {
        if (err === null) resolve(out);
        else reject(err);
      },
    );
  });
}

function decode(body: Buffer, encoding: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, out: Buffer): void => {
      if (err === null) resolve(out);
      else reject(err);
    };
    if (encoding === 'br') zlib.brotliDecompress(body, done);
    else if (encoding === 'gzip' || encoding === 'x-gzip') zlib.gunzip(body, done);
    else if (encoding === 'deflate') zlib.inflate(body, done);
    else reject(new Error(`cannot decode ${encoding}`));
  });
}

/** The codings a client takes besides none, from its `Accept-Encoding`. */
export interface Accepted {
  br: boolean;
  gzip: boolean;
}

const NONE: Accepted = { br: false, gzip: false };

/** Clients send a handful of distinct Accept-Encoding values: each is parsed once. */
const parsed = remembered(parseAcceptEncoding, 256);

/**
 * What a client's `Accept-Encoding` allows: a coding listed with `q=0` is refused; `*` stands
 * for any coding not listed.
 */
export function acceptedEncodings(header: string | undefined): Accepted {
  return header === undefined || header === '' ? NONE : parsed(header);
}

function parseAcceptEncoding(header: string): Accepted {
  let br: boolean | undefined;
  let gz: boolean | undefined;
  let any: boolean | undefined;
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const ok = q === undefined || Number(q.slice(2)) > 0;
    if (name === 'br') br = ok;
    else if (name === 'gzip' || name === 'x-gzip') gz = ok;
    else if (name === '*') any = ok;
  }
  return { br: br ?? any ?? false, gzip: gz ?? any ?? false };
}

/**
 * A page kept by the cache, ready to be answered as it is on every HIT: its header list is
 * built once (PHP's headers less the hop-by-hop ones, `Vary: Accept-Encoding`, `X-Cache: HIT`,
 * the length), and each encoding is made once, the first time a client asks for it, off the
 * event loop (zlib's thread pool); until it is ready, that client gets another encoding it
 * accepts or the identity body. A page PHP sent compressed is kept as it came and decoded
 * once for clients that do not take that coding.
 */
export class CachedPage {
  readonly status: number;
  private readonly base: string[];
  private readonly variants = new Map<Encoding, Variant>();
  private readonly making = new Set<Encoding>();
  /** Set while the identity body of a page PHP sent encoded is being decoded. */
  private decoding: Promise<void> | null = null;
  private readonly compressible: boolean;

  constructor(readonly response: PhpResponse) {
    this.status = response.status;
    const headers: string[] = [];
    let vary = '';
    for (const [name, values] of Object.entries(response.headers)) {
      const lower = name.toLowerCase();
      if (lower === 'vary') vary = values.join(', ');
      if (SET_HERE.has(lower)) continue;
      for (const value of values) headers.push(name, value);
    }
    // A copy of its own: PHP's body arrives as a view at any offset into the message that
    // carried it, and the kernel copies an aligned buffer into the socket measurably faster (and
    // the message's other bytes need not stay in memory as long as the page does).
    const body = Buffer.from(response.body);
    const sent = (response.headers['content-encoding'] ?? []).join(',').trim().toLowerCase();
    this.compressible = body.length >= MIN_COMPRESS || sent !== '';
    if (this.compressible && !/(^|,)\s*(accept-encoding|\*)\s*(,|$)/i.test(vary)) {
      vary = vary === '' ? 'Accept-Encoding' : `${vary}, Accept-Encoding`;
    }
    if (vary !== '') headers.push('vary', vary);
    headers.push('x-cache', 'HIT');
    this.base = headers;
    if (sent === '' || sent === 'identity') {
      this.variants.set('identity', this.variant(body, 'identity'));
    } else if (sent === 'br' || sent === 'gzip') {
      this.variants.set(sent, this.variant(body, sent));
      this.decoding = decode(body, sent).then(
        (plain) => {
          this.variants.set('identity', this.variant(plain, 'identity'));
        },
        () => undefined,
      );
    } else {
      // A coding we do not make (deflate…): decode it, and serve only what we can describe.
      this.decoding = decode(body, sent).then(
        (plain) => {
          this.variants.set('identity', this.variant(plain, 'identity'));
        },
        () => undefined,
      );
    }
  }

  /**
   * The body to answer a client with: brotli, else gzip, else none, among what it takes and
   * what is made already (asking for a coding not made yet starts making it). Null when the page
   * was sent encoded in a coding the client does not take and its plain body is not decoded yet
   * (the caller awaits `ready()`).
   */
  variantFor(accepted: Accepted): Variant | null {
    if (accepted.br) {
      const br = this.variants.get('br');
      if (br !== undefined) return br;
      this.make('br');
    }
    if (accepted.gzip) {
      const gz = this.variants.get('gzip');
      if (gz !== undefined) return gz;
      this.make('gzip');
    }
    return this.variants.get('identity') ?? null;
  }

  /** Resolves once the plain body of a page sent encoded is there (at once otherwise). */
  async ready(): Promise<void> {
    await this.decoding;
  }

  private make(encoding: 'br' | 'gzip'): void {
    const plain = this.variants.get('identity');
    if (!this.compressible || plain === undefined || this.making.has(encoding)) return;
    this.making.add(encoding);
    (encoding === 'br' ? brotli(plain.body) : gzip(plain.body)).then(
      (body) => {
        this.variants.set(encoding, this.variant(body, encoding));
      },
      () => {
        // Left to the plain body; no retry per hit.
      },
    );
  }

  private variant(body: Buffer, encoding: Encoding): Variant {
    const headers = [...this.base];
    if (encoding !== 'identity') headers.push('content-encoding', encoding);
    headers.push('content-length', String(body.length));
    return { headers, body };
  }
}
