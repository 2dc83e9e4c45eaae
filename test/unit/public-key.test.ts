import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parsePublicKey } from '../../src/core/ssh-keys/public-key.js';

function sshString(data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, data]);
}

/** An OpenSSH ed25519 public key line built from a fresh key pair. */
function ed25519Line(comment: string): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const blob = Buffer.concat([sshString(Buffer.from('ssh-ed25519')), sshString(raw)]);
  return `ssh-ed25519 ${blob.toString('base64')} ${comment}`;
}

function rsaLine(): string {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' });
  const e = Buffer.from(jwk.e ?? '', 'base64url');
  const n = Buffer.concat([Buffer.from([0]), Buffer.from(jwk.n ?? '', 'base64url')]);
  const blob = Buffer.concat([sshString(Buffer.from('ssh-rsa')), sshString(e), sshString(n)]);
  return `ssh-rsa ${blob.toString('base64')}`;
}

describe('parsePublicKey', () => {
  it('reads an ed25519 key with its comment and MD5 fingerprint', () => {
    const parsed = parsePublicKey(ed25519Line('joe@example.com laptop'));
    expect(parsed?.type).toBe('ssh-ed25519');
    expect(parsed?.comment).toBe('joe@example.com laptop');
    expect(parsed?.fingerprint).toMatch(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
  });

  it('reads an RSA key without a comment', () => {
    const parsed = parsePublicKey(rsaLine());
    expect(parsed?.type).toBe('ssh-rsa');
    expect(parsed?.comment).toBe('');
  });

  it('gives the same fingerprint whatever the comment', () => {
    const line = ed25519Line('a');
    const other = line.replace(/ a$/, ' b');
    expect(parsePublicKey(line)?.fingerprint).toBe(parsePublicKey(other)?.fingerprint);
  });

  it.each([
    ['empty', ''],
    ['unknown type', 'ssh-foo AAAAB3NzaC1yc2E='],
    ['not base64', 'ssh-ed25519 !!!!'],
    ['type mismatch inside the blob', ed25519Line('x').replace('ssh-ed25519', 'ssh-rsa')],
    ['truncated blob', ed25519Line('x').slice(0, 40)],
    ['private key header', '-----BEGIN OPENSSH PRIVATE KEY-----'],
  ])('refuses %s', (_label, line) => {
    expect(parsePublicKey(line)).toBeNull();
  });
});
