/**
 * How the control plane signs its calls to the agent mu-plugin (agent/wpfleet-agent.php), and
 * how the agent checks them; the two sides implement the same rules, see docs/agent.md.
 *
 * Canonical string, fields joined by "\n":
 *   METHOD (upper case), ROUTE (`/wpfleet/v1/info`, never the URL), TIMESTAMP (unix seconds, as
 *   sent), NONCE (as sent), sha256 hex of the raw body (of "" when there is none).
 * Signature: hex HMAC-SHA256 of that string, keyed with the install's secret string as written in
 * wp-config.php (its UTF-8 bytes, not hex-decoded).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const AGENT_NAMESPACE = 'wpfleet/v1';
/** A timestamp further than this from the agent's clock is refused as `late`. */
export const AGENT_MAX_SKEW_SECONDS = 300;
export const AGENT_TIMESTAMP_HEADER = 'X-Wpfleet-Timestamp';
export const AGENT_NONCE_HEADER = 'X-Wpfleet-Nonce';
export const AGENT_SIGNATURE_HEADER = 'X-Wpfleet-Signature';

const METHOD = /^[A-Za-z]{1,16}$/;
const ROUTE = /^\/[^\n]*$/;
const TIMESTAMP = /^[0-9]{1,12}$/;
const NONCE = /^[A-Za-z0-9_-]{16,128}$/;
const SIGNATURE = /^[0-9a-fA-F]{64}$/;
const MIN_SECRET_LENGTH = 32;

/** What a signature covers. */
export interface AgentSignedFields {
  method: string;
  /** The REST route, e.g. `/wpfleet/v1/info`. */
  path: string;
  /** Unix seconds, in decimal, exactly as sent in the header. */
  timestamp: string;
  nonce: string;
  /** The raw body; `''` for none. */
  body: string;
}

/** Why the agent refuses a signature (before the nonce is checked; reuse is `replayed`). */
export type AgentVerifyFailure = 'not_configured' | 'unsigned' | 'bad_signature' | 'late';

export function sha256Hex(data: string): string {
  return createHash('sha256').update(data, 'utf8').digest('hex');
}

export function agentCanonicalString(fields: AgentSignedFields): string {
  return [
    fields.method.toUpperCase(),
    fields.path,
    fields.timestamp,
    fields.nonce,
    sha256Hex(fields.body),
  ].join('\n');
}

/** Hex HMAC-SHA256 of the canonical string. Throws on fields the agent would refuse. */
export function signAgentRequest(secret: string, fields: AgentSignedFields): string {
  const problem = malformed(secret, fields);
  if (problem !== null) throw new TypeError(`Cannot sign an agent call: ${problem}`);
  return hmac(secret, fields);
}

/** The agent's check, in TypeScript: null when the call passes (nonce reuse aside). */
export function verifyAgentRequest(
  secret: string,
  fields: AgentSignedFields,
  signature: string,
  nowSeconds: number,
): AgentVerifyFailure | null {
  if (secret.length < MIN_SECRET_LENGTH) return 'not_configured';
  if (malformed(secret, fields) !== null || !SIGNATURE.test(signature)) return 'unsigned';
  const expected = Buffer.from(hmac(secret, fields), 'utf8');
  const given = Buffer.from(signature.toLowerCase(), 'utf8');
  if (!timingSafeEqual(expected, given)) return 'bad_signature';
  if (Math.abs(Math.floor(nowSeconds) - Number(fields.timestamp)) > AGENT_MAX_SKEW_SECONDS) {
    return 'late';
  }
  return null;
}

/** A new install secret: 32 random bytes as 64 hex characters, for WPFLEET_AGENT_SECRET. */
export function newAgentSecret(): string {
  return randomBytes(32).toString('hex');
}

/** A new nonce: 16 random bytes as 32 hex characters. */
export function newAgentNonce(): string {
  return randomBytes(16).toString('hex');
}

export interface AgentCall {
  method: string;
  path: string;
  body: string;
}

export interface AgentSigningOptions {
  /** Unix seconds; default now. */
  now?: number;
  /** Default a fresh random nonce. */
  nonce?: string;
}

/** The three headers that sign a call. */
export function agentSignatureHeaders(
  secret: string,
  call: AgentCall,
  options: AgentSigningOptions = {},
): Record<string, string> {
  const timestamp = String(Math.floor(options.now ?? Date.now() / 1000));
  const nonce = options.nonce ?? newAgentNonce();
  const signature = signAgentRequest(secret, { ...call, timestamp, nonce });
  return {
    [AGENT_TIMESTAMP_HEADER]: timestamp,
    [AGENT_NONCE_HEADER]: nonce,
    [AGENT_SIGNATURE_HEADER]: signature,
  };
}

function hmac(secret: string, fields: AgentSignedFields): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(agentCanonicalString(fields), 'utf8')
    .digest('hex');
}

function malformed(secret: string, fields: AgentSignedFields): string | null {
  if (secret.length < MIN_SECRET_LENGTH) return `the secret is shorter than ${MIN_SECRET_LENGTH}`;
  if (!METHOD.test(fields.method)) return 'bad method';
  if (!ROUTE.test(fields.path)) return 'the path must be a route starting with /';
  if (!TIMESTAMP.test(fields.timestamp)) return 'the timestamp must be unix seconds';
  if (!NONCE.test(fields.nonce)) return 'the nonce must be 16-128 characters of [A-Za-z0-9_-]';
  return null;
}
