/**
 * Watches what an install's PHP sends to its MySQL server, so that it can log in only as the
 * install's own user: MariaDB's admin account (or another install's user) may well be reachable
 * at the same address, with a password the tenant could guess or that is empty. The guard reads
 * the client's side of the protocol without changing it: the login packet must name the
 * install's user, and no later command may change the user. TLS and compression would hide the
 * packets, so a login that asks for either is refused (the server is on a private network that
 * the platform chose; WordPress asks for neither unless told to).
 *
 * Packets: 3-byte little-endian payload length, 1-byte sequence number, payload. A command
 * starts a new sequence (number 0); its first byte names it.
 */

const CLIENT_COMPRESS = 0x20;
const CLIENT_PROTOCOL_41 = 0x200;
const CLIENT_SSL = 0x800;
const COM_CHANGE_USER = 0x11;
/** A login packet is a few hundred bytes; anything this large is not one. */
const MAX_LOGIN_PACKET = 64 * 1024;

export type GuardResult = { forward: Buffer } | { refuse: string };

export class MysqlClientGuard {
  private pending = Buffer.alloc(0);
  /** Payload bytes of the current packet still to pass through unread. */
  private remaining = 0;
  private loggedIn = false;

  constructor(private readonly user: string) {}

  /** Takes the client's next bytes; gives back those that may go on to the server. */
  feed(chunk: Buffer): GuardResult {
    const data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = Buffer.alloc(0);
    let i = 0;
    let passed = 0;
    while (i < data.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, data.length - i);
        i += n;
        this.remaining -= n;
        passed = i;
        continue;
      }
      if (data.length - i < 4) break;
      const length = data.readUIntLE(i, 3);
      const sequence = data[i + 3] ?? 0;
      if (!this.loggedIn) {
        if (length > MAX_LOGIN_PACKET) return { refuse: 'the login packet is too large' };
        if (data.length - i < 4 + length) break;
        const refused = this.checkLogin(data.subarray(i + 4, i + 4 + length));
        if (refused !== null) return { refuse: refused };
        this.loggedIn = true;
        i += 4 + length;
        passed = i;
        continue;
      }
      if (sequence === 0 && length > 0) {
        if (data.length - i < 5) break;
        if (data[i + 4] === COM_CHANGE_USER) return { refuse: 'changing the MySQL user' };
      }
      i += 4;
      this.remaining = length;
      passed = i;
    }
    this.pending = Buffer.from(data.subarray(passed));
    return { forward: data.subarray(0, passed) };
  }

  private checkLogin(payload: Buffer): string | null {
    if (payload.length < 4) return 'a malformed login packet';
    const flags = payload.readUInt32LE(0);
    if ((flags & CLIENT_PROTOCOL_41) === 0) return 'a pre-4.1 MySQL login';
    if ((flags & CLIENT_SSL) !== 0) return 'TLS to MySQL (the login could not be checked)';
    if ((flags & CLIENT_COMPRESS) !== 0) return 'MySQL compression';
    // client flags (4), max packet (4), charset (1), filler (23), then the user, NUL-ended.
    const start = 32;
    const end = payload.indexOf(0, start);
    if (end < 0) return 'a malformed login packet';
    const user = payload.subarray(start, end).toString('utf8');
    return user === this.user ? null : `logging in to MySQL as "${user}"`;
  }
}
