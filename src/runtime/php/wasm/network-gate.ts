import dns from 'node:dns/promises';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { __private__dont__use, type PHP } from '@php-wasm/universal';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { MysqlClientGuard } from '../mysql-guard.js';
import type { NetworkPolicy, SiteDatabase } from '../network-policy.js';

/** php-wasm's framing of what PHP sends on a socket: a command byte, then its data. */
const COMMAND_CHUNK = 1;
const COMMAND_SET_SOCKETOPT = 2;

export interface GateLog {
  (event: { host: string; port: number; address?: string; refused: string }): void;
}

/**
 * The only way out of a php-wasm instance's sockets. php-wasm turns each socket PHP opens into a
 * WebSocket to a local proxy that dials the real TCP connection; its own proxy dials anything,
 * including this machine's databases and the platform's API. The worker points PHP's sockets at
 * this gate instead, which resolves the name itself, asks the install's `NetworkPolicy`, and
 * watches the one private connection allowed (the install's MySQL) with `MysqlClientGuard`.
 * It speaks php-wasm's proxy protocol (outbound-ws-to-tcp-proxy.ts in @php-wasm/node 3.1.20).
 */
export class NetworkGate {
  private server: WebSocketServer | null = null;
  private database: SiteDatabase | null = null;

  constructor(
    private readonly policy: NetworkPolicy,
    private readonly onRefused: GateLog,
  ) {}

  /** Listens on a loopback port; resolves to the URL maker PHP's sockets are given. */
  async start(): Promise<(host: string, port: number) => string> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    server.on('connection', (client, request) => {
      const url = new URL(request.url ?? '/', 'ws://gate');
      this.connect(
        client,
        url.searchParams.get('host') ?? '',
        Number(url.searchParams.get('port')),
      );
    });
    this.server = server;
    const { port } = server.address() as AddressInfo;
    return (host, targetPort) =>
      `ws://127.0.0.1:${port}/?${new URLSearchParams({ host, port: String(targetPort) }).toString()}`;
  }

  /** The install now served (a spare is assigned one later); null: none, no database. */
  setDatabase(database: SiteDatabase | null): void {
    this.database = database;
  }

  close(): void {
    this.server?.close();
  }

  private connect(client: WebSocket, host: string, port: number): void {
    const queue: Buffer[] = [];
    let target: net.Socket | null = null;
    let guard: MysqlClientGuard | null = null;
    const refuse = (reason: string, address?: string): void => {
      this.onRefused({
        host,
        port,
        refused: reason,
        ...(address === undefined ? {} : { address }),
      });
      // php-wasm's proxy signals a failed connection with an empty message, then closes.
      client.send([]);
      setTimeout(() => {
        client.close(3000);
      });
      target?.destroy();
    };
    const toTarget = (message: Buffer): void => {
      if (target === null) return;
      const command = message[0];
      if (command === COMMAND_SET_SOCKETOPT) {
        if (message[1] === 1 && message[2] === 9) target.setKeepAlive(message[3] === 1);
        else if (message[1] === 6 && message[2] === 1) target.setNoDelay(message[3] === 1);
        return;
      }
      if (command !== COMMAND_CHUNK) return;
      const data = message.subarray(1);
      if (guard === null) {
        target.write(data);
        return;
      }
      const checked = guard.feed(data);
      if ('refuse' in checked) refuse(checked.refuse);
      else if (checked.forward.length > 0) target.write(checked.forward);
    };
    client.on('message', (raw: RawData) => {
      const message = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as ArrayBuffer);
      if (target === null || target.connecting) queue.push(message);
      else toTarget(message);
    });
    client.on('close', () => target?.end());
    client.on('error', () => target?.destroy());

    const database = this.database;
    void Promise.all([
      this.resolve(host),
      database === null ? Promise.resolve([]) : this.addressesOf(database.host),
    ]).then(
      ([address, databaseAddresses]) => {
        const verdict = this.policy.decide(
          address,
          port,
          database === null ? null : { ...database, addresses: databaseAddresses },
        );
        if (verdict.kind === 'deny') {
          refuse(verdict.reason, address);
          return;
        }
        if (verdict.kind === 'database') guard = new MysqlClientGuard(verdict.user);
        const socket = net.createConnection({ host: address, port });
        target = socket;
        socket.on('connect', () => {
          for (const message of queue.splice(0)) toTarget(message);
        });
        socket.on('data', (data) => {
          client.send(data);
        });
        socket.on('end', () => {
          client.close();
        });
        socket.on('error', () => {
          client.send([]);
          setTimeout(() => {
            client.close(3000);
          });
        });
      },
      () => {
        // A name that does not resolve is no policy matter: PHP sees a failed connect, as
        // anywhere (WordPress's installer probes its own made-up host, for one).
        client.send([]);
        setTimeout(() => {
          client.close(3000);
        });
      },
    );
  }

  private async resolve(host: string): Promise<string> {
    if (net.isIP(host) !== 0) return host;
    // IPv4 as php-wasm's own proxy does: PHP's side of the socket is IPv4.
    return (await dns.lookup(host, { family: 4 })).address;
  }

  private async addressesOf(host: string): Promise<string[]> {
    if (net.isIP(host) !== 0) return [host];
    return (await dns.lookup(host, { all: true })).map((a) => a.address);
  }
}

interface SocketSettings {
  url?: (socket: unknown, host: string, port: number) => string;
  serverDecorator?: (server: unknown) => unknown;
}
interface SocketRuntime {
  websocket?: SocketSettings;
  FS: { ErrnoError: new (errno: number) => Error };
}

const EACCES = 2;

/**
 * Points every socket this PHP opens at the gate, and refuses listening sockets: php-wasm would
 * open a TCP server on the host for `socket_listen()`/`stream_socket_server()`, on any port and
 * every interface. Emscripten reads these settings at each connect and listen, from the object
 * it was given at load, so changing that object takes effect for all later sockets.
 */
export function routeSocketsThrough(php: PHP, urlOf: (host: string, port: number) => string): void {
  const runtime = (php as unknown as Record<symbol, SocketRuntime | undefined>)[
    __private__dont__use
  ];
  const settings = runtime?.websocket;
  if (runtime === undefined || settings === undefined) {
    throw new Error('php-wasm has no socket settings to route: its networking changed');
  }
  const { ErrnoError } = runtime.FS;
  settings.url = (_socket, host, port) => urlOf(host, port);
  // Emscripten calls `new` on what this returns: a function that throws refuses the listen.
  settings.serverDecorator = () =>
    function refusedServer(): never {
      throw new ErrnoError(EACCES);
    };
}
