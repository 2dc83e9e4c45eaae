import { loadNodeRuntime } from '@php-wasm/node';
import { PHP, type PHPRequestHandler, type SupportedPHPVersion } from '@php-wasm/universal';
import { mountInstall, mountRelease } from '../../src/runtime/php/wasm/php-site.js';
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
 * A bare `PHPRequestHandler` in this process serving an install's files, mounted and set up by
 * the same code as the server's workers (src/runtime/php/wasm/php-site.ts), with no thread, queue or HTTP in between: what serving
 * a page costs php-wasm itself.
 */
export async function bootBarePhp(site: BareSite): Promise<BarePhp> {
  const t0 = performance.now();
  const runtime = await loadNodeRuntime(site.phpVersion as SupportedPHPVersion, {
    emscriptenOptions: { processId: 1 },
  });
  const php = new PHP(runtime);
  let handler: PHPRequestHandler;
  try {
    await mountRelease(php, site.releaseDir);
    handler = await mountInstall(php, site);
  } catch (err) {
    php.exit();
    throw err;
  }
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
