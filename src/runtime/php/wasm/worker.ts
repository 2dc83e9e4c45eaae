import { parentPort, workerData } from 'node:worker_threads';
import { loadNodeRuntime } from '@php-wasm/node';
import { PHP, type PHPRequestHandler, type SupportedPHPVersion } from '@php-wasm/universal';
import type { FromWorker, ToWorker, WorkerData } from './messages.js';
import { NetworkPolicy } from '../network-policy.js';
import { NetworkGate, routeSocketsThrough } from './network-gate.js';
import { mountInstall, mountRelease } from './php-site.js';

/**
 * One PHP instance serving one install, in its own thread so that booting and running WordPress
 * never blocks the server's event loop.
 * Its layout is php-site.ts's: nothing of one install is visible to another.
 *
 * A spare boots with the release alone, then waits to be assigned an install: a new install's
 * first request then does not wait for PHP to boot.
 */
const port = parentPort;
if (port === null) throw new Error('php worker started outside a worker thread');
const { base, site: initialSite, processId, networkAllow } = workerData as WorkerData;

function send(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

const gate = new NetworkGate(new NetworkPolicy(networkAllow), (refused) => {
  const { refused: reason, ...rest } = refused;
  send({ kind: 'refused', connection: { ...rest, reason } });
});

async function boot(): Promise<PHP> {
  const runtime = await loadNodeRuntime(base.phpVersion as SupportedPHPVersion, {
    emscriptenOptions: { processId },
  });
  const php = new PHP(runtime);
  // Before any PHP runs: its sockets go through the gate, its files through the sandbox.
  routeSocketsThrough(php, await gate.start());
  await mountRelease(php, base.releaseDir);
  return php;
}

async function main(): Promise<void> {
  let php: PHP;
  let handler: PHPRequestHandler | null = null;
  try {
    php = await boot();
    if (initialSite !== null) {
      gate.setDatabase(initialSite.database ?? null);
      handler = await mountInstall(php, initialSite);
    }
  } catch (err) {
    send({ kind: 'boot-failed', message: err instanceof Error ? err.message : String(err) });
    return;
  }
  // One thing at a time in PHP: an assignment, requests.
  let queue: Promise<unknown> = Promise.resolve();
  const enqueue = (work: () => Promise<void>): void => {
    queue = queue.then(work, work);
  };
  port?.on('message', (message: ToWorker) => {
    enqueue(() => handle(message));
  });
  send({ kind: 'ready' });

  async function handle(message: ToWorker): Promise<void> {
    try {
      if (message.kind === 'assign') {
        gate.setDatabase(message.site.database ?? null);
        handler = await mountInstall(php, message.site);
        send({ kind: 'assigned', id: message.id });
      } else if (message.kind === 'request') {
        if (handler === null) throw new Error('a spare PHP was sent a request before an install');
        const r = message.request;
        const res = await handler.request({
          method: r.method as 'GET',
          url: r.url,
          headers: r.headers,
          ...(r.body === undefined ? {} : { body: r.body }),
        });
        const body = new Uint8Array(res.bytes);
        send(
          {
            kind: 'response',
            id: message.id,
            response: { status: res.httpStatusCode, headers: res.headers, body },
          },
          [body.buffer],
        );
      } else {
        const res = await php.runStream({ code: message.code });
        const [exitCode, stdout, stderr] = await Promise.all([
          res.exitCode,
          res.stdoutText,
          res.stderrText,
        ]);
        send({ kind: 'script', id: message.id, result: { exitCode, stdout, stderr } });
      }
    } catch (err) {
      send({
        kind: 'error',
        id: message.id,
        message: err instanceof Error ? err.message : String(err),
      });
    }
  }
}

void main();
