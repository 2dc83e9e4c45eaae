import type { Writable } from 'node:stream';
import zlib from 'node:zlib';
import { writeChunk, writeThrough, type TarSink } from './tar.js';

/**
 * A gzip stream (one member, RFC 1952) whose deflate data mixes compressed runs with stored
 * blocks: bytes marked incompressible (a JPEG, a video, a zip) are stored as they are instead of
 * being run through deflate, which costs as much CPU as compressing text and gains nothing on
 * them. Any gzip reader reads it: stored blocks are plain deflate (RFC 1951, BTYPE 00).
 *
 * Each compressed run is its own raw deflate stream ended with a sync flush, which leaves the
 * output at a byte boundary without a final block; stored blocks follow at that boundary, and
 * one empty final block ends the data. zlib's own `params()` could switch levels in one stream,
 * but an error while a switch is pending throws outside any handler (Node 20).
 */
export class GzipWriter implements TarSink {
  /** The compressed run in progress, until its last byte has reached the output. */
  private deflater: zlib.DeflateRaw | null = null;
  private deflaterDone: Promise<void> = Promise.resolve();
  private failed: Error | null = null;
  private crc = 0;
  private size = 0;
  private started = false;

  constructor(
    private readonly out: Writable,
    private readonly level = 6,
  ) {
    // A failed output (a full disk) must fail the run feeding it too, not leave it waiting.
    out.once('error', (err) => {
      this.failed = err;
      this.deflater?.destroy(err);
    });
  }

  /**
   * Appends `data`, compressed, or stored as it is when `incompressible`. Resolves once `data`
   * has been taken in (deflated, or written out), so that its buffer can be reused.
   */
  async write(data: Buffer, incompressible = false): Promise<void> {
    if (data.length === 0) return;
    await this.start();
    this.crc = crc32(data, this.crc);
    this.size += data.length;
    if (!incompressible) {
      await writeThrough(this.runDeflater(), data);
      return;
    }
    await this.endRun();
    for (let at = 0; at < data.length; at += STORED_MAX) {
      if (this.failed !== null) throw this.failed;
      const piece = data.subarray(at, at + STORED_MAX);
      const header = Buffer.alloc(5);
      // BFINAL 0, BTYPE 00, padded to the byte; then LEN and its one's complement NLEN.
      header.writeUInt16LE(piece.length, 1);
      header.writeUInt16LE(~piece.length & 0xffff, 3);
      this.out.write(header);
      // The stream takes writes in order: once it has the last piece, it has them all.
      if (at + STORED_MAX < data.length) this.out.write(piece);
      else await writeThrough(this.out, piece);
    }
  }

  /** Ends the deflate data and writes the trailer. Does not end the output stream. */
  async finish(): Promise<void> {
    await this.start();
    await this.endRun();
    const trailer = Buffer.alloc(10);
    // An empty final block with fixed codes: BFINAL 1, BTYPE 01, end-of-block.
    trailer[0] = 0x03;
    trailer[1] = 0x00;
    trailer.writeUInt32LE(this.crc >>> 0, 2);
    trailer.writeUInt32LE(this.size % 2 ** 32, 6);
    await this.put(trailer);
  }

  /** Stops the run in progress, if any (after an error elsewhere). */
  destroy(): void {
    this.deflater?.destroy();
  }

  private async put(chunk: Buffer): Promise<void> {
    if (this.failed !== null) throw this.failed;
    await writeChunk(this.out, chunk);
  }

  private async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    // ID1 ID2, CM deflate, no flags, no mtime, XFL 0, OS 3 (Unix): as zlib's own gzip writes it.
    await this.put(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]));
  }

  private runDeflater(): zlib.DeflateRaw {
    if (this.failed !== null) throw this.failed;
    if (this.deflater !== null) return this.deflater;
    const deflater = zlib.createDeflateRaw({
      level: this.level,
      // Ending the run flushes to a byte boundary and writes no final block.
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    });
    this.deflaterDone = new Promise<void>((resolve, reject) => {
      deflater.once('end', resolve);
      deflater.once('error', reject);
    });
    deflater.pipe(this.out, { end: false });
    this.deflater = deflater;
    return deflater;
  }

  private async endRun(): Promise<void> {
    const deflater = this.deflater;
    if (deflater === null) return;
    deflater.end();
    try {
      await this.deflaterDone;
    } finally {
      this.deflater = null;
    }
  }
}

/** Deflate's stored blocks hold at most 65,535 bytes. */
const STORED_MAX = 0xffff;

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 as gzip uses it: zlib's own when this Node has it (20.15 and later). */
function crc32(data: Buffer, value: number): number {
  if (typeof (zlib as { crc32?: unknown }).crc32 === 'function') return zlib.crc32(data, value);
  return crc32Table(data, value);
}

/** CRC-32 computed with a table, for a Node without zlib.crc32. */
export function crc32Table(data: Buffer, value = 0): number {
  let c = ~value >>> 0;
  for (const byte of data) c = (TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  return ~c >>> 0;
}

/** Bytes of a sample that deflate must save for a file to be worth compressing. */
const MIN_SAVING = 0.1;

/**
 * Whether data like `sample` (a piece of a file) gains little from deflate: already compressed
 * media and archives. Judged by deflating the sample at the fastest level.
 */
export function looksIncompressible(sample: Buffer): boolean {
  if (sample.length < 4096) return false;
  const packed = zlib.deflateRawSync(sample, { level: 1 });
  return packed.length > sample.length * (1 - MIN_SAVING);
}
