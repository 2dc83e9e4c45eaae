import { parentPort, workerData } from 'node:worker_threads';
import { createNodeFsMountHandler, loadNodeRuntime } from '@php-wasm/node';
import {
  PHP,
  PHPRequestHandler,
  setPhpIniEntries,
  type SupportedPHPVersion,
} from '@php-wasm/universal';
import type { FromWorker, ToWorker, WorkerData } from './messages.js';

/**
 * One PHP instance serving one install, in its own thread so that booting and running WordPress
 * never blocks the server's event loop.
 *
 * Layout inside PHP: the release's core at /wordpress (read-only by convention), the install's
 * wp-content mounted over /wordpress/wp-content, and its wp-config.php at /wp-config.php, where
 * WordPress looks one level above ABSPATH. Nothing of one install is visible to another.
 */
const port = parentPort;
if (port === null) throw new Error('php worker started outside a worker thread');
const { site, processId } = workerData as WorkerData;

function send(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

async function boot(): Promise<{ php: PHP; handler: PHPRequestHandler }> {
  const runtime = await loadNodeRuntime(site.phpVersion as SupportedPHPVersion, {
    emscriptenOptions: { processId },
  });
  const php = new PHP(runtime);
  await php.mount('/wordpress', createNodeFsMountHandler(site.releaseDir));
  await php.mount('/wordpress/wp-content', createNodeFsMountHandler(site.contentDir));
  await php.mount('/wp-config.php', createNodeFsMountHandler(site.configFile));
  await setPhpIniEntries(php, {
    'opcache.enable': '1',
    'opcache.validate_timestamps': '1',
    'opcache.revalidate_freq': '2',
    memory_limit: '256M',
    max_execution_time: '60',
    display_errors: '0',
    log_errors: '1',
    error_log: '/tmp/php-errors.log',
  });
  php.chdir('/wordpress');
  const handler = new PHPRequestHandler({
    php,
    documentRoot: '/wordpress',
    absoluteUrl: site.absoluteUrl,
    // Visitors share this handler: it must never carry one visitor's cookies to the next.
    cookieStore: false,
    // Pretty permalinks: what is not a file goes to WordPress's front controller.
    getFileNotFoundAction: () => ({ type: 'internal-redirect', uri: '/index.php' }),
  });
  return { php, handler };
}

async function main(): Promise<void> {
  let booted: { php: PHP; handler: PHPRequestHandler };
  try {
    booted = await boot();
  } catch (err) {
    send({ kind: 'boot-failed', message: err instanceof Error ? err.message : String(err) });
    return;
  }
  const { php, handler } = booted;
  port?.on('message', (message: ToWorker) => {
    void handle(message);
  });
  send({ kind: 'ready' });

  async function handle(message: ToWorker): Promise<void> {
    try {
      if (message.kind === 'request') {
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
