import { createNodeFsMountHandler, loadNodeRuntime } from '@php-wasm/node';
import {
  PHP,
  PHPRequestHandler,
  setPhpIniEntries,
  type SupportedPHPVersion,
} from '@php-wasm/universal';
import { since } from './http.js';

export interface BareSite {
  phpVersion: string;
  releaseDir: string;
  contentDir: string;
  configFile: string;
  absoluteUrl: string;
}

export interface BarePhp {
  /** Loading the runtime and mounting the site. */
  bootMs: number;
  /** One request; resolves with its time and the page's size. Throws unless it answers 200. */
  request(path: string, headers: Record<string, string>): Promise<{ ms: number; bytes: number }>;
  close(): void;
}

/**
 * A bare `PHPRequestHandler` in this process serving an install's files, mounted and set up as
 * src/runtime/php/wasm/worker.ts does, with no thread, queue or HTTP in between: what serving
 * a page costs php-wasm itself.
 */
export async function bootBarePhp(site: BareSite): Promise<BarePhp> {
  const t0 = performance.now();
  const runtime = await loadNodeRuntime(site.phpVersion as SupportedPHPVersion, {
    emscriptenOptions: { processId: 1 },
  });
  const php = new PHP(runtime);
  try {
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
  } catch (err) {
    php.exit();
    throw err;
  }
  php.chdir('/wordpress');
  const handler = new PHPRequestHandler({
    php,
    documentRoot: '/wordpress',
    absoluteUrl: site.absoluteUrl,
    cookieStore: false,
    getFileNotFoundAction: () => ({ type: 'internal-redirect', uri: '/index.php' }),
  });
  return {
    bootMs: since(t0),
    async request(path, headers) {
      const t = performance.now();
      const res = await handler.request({ method: 'GET', url: path, headers });
      if (res.httpStatusCode !== 200) throw new Error(`bare PHP answered ${res.httpStatusCode}`);
      return { ms: since(t), bytes: res.bytes.byteLength };
    },
    close() {
      php.exit();
    },
  };
}
