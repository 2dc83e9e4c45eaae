import { createNodeFsMountHandler } from '@php-wasm/node';
import { PHPRequestHandler, setPhpIniEntries, type PHP } from '@php-wasm/universal';
import type { SiteMount } from '../types.js';

/**
 * How a php-wasm instance is laid out and set up to serve an install: the release's core at
 * /wordpress (read-only by convention), the install's wp-content mounted over
 * /wordpress/wp-content, and its wp-config.php at /wp-config.php, where WordPress looks one
 * level above ABSPATH. The worker and the benchmark's bare handler both use it, so the bench
 * measures exactly what the server runs.
 */
export async function mountRelease(php: PHP, releaseDir: string): Promise<void> {
  await php.mount('/wordpress', createNodeFsMountHandler(releaseDir));
  // No OPcache settings: php-wasm 3.1.20 sets file-cache-only OPcache, which does not start
  // under its `wasm` SAPI (nothing is cached; measured in docs/runtime.md).
  await setPhpIniEntries(php, {
    memory_limit: '256M',
    max_execution_time: '60',
    display_errors: '0',
    log_errors: '1',
    error_log: '/tmp/php-errors.log',
  });
  php.chdir('/wordpress');
}

/** Mounts the install's own files over the release and returns the handler that serves it. */
export async function mountInstall(
  php: PHP,
  site: Pick<SiteMount, 'contentDir' | 'configFile' | 'absoluteUrl'>,
): Promise<PHPRequestHandler> {
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
