import { pipeline, Transform, type Readable } from 'node:stream';
import { extract } from 'tar-stream';

/**
 * Reads a tar stream entry by entry with tar-stream, each entry's bytes handed on as they come:
 * however large a file, no more than a chunk of it is in memory at once (the stream's backpressure
 * holds the source back until the entry's reader has taken what it was given).
 */

const BLOCK = 512;

/** What an archive entry is. Backups hold only files and directories; the rest is refused. */
export type TarEntryType = 'file' | 'directory' | 'symlink' | 'link' | 'other';

export interface TarReadEntry {
  /** As stored, with `/` separators; a directory's trailing slash removed. */
  path: string;
  type: TarEntryType;
  /** Where a link points (as stored), null for other entries. */
  linkname: string | null;
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
  size: number;
  /**
   * The entry's bytes, in chunks. Read it before asking for the next entry, or leave it: what is
   * left is skipped. Never stop reading it half way (that ends the whole archive).
   */
  body: AsyncIterable<Buffer>;
}

export class TarFormatError extends Error {}

function typeOf(type: string): TarEntryType {
  switch (type) {
    case 'file':
    case 'directory':
    case 'symlink':
    case 'link':
      return type;
    default:
      return 'other';
  }
}

/** Reads a stream to its end, dropping what it reads. */
async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  const iterator = stream[Symbol.asyncIterator]();
  while ((await iterator.next()).done !== true) {
    // Dropped.
  }
}

function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

/** tar-stream's messages, in this project's words. */
function formatError(err: Error): TarFormatError {
  if (/unexpected end/i.test(err.message)) return new TarFormatError('the archive is truncated');
  if (/checksum|invalid tar header/i.test(err.message)) {
    return new TarFormatError(`a header is damaged (${err.message})`);
  }
  return new TarFormatError(err.message);
}

/**
 * Reads the entries of an (uncompressed) tar stream in order. Throws TarFormatError on a bad
 * header, a truncated entry or a missing end; an error of `source` itself is thrown as it is.
 */
export async function* readTar(source: Readable): AsyncGenerator<TarReadEntry> {
  let total = 0;
  let sourceError: Error | null = null;
  // Counts the bytes read: the two zero blocks that end an archive must follow its last entry.
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      total += chunk.length;
      done(null, chunk);
    },
  });
  source.once('error', (err) => {
    sourceError = err;
  });
  const entries = extract();
  // An entry's stream fails with a bare "destroyed" when the archive does: the cause comes here.
  const failed = new Promise<Error | null>((resolve) => {
    pipeline(source, counter, entries, (err) => {
      resolve(err ?? null);
    });
  });
  const fail = (err: unknown): unknown =>
    err === sourceError || !(err instanceof Error) ? err : formatError(err);
  async function* chunks(body: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    try {
      yield* body;
    } catch (err) {
      throw fail((await failed) ?? err);
    }
  }
  let end = 0;
  try {
    for await (const entry of entries) {
      const { header } = entry;
      end = entry.offset + BLOCK + padded(header.size);
      yield {
        path: header.name.replace(/\/+$/, ''),
        type: typeOf(header.type),
        linkname: header.linkname === '' ? null : header.linkname,
        mode: header.mode,
        mtime: Math.floor(header.mtime.getTime() / 1000),
        size: header.size,
        body: chunks(entry as AsyncIterable<Buffer>),
      };
      // Whatever the reader left of this entry is skipped, so that the next one can come.
      await drain(entry);
    }
  } catch (err) {
    throw fail(err);
  } finally {
    entries.destroy();
  }
  if (total - end < 2 * BLOCK) {
    throw new TarFormatError('the archive ends without its end blocks');
  }
}
