import { Writable } from 'node:stream';

/**
 * Writes the POSIX tar (ustar, with PAX headers for long or non-ASCII paths) of a backup's files:
 * regular files and directories only, each file's data passed on a chunk at a time as it is
 * read. Reading archives back is tar-reader.ts (tar-stream). The writer is our own because it
 * streams already and tells the gzip writer which bytes are a file's data, so that incompressible
 * files are stored rather than deflated (tar-stream's pack hands headers and data on mixed); and
 * it writes exactly the bytes archives have always had.
 */

const BLOCK = 512;

export interface TarEntryHeader {
  /** Relative path with `/` separators; directories without a trailing slash. */
  path: string;
  type: 'file' | 'directory';
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
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

/** A PAX record `<len> <key>=<value>\n`, whose length counts its own digits. */
function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  const bodyLength = Buffer.byteLength(body);
  let digits = String(bodyLength).length;
  while (String(bodyLength + digits).length !== digits) digits = String(bodyLength + digits).length;
  return Buffer.from(`${bodyLength + digits}${body}`, 'utf8');
}

/** ustar's size field holds 11 octal digits: 8 GiB less one byte. */
const USTAR_MAX_SIZE = 8 ** 11 - 1;

/**
 * The blocks of one entry: a PAX header first when the path does not fit ustar's name field or
 * the size its size field (a file of 8 GiB or more; the ustar field then says 0, as GNU tar does).
 */
export function entryBlocks(entry: TarEntryHeader & { size: number }): Buffer[] {
  const name = entry.type === 'directory' ? `${entry.path}/` : entry.path;
  const records: Buffer[] = [];
  // Plain printable ASCII names fit the ustar field.
  if (Buffer.byteLength(name) > 100 || !/^[\x20-\x7e]*$/.test(name)) {
    records.push(paxRecord('path', name));
  }
  const large = entry.size > USTAR_MAX_SIZE;
  if (large) records.push(paxRecord('size', String(entry.size)));
  const blocks: Buffer[] = [];
  if (records.length > 0) {
    const pax = Buffer.concat(records);
    blocks.push(header('PaxHeader', pax.length, 'x', 0o644, entry.mtime), pax, padding(pax.length));
  }
  const shortName = Buffer.from(name, 'utf8').subarray(0, 100).toString('latin1');
  const type = entry.type === 'directory' ? '5' : '0';
  blocks.push(header(shortName, large ? 0 : entry.size, type, entry.mode, entry.mtime));
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

/**
 * Writes to a stream and resolves once the stream has taken the chunk in (written it out, or
 * processed it if it is a transform): the chunk's memory may be used again from then on.
 */
export function writeThrough(out: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    out.write(chunk, (err) => {
      if (err) reject(err);
      else resolve();
    });
  });
}

/**
 * Where a TarWriter writes: a stream, or a writer that may store some bytes uncompressed. A
 * write resolves once `chunk` is no longer needed, so that its buffer can take the next chunk.
 */
export interface TarSink {
  write(chunk: Buffer, incompressible?: boolean): Promise<void>;
}

export class TarWriter {
  private readonly sink: TarSink;

  constructor(out: Writable | TarSink) {
    this.sink =
      out instanceof Writable ? { write: (chunk: Buffer) => writeThrough(out, chunk) } : out;
  }

  async addDirectory(entry: Omit<TarEntryHeader, 'type'>): Promise<void> {
    for (const block of entryBlocks({ ...entry, type: 'directory', size: 0 })) {
      await this.sink.write(block);
    }
  }

  /**
   * Adds a regular file of `size` bytes whose data comes in `chunks`, read as it is written, so
   * that a large file is never held in memory whole. The chunks must add up to `size` exactly.
   * The next chunk is asked for once the last one is written: it may reuse that one's buffer.
   * `incompressible` data is passed on marked so (headers and padding never are).
   */
  async addFile(
    entry: Omit<TarEntryHeader, 'type'>,
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
