import { createNodeFsMountHandler } from '@php-wasm/node';
import { PHPRequestHandler, setPhpIniEntries, type PHP } from '@php-wasm/universal';
import type { SiteMount } from '../types.js';
import { readOnlyMount, sandboxFilesystem } from './sandbox-fs.js';

/**
 * What no install's PHP may call: each would start a process on the host if php-wasm were ever
 * given a spawn handler (it has none today, and PHP would crash on the call instead of failing).
 * `disable_functions` is a system setting: a script cannot turn it back on with ini_set().
 */
export const DISABLED_FUNCTIONS = [
  'exec',
  'passthru',
  'pcntl_exec',
  'pcntl_fork',
  'popen',
  'proc_open',
  'shell_exec',
  'system',
];

/**
 * How a php-wasm instance is laid out and set up to serve an install: the release's core at
 * /wordpress, read-only (every install of the release shares it), the install's wp-content
 * mounted writable over /wordpress/wp-content, and its wp-config.php, read-only, at
 * /wp-config.php, where WordPress looks one level above ABSPATH. No symlink can be made (see
 * sandbox-fs.ts). The worker and the benchmark's bare handler both use it, so the bench measures
 * exactly what the server runs.
 */
export async function mountRelease(php: PHP, releaseDir: string): Promise<void> {
  sandboxFilesystem(php);
  await php.mount('/wordpress', readOnlyMount(releaseDir));
  // No OPcache settings: php-wasm 3.1.20 sets file-cache-only OPcache, which does not start
  // under its `wasm` SAPI (nothing is cached; measured in docs/runtime.md).
  await setPhpIniEntries(php, {
    memory_limit: '256M',
    max_execution_time: '60',
    display_errors: '0',
    log_errors: '1',
    error_log: '/tmp/php-errors.log',
    disable_functions: DISABLED_FUNCTIONS.join(','),
  });
  php.chdir('/wordpress');
}

/** Mounts the install's own files over the release and returns the handler that serves it. */
export async function mountInstall(
  php: PHP,
  site: Pick<SiteMount, 'contentDir' | 'configFile' | 'absoluteUrl'>,
): Promise<PHPRequestHandler> {
  await php.mount('/wordpress/wp-content', createNodeFsMountHandler(site.contentDir));
  // The platform writes it (URLs, database, agent secret); the install's PHP only reads it.
  await php.mount('/wp-config.php', readOnlyMount(site.configFile));
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
