import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  AGENT_NONCE_HEADER,
  AGENT_SIGNATURE_HEADER,
  AGENT_TIMESTAMP_HEADER,
  agentCanonicalString,
  agentSignatureHeaders,
  newAgentNonce,
  newAgentSecret,
  signAgentRequest,
  verifyAgentRequest,
  type AgentSignedFields,
} from '../../src/runtime/agent/signing.js';

const SECRET = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
const NOW = 1_700_000_000;
const FIELDS: AgentSignedFields = {
  method: 'POST',
  path: '/wpfleet/v1/urls',
  timestamp: String(NOW),
  nonce: 'abcdefghijklmnop',
  body: '{"home":"http://blog.localhost:8080","siteurl":"http://blog.localhost:8080"}',
};

/** docs/agent.md's example, signed with SECRET; PHP's hash_hmac gives the same. */
const DOC_SIGNATURE = '08c689b2cb2088e4545145a937a8ef5a7ee5aee722e95c155c46fd16ab6093ec';

/** The algorithm of docs/agent.md, written out again with node:crypto alone. */
function independentSignature(secret: string, f: AgentSignedFields): string {
  const bodyHash = createHash('sha256').update(Buffer.from(f.body, 'utf8')).digest('hex');
  const canonical = `${f.method}\n${f.path}\n${f.timestamp}\n${f.nonce}\n${bodyHash}`;
  return createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(Buffer.from(canonical, 'utf8'))
    .digest('hex');
}

describe('agent signing', () => {
  it('builds the canonical string from method, route, timestamp, nonce and body hash', () => {
    expect(agentCanonicalString({ ...FIELDS, method: 'get', body: '' })).toBe(
      'GET\n/wpfleet/v1/urls\n1700000000\nabcdefghijklmnop\n' +
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it('matches the independently computed vector', () => {
    for (const body of [FIELDS.body, '', '{"name":"Zoë ✓"}']) {
      const fields = { ...FIELDS, body };
      expect(signAgentRequest(SECRET, fields)).toBe(independentSignature(SECRET, fields));
    }
  });

  it('matches the fixed vector of docs/agent.md', () => {
    const fields = {
      method: 'POST',
      path: '/wpfleet/v1/maintenance',
      timestamp: '1700000000',
      nonce: '0f1e2d3c4b5a69788796a5b4c3d2e1f0',
      body: '{"enabled":true}',
    };
    expect(agentCanonicalString(fields)).toBe(
      'POST\n/wpfleet/v1/maintenance\n1700000000\n0f1e2d3c4b5a69788796a5b4c3d2e1f0\n' +
        '26b3426b2593763c96d0890b4a77a0bbf66d13fc512b0c6b138a23c290f30a2a',
    );
    expect(signAgentRequest(SECRET, fields)).toBe(DOC_SIGNATURE);
  });

  it('verifies its own signature, in either case of hex', () => {
    const sig = signAgentRequest(SECRET, FIELDS);
    expect(sig).toMatch(/^[0-9a-f]{64}$/);
    expect(verifyAgentRequest(SECRET, FIELDS, sig, NOW)).toBeNull();
    expect(verifyAgentRequest(SECRET, FIELDS, sig.toUpperCase(), NOW)).toBeNull();
  });

  it('refuses a wrong secret and any altered field', () => {
    const sig = signAgentRequest(SECRET, FIELDS);
    expect(verifyAgentRequest(newAgentSecret(), FIELDS, sig, NOW)).toBe('bad_signature');
    const altered: Partial<AgentSignedFields>[] = [
      { method: 'GET' },
      { path: '/wpfleet/v1/info' },
      { timestamp: String(NOW + 1) },
      { nonce: 'abcdefghijklmnoq' },
      { body: FIELDS.body + ' ' },
    ];
    for (const change of altered) {
      expect(verifyAgentRequest(SECRET, { ...FIELDS, ...change }, sig, NOW)).toBe('bad_signature');
    }
  });

  it('accepts up to 300 seconds of skew either way and refuses more as late', () => {
    const sig = signAgentRequest(SECRET, FIELDS);
    expect(verifyAgentRequest(SECRET, FIELDS, sig, NOW + 300)).toBeNull();
    expect(verifyAgentRequest(SECRET, FIELDS, sig, NOW - 300)).toBeNull();
    expect(verifyAgentRequest(SECRET, FIELDS, sig, NOW + 301)).toBe('late');
    expect(verifyAgentRequest(SECRET, FIELDS, sig, NOW - 301)).toBe('late');
  });

  it('refuses malformed headers as unsigned and a missing secret as not configured', () => {
    const sig = signAgentRequest(SECRET, FIELDS);
    expect(verifyAgentRequest(SECRET, FIELDS, sig.slice(1), NOW)).toBe('unsigned');
    expect(verifyAgentRequest(SECRET, { ...FIELDS, nonce: 'short' }, sig, NOW)).toBe('unsigned');
    expect(verifyAgentRequest(SECRET, { ...FIELDS, timestamp: '-1' }, sig, NOW)).toBe('unsigned');
    expect(verifyAgentRequest('', FIELDS, sig, NOW)).toBe('not_configured');
    expect(verifyAgentRequest('x'.repeat(31), FIELDS, sig, NOW)).toBe('not_configured');
  });

  it('will not sign what the agent would refuse', () => {
    expect(() => signAgentRequest(SECRET, { ...FIELDS, path: '/a\n/b' })).toThrow(TypeError);
    expect(() => signAgentRequest(SECRET, { ...FIELDS, nonce: 'a b c d e f g h i' })).toThrow();
    expect(() => signAgentRequest(SECRET, { ...FIELDS, timestamp: '1.5' })).toThrow();
    expect(() => signAgentRequest('short', FIELDS)).toThrow();
  });

  it('makes the three headers from a call', () => {
    const headers = agentSignatureHeaders(
      SECRET,
      { method: 'POST', path: FIELDS.path, body: FIELDS.body },
      { now: NOW + 0.9, nonce: FIELDS.nonce },
    );
    expect(headers).toEqual({
      [AGENT_TIMESTAMP_HEADER]: String(NOW),
      [AGENT_NONCE_HEADER]: FIELDS.nonce,
      [AGENT_SIGNATURE_HEADER]: independentSignature(SECRET, FIELDS),
    });
    const fresh = agentSignatureHeaders(SECRET, {
      method: 'GET',
      path: '/wpfleet/v1/info',
      body: '',
    });
    expect(Number(fresh[AGENT_TIMESTAMP_HEADER])).toBeCloseTo(Date.now() / 1000, -1);
    expect(fresh[AGENT_NONCE_HEADER]).toMatch(/^[0-9a-f]{32}$/);
  });

  it('makes new secrets and nonces at random', () => {
    const secret = newAgentSecret();
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(newAgentSecret()).not.toBe(secret);
    expect(newAgentNonce()).not.toBe(newAgentNonce());
  });
});
