import { createHash } from 'node:crypto';

const TYPES = new Set([
  'ssh-rsa',
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
]);

export interface ParsedKey {
  type: string;
  /** `type base64`, without the comment, as stored and compared. */
  canonical: string;
  comment: string;
  /** MD5 of the key blob in colon hex, the form WP Engine shows. */
  fingerprint: string;
}

/** Reads the SSH wire-format strings (uint32 length, bytes) at the start of a key blob. */
function readStrings(blob: Buffer, count: number): Buffer[] | null {
  const out: Buffer[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 4 > blob.length) return null;
    const len = blob.readUInt32BE(at);
    at += 4;
    if (len === 0 || at + len > blob.length) return null;
    out.push(blob.subarray(at, at + len));
    at += len;
  }
  return out;
}

/**
 * Parses an OpenSSH public key line (`ssh-ed25519 AAAA… comment`). The blob must decode and name
 * the same type as the line, and carry the key material that type needs.
 */
export function parsePublicKey(line: string): ParsedKey | null {
  const parts = line.trim().split(/\s+/);
  const [type, data] = parts;
  if (type === undefined || data === undefined || !TYPES.has(type)) return null;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data) || data.length % 4 !== 0) return null;
  const blob = Buffer.from(data, 'base64');
  const fields = readStrings(blob, type === 'ssh-rsa' ? 3 : 2);
  if (fields?.[0]?.toString('latin1') !== type) return null;
  if (type === 'ssh-ed25519' && fields[1]?.length !== 32) return null;
  if (type === 'ssh-rsa' && (fields[2]?.length ?? 0) < 128) return null;
  const comment = parts.slice(2).join(' ');
  // Control characters in a comment break terminals and logs (and PostgreSQL refuses NUL).
  if (/\p{Cc}/u.test(comment)) return null;
  const md5 = createHash('md5').update(blob).digest('hex');
  return {
    type,
    canonical: `${type} ${data}`,
    comment,
    fingerprint: md5.match(/../g)?.join(':') ?? md5,
  };
}
