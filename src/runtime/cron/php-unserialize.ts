/**
 * A small PHP `unserialize()` for values WordPress stores in its options (the `cron` option is
 * the reason): the scheduler reads them straight from an install's database, without waking the
 * install's PHP. It reads bytes, as PHP does (`s:5:"héllo"` counts bytes, not characters), never
 * instantiates anything (objects come back as plain records of their class name and
 * properties), and fails with PhpUnserializeError on anything malformed rather than guessing:
 * the value comes from a database the site's own code writes.
 */

export type PhpValue = null | boolean | number | string | PhpArray | PhpObject | PhpReference;

/** A PHP array: keys in order, integer keys as numbers (PHP turns "123" into 123 too). */
export type PhpArray = Map<number | string, PhpValue>;

/** An object, not instantiated: its class and properties (or the raw data of `C:` classes). */
export interface PhpObject {
  kind: 'object';
  className: string;
  properties: Map<string, PhpValue>;
  /** The payload of a class that serializes itself (`C:`), as bytes decoded as UTF-8. */
  custom: string | null;
}

/** `r:N;` / `R:N;`: a back-reference to the Nth value; not resolved (no caller needs it). */
export interface PhpReference {
  kind: 'reference';
  index: number;
}

export class PhpUnserializeError extends Error {
  override readonly name = 'PhpUnserializeError';

  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at byte ${offset}`);
  }
}

/** Deeper nesting than any option WordPress writes; bounds the recursion on crafted input. */
const MAX_DEPTH = 64;

const COLON = 0x3a;
const SEMICOLON = 0x3b;
const QUOTE = 0x22;
const OPEN = 0x7b;
const CLOSE = 0x7d;

/** What PHP's array key normalisation turns into an integer key ("7", "-3"; not "07", "1.5"). */
const INTEGER_KEY = /^(0|-?[1-9][0-9]{0,18})$/;

/** Unserializes one value that must span the whole input (trailing bytes are refused). */
export function phpUnserialize(input: Uint8Array | string): PhpValue {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input);
  const parser = new Parser(bytes);
  const value = parser.value(0);
  if (parser.at !== bytes.length) {
    throw new PhpUnserializeError('unexpected bytes after the value', parser.at);
  }
  return value;
}

class Parser {
  at = 0;

  constructor(private readonly bytes: Buffer) {}

  value(depth: number): PhpValue {
    if (depth > MAX_DEPTH) throw this.error('nesting deeper than 64');
    const type = this.byte();
    switch (type) {
      case 'N':
        this.expect(SEMICOLON);
        return null;
      case 'b': {
        this.expect(COLON);
        const digits = this.until(SEMICOLON);
        if (digits !== '0' && digits !== '1') throw this.error(`bad boolean "${digits}"`);
        return digits === '1';
      }
      case 'i': {
        this.expect(COLON);
        return this.integer(this.until(SEMICOLON));
      }
      case 'd': {
        this.expect(COLON);
        return this.float(this.until(SEMICOLON));
      }
      case 's': {
        const text = this.string();
        this.expect(SEMICOLON);
        return text;
      }
      case 'a':
        return this.array(depth);
      case 'O':
        return this.object(depth);
      case 'C':
        return this.custom();
      case 'E': {
        // PHP 8.1 enums: E:len:"Class:Case";
        const name = this.string();
        this.expect(SEMICOLON);
        const colon = name.indexOf(':');
        return {
          kind: 'object',
          className: colon < 0 ? name : name.slice(0, colon),
          properties: new Map([['case', colon < 0 ? '' : name.slice(colon + 1)]]),
          custom: null,
        };
      }
      case 'r':
      case 'R': {
        this.expect(COLON);
        const index = this.until(SEMICOLON);
        if (!/^[0-9]{1,10}$/.test(index)) throw this.error(`bad reference "${index}"`);
        return { kind: 'reference', index: Number(index) };
      }
      default:
        this.at -= 1;
        throw this.error(`unknown type "${type}"`);
    }
  }

  /** a:N:{key;value…} */
  private array(depth: number): PhpArray {
    this.expect(COLON);
    const n = this.count(this.until(COLON));
    this.expect(OPEN);
    const out: PhpArray = new Map();
    for (let i = 0; i < n; i++) out.set(this.key(), this.value(depth + 1));
    this.expect(CLOSE);
    return out;
  }

  /** O:len:"Class":N:{name;value…} */
  private object(depth: number): PhpObject {
    const className = this.string();
    this.expect(COLON);
    const n = this.count(this.until(COLON));
    this.expect(OPEN);
    const properties = new Map<string, PhpValue>();
    for (let i = 0; i < n; i++) properties.set(String(this.key()), this.value(depth + 1));
    this.expect(CLOSE);
    return { kind: 'object', className, properties, custom: null };
  }

  /** C:len:"Class":len:{data} */
  private custom(): PhpObject {
    const className = this.string();
    this.expect(COLON);
    const length = this.count(this.until(COLON));
    this.expect(OPEN);
    const custom = this.take(length).toString('utf8');
    this.expect(CLOSE);
    return { kind: 'object', className, properties: new Map(), custom };
  }

  /** An array key: `i:N;` or `s:len:"…";` (integer-like strings become numbers, as in PHP). */
  private key(): number | string {
    const type = this.byte();
    if (type === 'i') {
      this.expect(COLON);
      return this.integer(this.until(SEMICOLON));
    }
    if (type === 's') {
      const text = this.string();
      this.expect(SEMICOLON);
      if (INTEGER_KEY.test(text)) {
        const n = Number(text);
        if (Number.isSafeInteger(n)) return n;
      }
      return text;
    }
    this.at -= 1;
    throw this.error(`array key of type "${type}"`);
  }

  /** `:len:"bytes"` after the type letter; the quotes are checked, the bytes taken as counted. */
  private string(): string {
    this.expect(COLON);
    const length = this.count(this.until(COLON));
    this.expect(QUOTE);
    const text = this.take(length).toString('utf8');
    this.expect(QUOTE);
    return text;
  }

  private integer(digits: string): number {
    if (!/^[+-]?[0-9]{1,20}$/.test(digits)) throw this.error(`bad integer "${digits}"`);
    return Number(digits);
  }

  private float(text: string): number {
    if (text === 'INF') return Infinity;
    if (text === '-INF') return -Infinity;
    if (text === 'NAN') return NaN;
    if (!/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(text)) {
      throw this.error(`bad float "${text}"`);
    }
    return Number(text);
  }

  /** A length or element count: no sign, and never more than the bytes left could hold. */
  private count(digits: string): number {
    if (!/^[0-9]{1,10}$/.test(digits)) throw this.error(`bad count "${digits}"`);
    const n = Number(digits);
    if (n > this.bytes.length - this.at) throw this.error(`count ${n} beyond the end`);
    return n;
  }

  private byte(): string {
    if (this.at >= this.bytes.length) throw this.error('unexpected end');
    return String.fromCharCode(this.bytes[this.at++] ?? 0);
  }

  private expect(code: number): void {
    if (this.bytes[this.at] !== code) {
      throw this.error(`expected "${String.fromCharCode(code)}"`);
    }
    this.at += 1;
  }

  /** The ASCII text up to `code` (consumed, not returned); at most 32 bytes. */
  private until(code: number): string {
    const end = this.bytes.indexOf(code, this.at);
    if (end < 0 || end - this.at > 32) throw this.error(`expected "${String.fromCharCode(code)}"`);
    const text = this.bytes.toString('latin1', this.at, end);
    this.at = end + 1;
    return text;
  }

  private take(length: number): Buffer {
    if (this.at + length > this.bytes.length) throw this.error('string beyond the end');
    const slice = this.bytes.subarray(this.at, this.at + length);
    this.at += length;
    return slice;
  }

  private error(message: string): PhpUnserializeError {
    return new PhpUnserializeError(message, this.at);
  }
}
