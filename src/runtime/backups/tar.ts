import { Writable, type Readable } from 'node:stream';

/**
 * A minimal POSIX tar (ustar, with PAX headers for long or non-ASCII paths): enough to write
 * the files of a backup and read them back. Regular files and directories only.
 */

const BLOCK = 512;

export interface TarEntry {
  /** Relative path with `/` separators; directories without a trailing slash. */
  path: string;
  type: 'file' | 'directory';
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** The file's bytes (empty for a directory). */
  data: Buffer;
}

function octal(value: number, length: number): string {
  return value.toString(8).padStart(length - 1, '0') + '\0';
}

function header(name: string, size: number, type: string, mode: number, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(Math.max(0, Math.floor(mtime)), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

/** A PAX record `<len> path=<value>\n`, whose length counts its own digits. */
function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  const bodyLength = Buffer.byteLength(body);
  let digits = String(bodyLength).length;
  while (String(bodyLength + digits).length !== digits) digits = String(bodyLength + digits).length;
  return Buffer.from(`${bodyLength + digits}${body}`, 'utf8');
}

/** The blocks of one entry: a PAX header first when the path does not fit ustar's name field. */
export function entryBlocks(entry: Omit<TarEntry, 'data'> & { size: number }): Buffer[] {
  const name = entry.type === 'directory' ? `${entry.path}/` : entry.path;
  const blocks: Buffer[] = [];
  // Plain printable ASCII names fit the ustar field.
  if (Buffer.byteLength(name) > 100 || !/^[\x20-\x7e]*$/.test(name)) {
    const pax = paxRecord('path', name);
    blocks.push(header('PaxHeader', pax.length, 'x', 0o644, entry.mtime), pax, padding(pax.length));
  }
  const shortName = Buffer.from(name, 'utf8').subarray(0, 100).toString('latin1');
  blocks.push(
    header(shortName, entry.size, entry.type === 'directory' ? '5' : '0', entry.mode, entry.mtime),
  );
  return blocks;
}

/** Writes to a stream, waiting for it to drain when its buffer is full. */
export async function writeChunk(out: Writable, chunk: Buffer): Promise<void> {
  if (chunk.length === 0) return;
  if (!out.write(chunk)) {
    await new Promise<void>((resolve, reject) => {
      const onDrain = (): void => {
        out.off('error', onError);
        resolve();
      };
      const onError = (err: Error): void => {
        out.off('drain', onDrain);
        reject(err);
      };
      out.once('drain', onDrain);
      out.once('error', onError);
    });
  }
}

/** Where a TarWriter writes: a stream, or a writer that may store some bytes uncompressed. */
export interface TarSink {
  write(chunk: Buffer, incompressible?: boolean): Promise<void>;
}

export class TarWriter {
  private readonly sink: TarSink;

  constructor(out: Writable | TarSink) {
    this.sink =
      out instanceof Writable ? { write: (chunk: Buffer) => writeChunk(out, chunk) } : out;
  }

  async add(entry: TarEntry): Promise<void> {
    for (const block of entryBlocks({ ...entry, size: entry.data.length })) {
      await this.sink.write(block);
    }
    if (entry.type === 'file') {
      await this.sink.write(entry.data);
      await this.sink.write(padding(entry.data.length));
    }
  }

  /**
   * Adds a regular file of `size` bytes whose data comes in `chunks`, read as it is written, so
   * that a large file is never held in memory whole. The chunks must add up to `size` exactly.
   * `incompressible` data is passed on marked so (headers and padding never are).
   */
  async addStreamed(
    entry: Omit<TarEntry, 'data' | 'type'>,
    size: number,
    chunks: AsyncIterable<Buffer>,
    incompressible = false,
  ): Promise<void> {
    for (const block of entryBlocks({ ...entry, type: 'file', size })) {
      await this.sink.write(block);
    }
    let written = 0;
    for await (const chunk of chunks) {
      written += chunk.length;
      if (written > size) throw new Error(`${entry.path}: more than the ${size} bytes announced`);
      await this.sink.write(chunk, incompressible);
    }
    if (written !== size) throw new Error(`${entry.path}: ${written} bytes, ${size} announced`);
    await this.sink.write(padding(size));
  }

  /** Two zero blocks end the archive. */
  async finish(): Promise<void> {
    await this.sink.write(Buffer.alloc(BLOCK * 2));
  }
}

export class TarFormatError extends Error {}

function parseOctal(buf: Buffer, start: number, length: number): number {
  const text = buf
    .subarray(start, start + length)
    .toString('ascii')
    .replace(/[\0 ]+$/g, '')
    .trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`bad number field "${text}"`);
  return parseInt(text, 8);
}

function cString(buf: Buffer, start: number, length: number): string {
  const field = buf.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space === -1) throw new TarFormatError('bad PAX record');
    const length = Number(data.subarray(offset, space).toString('ascii'));
    if (!Number.isInteger(length) || length <= 0) throw new TarFormatError('bad PAX record');
    const record = data.subarray(space + 1, offset + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    offset += length;
  }
  return out;
}

/** Collects a stream's chunks and hands out exact byte counts. */
class ByteQueue {
  private chunks: Buffer[] = [];
  private length = 0;
  private done = false;
  private readonly iterator: AsyncIterator<unknown>;

  constructor(source: Readable) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** The next `n` bytes, or null when the stream ended first. */
  async take(n: number): Promise<Buffer | null> {
    while (this.length < n && !this.done) {
      const next = await this.iterator.next();
      if (next.done === true) {
        this.done = true;
        break;
      }
      const chunk = next.value as Buffer;
      this.chunks.push(chunk);
      this.length += chunk.length;
    }
    if (this.length < n) return null;
    const first = this.chunks[0];
    const all =
      this.chunks.length === 1 && first !== undefined ? first : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length === 0 ? [] : [rest];
    this.length = rest.length;
    return out;
  }
}

/**
 * Reads the entries of an (uncompressed) tar stream in order. Throws TarFormatError on a bad
 * header checksum, a truncated entry or a missing end.
 */
export async function* readTar(source: Readable): AsyncGenerator<TarEntry> {
  const q = new ByteQueue(source);
  let pax: Record<string, string> = {};
  for (;;) {
    const h = await q.take(BLOCK);
    if (h === null) throw new TarFormatError('the archive ends without its end blocks');
    if (h.every((b) => b === 0)) return;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i] ?? 0);
    if (sum !== parseOctal(h, 148, 8)) throw new TarFormatError('a header checksum is wrong');
    const size = parseOctal(h, 124, 12);
    const type = String.fromCharCode(h[156] ?? 0);
    const data = await q.take(size);
    if (data === null) throw new TarFormatError('the archive is truncated');
    if ((await q.take(padding(size).length)) === null) {
      throw new TarFormatError('the archive is truncated');
    }
    if (type === 'x') {
      pax = parsePax(data);
      continue;
    }
    let name = pax.path ?? cString(h, 0, 100);
    const prefix = pax.path === undefined ? cString(h, 345, 155) : '';
    if (prefix !== '') name = `${prefix}/${name}`;
    pax = {};
    const directory = type === '5';
    if (!directory && type !== '0' && type !== '\0') continue;
    yield {
      path: name.replace(/\/+$/, ''),
      type: directory ? 'directory' : 'file',
      mode: parseOctal(h, 100, 8),
      mtime: parseOctal(h, 136, 12),
      data: Buffer.from(data),
    };
  }
}
