import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { MIGRATION_LOCK_KEY } from '../../src/db/migrate.js';
import { loadConfig, type Config } from '../../src/config.js';

export type TestEngine = 'sqlite' | 'postgres';
export const ENGINES: TestEngine[] = ['sqlite', 'postgres'];

/** The PostgreSQL server the tests use (trust auth on this machine and in CI). */
export const PG_URL = process.env.WPFLEET_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * The tests' machine cache (Debian's downloads, verified releases), kept between runs so only
 * the first run downloads. Every test store uses it unless a test gives its own, so no test
 * writes into the real `~/.cache`.
 */
export const SHARED_CACHE = path.join(os.tmpdir(), 'wpfleet-test-cache');

/**
 * A machine cache of the test's own in `dir` (`<dir>/machine-cache`), empty of releases, for
 * tests of cold behaviour and tests whose releases are fakes (which must never reach the shared
 * cache); its Debian downloads are the shared ones (a link), so nothing is downloaded twice.
 */
export function ownCache(dir: string): string {
  const cache = path.join(dir, 'machine-cache');
  const debian = path.join(SHARED_CACHE, 'debian');
  fs.mkdirSync(debian, { recursive: true });
  fs.mkdirSync(cache, { recursive: true });
  if (!fs.existsSync(path.join(cache, 'debian'))) {
    fs.symlinkSync(debian, path.join(cache, 'debian'));
  }
  return cache;
}

export interface TestStore {
  config: Config;
  /** PostgreSQL schema that isolates this store, if any. */
  pgSchema: string | undefined;
  /** Extra environment for a child process (`wpfleet …`) to use the same store. */
  env: Record<string, string>;
  dispose(): Promise<void>;
}

async function pgAdmin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * A fresh, isolated store: a temporary data directory and, for PostgreSQL, a schema of its own
 * that is dropped afterwards. Rate limits are off unless a test sets them.
 */
export async function testStore(
  engine: TestEngine,
  env: Record<string, string> = {},
): Promise<TestStore> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-test-'));
  const baseEnv: Record<string, string> = {
    WPFLEET_RATE_LIMIT_ACCOUNT_HOUR: '0',
    WPFLEET_RATE_LIMIT_IP_MINUTE: '0',
    WPFLEET_LOG_LEVEL: 'silent',
    // API tests run without the job runner: installs stay pending, as the API promises.
    WPFLEET_JOBS: 'false',
    WPFLEET_CACHE_DIR: SHARED_CACHE,
    ...env,
  };
  let pgSchema: string | undefined;
  if (engine === 'postgres') {
    pgSchema = `t_${randomBytes(6).toString('hex')}`;
    await pgAdmin(`create schema ${pgSchema}`);
    const url = new URL(PG_URL);
    url.searchParams.set('options', `-c search_path=${pgSchema}`);
    baseEnv.DATABASE_URL = url.toString();
  }
  const config = loadConfig({ data: dataDir }, { ...baseEnv });
  return {
    config,
    pgSchema,
    env: { ...baseEnv, WPFLEET_DATA: dataDir },
    async dispose() {
      if (pgSchema !== undefined) {
        // Under the migrations' lock: a catalog scan of a migration running beside it fails on
        // a schema dropped under it.
        const lock = String(MIGRATION_LOCK_KEY);
        await pgAdmin(
          `select pg_advisory_lock(${lock}); drop schema if exists ${pgSchema} cascade; ` +
            `select pg_advisory_unlock(${lock})`,
        );
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
