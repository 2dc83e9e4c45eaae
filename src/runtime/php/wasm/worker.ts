import { parentPort, workerData } from 'node:worker_threads';
import { createNodeFsMountHandler, loadNodeRuntime } from '@php-wasm/node';
import {
  PHP,
  PHPRequestHandler,
  setPhpIniEntries,
  type SupportedPHPVersion,
} from '@php-wasm/universal';
import type { SiteMount } from '../types.js';
import type { FromWorker, ToWorker, WorkerData } from './messages.js';

/**
 * One PHP instance serving one install, in its own thread so that booting and running WordPress
 * never blocks the server's event loop.
 *
 * Layout inside PHP: the release's core at /wordpress (read-only by convention), the install's
 * wp-content mounted over /wordpress/wp-content, and its wp-config.php at /wp-config.php, where
 * WordPress looks one level above ABSPATH. Nothing of one install is visible to another.
 *
 * A spare boots with the release alone and compiles its core into opcache, then waits to be
 * assigned an install: a new install's first request then costs neither the boot nor compiling
 * WordPress.
 */
const port = parentPort;
if (port === null) throw new Error('php worker started outside a worker thread');
const { base, site: initialSite, processId } = workerData as WorkerData;

function send(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

const WARM_CORE = `<?php
$compiled = 0;
foreach (['/wordpress/wp-includes', '/wordpress/wp-admin/includes'] as $dir) {
    $files = new RecursiveIteratorIterator(new RecursiveDirectoryIterator($dir, FilesystemIterator::SKIP_DOTS));
    foreach ($files as $file) {
        if (substr((string) $file, -4) === '.php' && @opcache_compile_file((string) $file)) { $compiled++; }
    }
}
echo $compiled;`;

async function boot(): Promise<PHP> {
  const runtime = await loadNodeRuntime(base.phpVersion as SupportedPHPVersion, {
    emscriptenOptions: { processId },
  });
  const php = new PHP(runtime);
  await php.mount('/wordpress', createNodeFsMountHandler(base.releaseDir));
  await setPhpIniEntries(php, {
    'opcache.enable': '1',
    'opcache.enable_cli': '1',
    'opcache.validate_timestamps': '1',
    'opcache.revalidate_freq': '2',
    memory_limit: '256M',
    max_execution_time: '60',
    display_errors: '0',
    log_errors: '1',
    error_log: '/tmp/php-errors.log',
  });
  php.chdir('/wordpress');
  return php;
}

async function assign(php: PHP, site: SiteMount): Promise<PHPRequestHandler> {
  await php.mount('/wordpress/wp-content', createNodeFsMountHandler(site.contentDir));
  await php.mount('/wp-config.php', createNodeFsMountHandler(site.configFile));
  return new PHPRequestHandler({
    php,
    documentRoot: '/wordpress',
    absoluteUrl: site.absoluteUrl,
    // Visitors share this handler: it must never carry one visitor's cookies to the next.
    cookieStore: false,
    // Pretty permalinks: what is not a file goes to WordPress's front controller.
    getFileNotFoundAction: () => ({ type: 'internal-redirect', uri: '/index.php' }),
  });
}

async function main(): Promise<void> {
  let php: PHP;
  let handler: PHPRequestHandler | null = null;
  try {
    php = await boot();
    if (initialSite !== null) handler = await assign(php, initialSite);
  } catch (err) {
    send({ kind: 'boot-failed', message: err instanceof Error ? err.message : String(err) });
    return;
  }
  // One thing at a time in PHP: the warm-up, an assignment, requests.
  let queue: Promise<unknown> = Promise.resolve();
  const enqueue = (work: () => Promise<void>): void => {
    queue = queue.then(work, work);
  };
  port?.on('message', (message: ToWorker) => {
    enqueue(() => handle(message));
  });
  send({ kind: 'ready' });
  if (initialSite === null) {
    enqueue(async () => {
      await (
        await php.runStream({ code: WARM_CORE })
      ).stdoutText;
    });
  }

  async function handle(message: ToWorker): Promise<void> {
    try {
      if (message.kind === 'assign') {
        handler = await assign(php, message.site);
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
