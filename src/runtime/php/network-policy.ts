import net from 'node:net';
import os from 'node:os';

/** The install's own MySQL database: the one private address its PHP may reach. */
export interface SiteDatabase {
  /** Host name or address, as in its wp-config.php. */
  host: string;
  port: number;
  /** The install's own MySQL user: the only one its PHP may log in as. */
  user: string;
}

/** What an install's PHP may open a connection to; see docs/security.md. */
export type Verdict =
  | { kind: 'allow' }
  /** Only as the install's own MySQL user (the connection is watched: mysql-guard.ts). */
  | { kind: 'database'; user: string }
  | { kind: 'deny'; reason: string };

/**
 * Address blocks that are not the public internet: this machine and its neighbours, the cloud
 * metadata service, and addresses no one should dial. An install's PHP reaches none of them.
 */
const PRIVATE_V4 = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 3],
] as const;
const PRIVATE_V6 = [
  ['::', 128],
  ['::1', 128],
  // NAT64 and 6to4 forms can name any IPv4 address, private ones included. (IPv4-mapped
  // addresses are decided as the IPv4 address they carry: Node's BlockList would match every
  // IPv4 address against a ::ffff:0:0/96 rule.)
  ['64:ff9b::', 96],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const;

/** Parses `a.b.c.d/n` or `v6/n` (a bare address is one host). */
export function parseCidr(text: string): {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
} {
  const [address = '', bits] = text.trim().split('/');
  const version = net.isIP(address);
  if (version === 0) throw new Error(`"${text}" is not an address or CIDR block`);
  const max = version === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : Number(bits);
  if (!/^\d+$/.test(bits ?? String(max)) || prefix > max) {
    throw new Error(`"${text}" has no valid prefix length (0..${max})`);
  }
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/**
 * Decides, for one install, each connection its PHP asks for, by the address the name resolved
 * to (never the name: a name can point anywhere). Public addresses are open, as WordPress needs
 * (updates, APIs, mail); private and loopback ones, this machine's own addresses and the
 * platform's ports are closed, except the install's database and the blocks the operator opens.
 */
export class NetworkPolicy {
  private readonly closed = new net.BlockList();
  private readonly opened = new net.BlockList();

  constructor(allow: readonly string[], ownAddresses: readonly string[] = machineAddresses()) {
    for (const [address, prefix] of PRIVATE_V4) this.closed.addSubnet(address, prefix, 'ipv4');
    for (const [address, prefix] of PRIVATE_V6) this.closed.addSubnet(address, prefix, 'ipv6');
    for (const address of ownAddresses) {
      this.closed.addAddress(address, net.isIPv6(address) ? 'ipv6' : 'ipv4');
    }
    for (const block of allow) {
      const { address, prefix, family } = parseCidr(block);
      this.opened.addSubnet(address, prefix, family);
    }
  }

  /**
   * `address` is what the destination resolved to; `database` the install's own, with the
   * addresses its host resolves to.
   */
  decide(
    address: string,
    port: number,
    database: (SiteDatabase & { addresses: readonly string[] }) | null,
  ): Verdict {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    if (mapped !== undefined) return this.decide(mapped, port, database);
    const family = net.isIPv6(address) ? 'ipv6' : 'ipv4';
    if (net.isIP(address) === 0) return { kind: 'deny', reason: 'not an address' };
    if (port < 1 || port > 65535) return { kind: 'deny', reason: 'no such port' };
    if (database !== null && port === database.port && database.addresses.includes(address)) {
      return { kind: 'database', user: database.user };
    }
    if (this.opened.check(address, family)) return { kind: 'allow' };
    if (this.closed.check(address, family)) {
      return { kind: 'deny', reason: `${address} is a private, loopback or platform address` };
    }
    return { kind: 'allow' };
  }
}

/** Every address of this machine's interfaces: reaching them is reaching the platform. */
function machineAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const iface of list ?? []) out.push(iface.address.replace(/%.*$/, ''));
  }
  return out;
}
