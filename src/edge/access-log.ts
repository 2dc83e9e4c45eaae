import fs from 'node:fs';
import path from 'node:path';

interface OpenLog {
  stream: fs.WriteStream;
  /** Lines not yet handed to the stream, as bytes: `used` of them. */
  pending: Buffer;
  used: number;
  lastUsed: number;
}

/** Lines kept before a flush: a write per request cost the cached path a third of its time. */
const FLUSH_MS = 100;
const BUFFER_BYTES = 64 * 1024;
/** A log without a request this long is closed: a host with many installs keeps few open. */
const IDLE_MS = 5 * 60_000;

/**
 * The installs' access logs, one file each, appended in batches (every 100 ms, or 64 KB), like
 * nginx's `access_log … buffer=`: a kill -9 loses at most the last 100 ms of lines, never a line
 * of what was already written. Files are opened on an install's first request and closed once
 * it has been idle five minutes, or when the install is deleted.
 *
 * Lines are written as latin1: Node reads request lines and headers as latin1, so this puts
 * back the bytes the client sent, one byte per character, without encoding UTF-8 on each line.
 */
export class AccessLogs {
  private readonly logs = new Map<string, OpenLog>();
  /** Installs deleted while this process ran: nothing of theirs is written again. */
  private readonly gone = new Set<string>();
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(private readonly fileOf: (installId: string) => string) {
    this.sweepTimer = setInterval(() => {
      this.closeIdle(Date.now());
    }, 60_000);
    this.sweepTimer.unref();
  }

  write(installId: string, line: string): void {
    if (this.gone.has(installId)) return;
    let log = this.logs.get(installId);
    if (log === undefined) {
      const file = this.fileOf(installId);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const stream = fs.createWriteStream(file, { flags: 'a' });
      // A full disk must not take the server down; the lines are lost, the site still answers.
      stream.on('error', () => undefined);
      log = { stream, pending: Buffer.allocUnsafe(BUFFER_BYTES), used: 0, lastUsed: 0 };
      this.logs.set(installId, log);
    }
    log.lastUsed = Date.now();
    if (log.used + line.length > log.pending.length) {
      this.flushOne(log);
      // A line longer than the whole buffer (a huge URL) goes out on its own.
      if (line.length > log.pending.length) {
        log.stream.write(line, 'latin1');
        return;
      }
    }
    log.used += log.pending.write(line, log.used, 'latin1');
    if (this.flushTimer === undefined) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        this.flush();
      }, FLUSH_MS);
      this.flushTimer.unref();
    }
  }

  flush(): void {
    for (const log of this.logs.values()) this.flushOne(log);
  }

  /** The install is deleted: its log is closed and never opened again by this process. */
  forget(installId: string): void {
    this.gone.add(installId);
    const log = this.logs.get(installId);
    if (log === undefined) return;
    this.flushOne(log);
    log.stream.end();
    this.logs.delete(installId);
  }

  /** Writes what is pending and closes every file. */
  close(): Promise<void> {
    clearTimeout(this.flushTimer);
    clearInterval(this.sweepTimer);
    const ends = [...this.logs.values()].map((log) => {
      this.flushOne(log);
      return new Promise<void>((resolve) => log.stream.end(resolve));
    });
    this.logs.clear();
    return Promise.all(ends).then(() => undefined);
  }

  /** How many log files are open (for tests). */
  get openFiles(): number {
    return this.logs.size;
  }

  closeIdle(now: number): void {
    for (const [installId, log] of this.logs) {
      if (now - log.lastUsed < IDLE_MS) continue;
      this.flushOne(log);
      log.stream.end();
      this.logs.delete(installId);
    }
  }

  private flushOne(log: OpenLog): void {
    if (log.used === 0) return;
    // The stream keeps the bytes until they are written: the next lines go to a new buffer.
    log.stream.write(log.pending.subarray(0, log.used));
    log.pending = Buffer.allocUnsafe(BUFFER_BYTES);
    log.used = 0;
  }
}
