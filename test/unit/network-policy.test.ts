import { describe, expect, it } from 'vitest';
import { MysqlClientGuard } from '../../src/runtime/php/mysql-guard.js';
import { NetworkPolicy, parseCidr } from '../../src/runtime/php/network-policy.js';

describe('the network policy of an install', () => {
  const policy = new NetworkPolicy([], ['203.0.113.7', '2001:db8::7']);
  const db = { host: '127.0.0.1', port: 3306, user: 'wpf_a', addresses: ['127.0.0.1'] };

  it.each([
    ['127.0.0.1', 8080],
    ['127.1.2.3', 443],
    ['10.1.2.3', 80],
    ['172.16.0.1', 80],
    ['172.31.255.255', 80],
    ['192.168.1.1', 80],
    ['169.254.169.254', 80],
    ['100.64.0.1', 80],
    ['0.0.0.0', 80],
    ['224.0.0.1', 80],
    ['::1', 80],
    ['::ffff:127.0.0.1', 80],
    ['fe80::1', 80],
    ['fd00::1', 80],
    // This machine's own public address reaches the platform itself.
    ['203.0.113.7', 8080],
  ])('refuses %s:%i', (address, port) => {
    expect(policy.decide(address, port, db).kind).toBe('deny');
  });

  it('allows public addresses', () => {
    expect(policy.decide('198.41.0.4', 443, db)).toEqual({ kind: 'allow' });
    expect(policy.decide('2606:4700::1111', 443, null)).toEqual({ kind: 'allow' });
    expect(policy.decide('172.32.0.1', 80, null)).toEqual({ kind: 'allow' });
  });

  it('lets the install reach its own database, as its own user, and only that port', () => {
    expect(policy.decide('127.0.0.1', 3306, db)).toEqual({ kind: 'database', user: 'wpf_a' });
    expect(policy.decide('127.0.0.1', 3307, db).kind).toBe('deny');
    expect(policy.decide('127.0.0.1', 3306, null).kind).toBe('deny');
  });

  it('opens the blocks the operator lists, and nothing else', () => {
    const open = new NetworkPolicy(['10.0.5.0/24', '127.0.0.1'], []);
    expect(open.decide('10.0.5.9', 6379, null)).toEqual({ kind: 'allow' });
    expect(open.decide('127.0.0.1', 6379, null)).toEqual({ kind: 'allow' });
    expect(open.decide('10.0.6.9', 6379, null).kind).toBe('deny');
    expect(open.decide('127.0.0.2', 6379, null).kind).toBe('deny');
  });

  it('refuses what is not an address or a port', () => {
    expect(policy.decide('example.com', 80, null).kind).toBe('deny');
    expect(policy.decide('198.41.0.4', 0, null).kind).toBe('deny');
    expect(policy.decide('198.41.0.4', 70000, null).kind).toBe('deny');
  });

  it('parses CIDR blocks and names the bad ones', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual({ address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    expect(parseCidr('fd00::/8')).toEqual({ address: 'fd00::', prefix: 8, family: 'ipv6' });
    expect(parseCidr('10.1.2.3')).toEqual({ address: '10.1.2.3', prefix: 32, family: 'ipv4' });
    expect(() => parseCidr('10.0.0.0/33')).toThrow(/prefix/);
    expect(() => parseCidr('10.0.0.0/x')).toThrow(/prefix/);
    expect(() => parseCidr('db.internal/8')).toThrow(/not an address/);
  });
});

/** MySQL packets as a client sends them: length (3 bytes, little-endian), sequence, payload. */
function packet(sequence: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  header[3] = sequence;
  return Buffer.concat([header, payload]);
}

const PROTOCOL_41 = 0x200;
const SECURE_CONNECTION = 0x8000;

function login(user: string, flags = PROTOCOL_41 | SECURE_CONNECTION): Buffer {
  const fixed = Buffer.alloc(32);
  fixed.writeUInt32LE(flags, 0);
  fixed.writeUInt32LE(16 * 1024 * 1024, 4);
  fixed[8] = 45;
  return packet(
    1,
    Buffer.concat([fixed, Buffer.from(user), Buffer.from([0, 0]), Buffer.from('db\0')]),
  );
}

function command(code: number, body = ''): Buffer {
  return packet(0, Buffer.concat([Buffer.from([code]), Buffer.from(body)]));
}

function forwarded(guard: MysqlClientGuard, chunks: Buffer[]): Buffer | string {
  const out: Buffer[] = [];
  for (const chunk of chunks) {
    const r = guard.feed(chunk);
    if ('refuse' in r) return r.refuse;
    out.push(r.forward);
  }
  return Buffer.concat(out);
}

describe("the MySQL guard of an install's connection", () => {
  it("passes the install's own login and its queries unchanged", () => {
    const stream = Buffer.concat([login('wpf_a'), command(0x03, 'SELECT 1'), command(0x01)]);
    expect(forwarded(new MysqlClientGuard('wpf_a'), [stream])).toEqual(stream);
  });

  it('passes the same bytes whatever the chunking, one byte at a time included', () => {
    const big = 'x'.repeat(70_000);
    const stream = Buffer.concat([login('wpf_a'), command(0x03, big), command(0x0e)]);
    const bytes = [...stream].map((b) => Buffer.from([b]));
    expect(forwarded(new MysqlClientGuard('wpf_a'), bytes)).toEqual(stream);
  });

  it('holds the login back until it is whole', () => {
    const guard = new MysqlClientGuard('wpf_a');
    const stream = login('root');
    const first = guard.feed(stream.subarray(0, 20));
    expect(first).toEqual({ forward: Buffer.alloc(0) });
    expect(guard.feed(stream.subarray(20))).toEqual({ refuse: 'logging in to MySQL as "root"' });
  });

  it('refuses another user, TLS, compression and old logins', () => {
    expect(forwarded(new MysqlClientGuard('wpf_a'), [login('wpf_b')])).toMatch(/as "wpf_b"/);
    expect(forwarded(new MysqlClientGuard('wpf_a'), [login('wpf_a', PROTOCOL_41 | 0x800)])).toMatch(
      /TLS/,
    );
    expect(forwarded(new MysqlClientGuard('wpf_a'), [login('wpf_a', PROTOCOL_41 | 0x20)])).toMatch(
      /compression/,
    );
    expect(forwarded(new MysqlClientGuard('wpf_a'), [login('wpf_a', 0)])).toMatch(/pre-4\.1/);
  });

  it('refuses a change of user after the login', () => {
    const stream = Buffer.concat([
      login('wpf_a'),
      command(0x03, 'SELECT 1'),
      command(0x11, 'root\0'),
    ]);
    expect(forwarded(new MysqlClientGuard('wpf_a'), [stream])).toMatch(/changing the MySQL user/);
  });

  it('does not mistake data inside a packet for a command', () => {
    // A query whose text holds what looks like a header and a change-user byte.
    const sneaky = Buffer.from([0x05, 0x00, 0x00, 0x00, 0x11, 0x72, 0x6f, 0x6f, 0x74]);
    const stream = Buffer.concat([login('wpf_a'), command(0x03, sneaky.toString('latin1'))]);
    expect(forwarded(new MysqlClientGuard('wpf_a'), [stream])).toEqual(stream);
  });
});
