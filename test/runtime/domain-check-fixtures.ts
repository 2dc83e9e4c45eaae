import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** The records of one name in the test zone. */
export interface ZoneEntry {
  A?: string[];
  AAAA?: string[];
  CNAME?: string;
  NS?: string[];
  MX?: { pref: number; host: string }[];
  TXT?: string[];
  SOA?: {
    mname: string;
    rname: string;
    serial: number;
    refresh: number;
    retry: number;
    expire: number;
    minimum: number;
  };
  CAA?: { flag: number; tag: string; value: string }[];
}

export type Zone = Record<string, ZoneEntry>;

const TYPES: Record<number, keyof ZoneEntry> = {
  1: 'A',
  2: 'NS',
  5: 'CNAME',
  6: 'SOA',
  15: 'MX',
  16: 'TXT',
  28: 'AAAA',
  257: 'CAA',
};
const CODES = Object.fromEntries(Object.entries(TYPES).map(([k, v]) => [v, Number(k)])) as Record<
  keyof ZoneEntry,
  number
>;

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function encodeName(name: string): Buffer {
  const parts = name
    .replace(/\.$/, '')
    .split('.')
    .filter((p) => p !== '')
    .map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'ascii')]));
  return Buffer.concat([...parts, Buffer.from([0])]);
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail = ''] = address.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::')
    ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t]
    : h;
  return Buffer.concat(groups.map((g) => u16(parseInt(g, 16))));
}

function rdata(type: keyof ZoneEntry, value: unknown): Buffer {
  switch (type) {
    case 'A':
      return Buffer.from((value as string).split('.').map(Number));
    case 'AAAA':
      return ipv6Bytes(value as string);
    case 'CNAME':
    case 'NS':
      return encodeName(value as string);
    case 'MX': {
      const mx = value as { pref: number; host: string };
      return Buffer.concat([u16(mx.pref), encodeName(mx.host)]);
    }
    case 'TXT': {
      const text = Buffer.from(value as string, 'utf8');
      return Buffer.concat([Buffer.from([text.length]), text]);
    }
    case 'SOA': {
      const s = value as NonNullable<ZoneEntry['SOA']>;
      return Buffer.concat([
        encodeName(s.mname),
        encodeName(s.rname),
        u32(s.serial),
        u32(s.refresh),
        u32(s.retry),
        u32(s.expire),
        u32(s.minimum),
      ]);
    }
    case 'CAA': {
      const c = value as { flag: number; tag: string; value: string };
      return Buffer.concat([
        Buffer.from([c.flag, c.tag.length]),
        Buffer.from(c.tag, 'ascii'),
        Buffer.from(c.value, 'utf8'),
      ]);
    }
  }
}

function record(name: string, type: keyof ZoneEntry, value: unknown): Buffer {
  const data = rdata(type, value);
  return Buffer.concat([
    encodeName(name),
    u16(CODES[type]),
    u16(1),
    u32(60),
    u16(data.length),
    data,
  ]);
}

function valuesOf(entry: ZoneEntry, type: keyof ZoneEntry): unknown[] {
  const v = entry[type];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

export interface DnsServer {
  /** `127.0.0.1:port`, for node:dns setServers. */
  address: string;
  queries: { name: string; type: string }[];
  close(): Promise<void>;
}

/**
 * A tiny authoritative DNS server on 127.0.0.1 (UDP) answering from `zone`: A, AAAA, CNAME (with
 * the target's records when it is in the zone), NS, MX, TXT, SOA and CAA; NXDOMAIN for names
 * it does not hold, an empty answer for a type a name lacks.
 */
export async function startDnsServer(zone: Zone): Promise<DnsServer> {
  const socket = dgram.createSocket('udp4');
  const queries: { name: string; type: string }[] = [];
  socket.on('message', (msg, rinfo) => {
    if (msg.length < 12) return;
    let at = 12;
    const labels: string[] = [];
    while (at < msg.length && msg[at] !== 0) {
      const len = msg[at] ?? 0;
      labels.push(msg.subarray(at + 1, at + 1 + len).toString('ascii'));
      at += len + 1;
    }
    at += 1;
    const qtype = msg.readUInt16BE(at);
    const questionEnd = at + 4;
    const name = labels.join('.').toLowerCase();
    const type = TYPES[qtype];
    queries.push({ name, type: type ?? String(qtype) });
    const entry = zone[name];
    const answers: Buffer[] = [];
    if (entry !== undefined && type !== undefined) {
      if (entry.CNAME !== undefined && type !== 'CNAME') {
        answers.push(record(name, 'CNAME', entry.CNAME));
        const target = zone[entry.CNAME];
        if (target !== undefined) {
          for (const v of valuesOf(target, type)) answers.push(record(entry.CNAME, type, v));
        }
      } else {
        for (const v of valuesOf(entry, type)) answers.push(record(name, type, v));
      }
    }
    const rcode = entry === undefined ? 3 : 0;
    const header = Buffer.concat([
      msg.subarray(0, 2),
      u16(0x8580 | rcode),
      u16(1),
      u16(answers.length),
      u16(0),
      u16(0),
    ]);
    socket.send(
      Buffer.concat([header, msg.subarray(12, questionEnd), ...answers]),
      rinfo.port,
      rinfo.address,
    );
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  return {
    address: `127.0.0.1:${port}`,
    queries,
    close: () =>
      new Promise<void>((resolve) =>
        socket.close(() => {
          resolve();
        }),
      ),
  };
}

export interface SeenRequest {
  host: string | undefined;
  url: string | undefined;
}

export interface TestServer {
  port: number;
  seen: SeenRequest[];
  close(): Promise<void>;
}

async function listen(
  server: http.Server | https.Server,
  seen: SeenRequest[],
): Promise<TestServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** An HTTP server on loopback that answers like WordPress for `siteHost` (or plainly). */
export function startHttpServer(siteHost: string | null): Promise<TestServer> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ host: req.headers.host, url: req.url });
    if (siteHost === null) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('Just a web server.\n');
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/html; charset=UTF-8',
      link: `<http://${siteHost}/wp-json/>; rel="https://api.w.org/"`,
    });
    res.end(
      `<html><head><link rel="stylesheet" href="http://${siteHost}/wp-includes/css/dist/block-library/style.min.css"></head><body>Hello</body></html>`,
    );
  });
  return listen(server, seen);
}

export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A self-signed certificate for `names` (the first is the CN), made with the openssl CLI. */
export function selfSigned(names: string[], days: number): { key: string; cert: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-cert-'));
  try {
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        String(days),
        '-subj',
        `/CN=${names[0] ?? 'localhost'}/O=wpfleet test`,
        '-addext',
        `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
      ],
      { stdio: 'ignore' },
    );
    return { key: fs.readFileSync(key, 'utf8'), cert: fs.readFileSync(cert, 'utf8') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** An HTTPS server on loopback with the given certificate. */
export function startHttpsServer(tlsFiles: { key: string; cert: string }): Promise<TestServer> {
  const seen: SeenRequest[] = [];
  const server = https.createServer(tlsFiles, (req, res) => {
    seen.push({ host: req.headers.host, url: req.url });
    res.writeHead(200);
    res.end('secure\n');
  });
  return listen(server, seen);
}
