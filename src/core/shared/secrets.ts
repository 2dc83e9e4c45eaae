import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Our secrets are 128+ random bits, so a fast hash is enough to store them: there is nothing to
 * guess, and a slow KDF would cost milliseconds on every API request.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** MainWP stores consumer keys as HMAC-SHA256(key, 'mainwp-api'); we do the same. */
export function hashMainwpKey(consumerKey: string): string {
  return createHmac('sha256', 'mainwp-api').update(consumerKey).digest('hex');
}

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

export function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}
