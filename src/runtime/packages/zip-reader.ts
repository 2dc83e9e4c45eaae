import fs from 'node:fs/promises';
import zlib from 'node:zlib';

/** Why a file is not a zip we read; the caller words it for its user. */
export class ZipFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipFormatError';
  }
}

export interface ZipEntry {
  /** With `/` separators; a directory's ends in `/`. */
  name: string;
  isDirectory: boolean;
  method: number;
  compressedSize: number;
  size: number;
  crc: number;
  localOffset: number;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX_ENTRIES = 100_000;
/** Uncompressed bytes of all entries together: a zip bomb stops here. */
const MAX_UNPACKED = 1024 * 1024 * 1024;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/**
 * A zip read from its central directory, as unzip and PHP's ZipArchive read it (the directory
 * is authoritative; local headers may leave sizes to a data descriptor). Only what package zips
 * use: stored and deflated entries, no encryption, no ZIP64, no symbolic links. Entries are read
 * on demand and checked against their CRC-32.
 */
export class ZipArchive {
  private constructor(
    private readonly handle: fs.FileHandle,
    readonly entries: ZipEntry[],
  ) {}

  static async open(file: string): Promise<ZipArchive> {
    const handle = await fs.open(file, 'r');
    try {
      return new ZipArchive(handle, await readDirectory(handle));
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  /** The entry's bytes, inflated and checked; at most `limit` bytes of it when given. */
  async read(entry: ZipEntry, limit?: number): Promise<Buffer> {
    const header = await readAt(this.handle, entry.localOffset, 30);
    if (header.length < 30 || header.readUInt32LE(0) !== LOCAL) {
      throw new ZipFormatError(`the local header of ${entry.name} is missing`);
    }
    const start = entry.localOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
    const raw = await readAt(this.handle, start, entry.compressedSize);
    if (raw.length < entry.compressedSize) throw new ZipFormatError(`${entry.name} is truncated`);
    let bytes: Buffer;
    if (entry.method === 0) {
      bytes = raw;
    } else {
      try {
        bytes = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) });
      } catch (err) {
        throw new ZipFormatError(
          `${entry.name} does not inflate (${err instanceof Error ? err.message : String(err)})`,
        );
      }
    }
    if (bytes.length !== entry.size || crc32(bytes) !== entry.crc) {
      throw new ZipFormatError(`${entry.name} is damaged (its CRC-32 or size does not match)`);
    }
    return limit === undefined ? bytes : bytes.subarray(0, limit);
  }

  /** Reads every file once: a damaged entry anywhere fails here rather than at install. */
  async verifyAll(): Promise<void> {
    for (const entry of this.entries) if (!entry.isDirectory) await this.read(entry);
  }
}

async function readAt(handle: fs.FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done);
}

async function readDirectory(handle: fs.FileHandle): Promise<ZipEntry[]> {
  const { size } = await handle.stat();
  const tailLength = Math.min(size, 22 + 0xffff);
  const tail = await readAt(handle, size - tailLength, tailLength);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD) {
      at = i;
      break;
    }
  }
  if (at < 0) throw new ZipFormatError('not a zip file: it has no end-of-central-directory record');
  const count = tail.readUInt16LE(at + 10);
  const directorySize = tail.readUInt32LE(at + 12);
  const directoryOffset = tail.readUInt32LE(at + 16);
  if (tail.readUInt16LE(at + 4) !== 0 || tail.readUInt16LE(at + 6) !== 0) {
    throw new ZipFormatError('a zip split over several disks');
  }
  if (count === 0xffff || directoryOffset === 0xffffffff || directorySize === 0xffffffff) {
    throw new ZipFormatError('a ZIP64 archive, which is not supported');
  }
  if (count > MAX_ENTRIES) throw new ZipFormatError(`more than ${MAX_ENTRIES} entries`);
  if (directoryOffset + directorySize > size) throw new ZipFormatError('the zip is truncated');
  const directory = await readAt(handle, directoryOffset, directorySize);
  const entries: ZipEntry[] = [];
  let unpacked = 0;
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > directory.length || directory.readUInt32LE(p) !== CENTRAL) {
      throw new ZipFormatError('its central directory is damaged');
    }
    const madeBy = directory.readUInt16LE(p + 4) >> 8;
    const flags = directory.readUInt16LE(p + 8);
    const method = directory.readUInt16LE(p + 10);
    const nameLength = directory.readUInt16LE(p + 28);
    const skip = directory.readUInt16LE(p + 30) + directory.readUInt16LE(p + 32);
    const external = directory.readUInt32LE(p + 38);
    const rawName = directory.subarray(p + 46, p + 46 + nameLength);
    const name = rawName.toString(flags & 0x800 ? 'utf8' : 'latin1').replace(/\\/g, '/');
    const entry: ZipEntry = {
      name,
      isDirectory: name.endsWith('/'),
      method,
      crc: directory.readUInt32LE(p + 16),
      compressedSize: directory.readUInt32LE(p + 20),
      size: directory.readUInt32LE(p + 24),
      localOffset: directory.readUInt32LE(p + 42),
    };
    p += 46 + nameLength + skip;
    if (flags & 0x1) throw new ZipFormatError(`${name} is encrypted`);
    if (method !== 0 && method !== 8) {
      throw new ZipFormatError(`${name} uses compression method ${method} (only stored, deflate)`);
    }
    if (madeBy === 3 && ((external >>> 16) & S_IFMT) === S_IFLNK) {
      throw new ZipFormatError(`${name} is a symbolic link`);
    }
    const parts = name.split('/');
    if (
      name.startsWith('/') ||
      /^[A-Za-z]:/.test(name) ||
      name.includes('\0') ||
      parts.includes('..')
    ) {
      throw new ZipFormatError(`it holds an unsafe path "${name}"`);
    }
    unpacked += entry.size;
    if (unpacked > MAX_UNPACKED) {
      throw new ZipFormatError(`it unpacks to more than ${MAX_UNPACKED / 1024 / 1024} MB`);
    }
    entries.push(entry);
  }
  return entries;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** zlib.crc32 is Node 20.15+; the package says 20.9. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = (CRC_TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
