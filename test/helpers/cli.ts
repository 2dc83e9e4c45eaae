import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository root (test/helpers/../..). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(REPO_ROOT, 'bin', 'wpfleet.js');

/** `npm test` builds first; a lone `vitest run` builds only when dist/ is missing. */
export async function ensureBuilt(): Promise<void> {
  if (fs.existsSync(path.join(REPO_ROOT, 'dist', 'main.js'))) return;
  await run('npm', ['run', 'build'], { cwd: REPO_ROOT });
}

/**
 * The environment of a child `wpfleet`: ours without any wpfleet setting (which could point it
 * at another store), plus the test store's.
 */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('WPFLEET_') || key === 'DATABASE_URL') continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `wpfleet <args>` to completion; never rejects on a non-zero exit. */
export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: REPO_ROOT,
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({ code: code ?? (signal === null ? 0 : 128), stdout, stderr });
    });
  });
}

/** Runs a CLI command that must succeed and prints JSON; returns the parsed JSON. */
export async function cliJson<T>(args: string[], env: Record<string, string>): Promise<T> {
  const r = await runCli(args, env);
  if (r.code !== 0) throw new Error(`wpfleet ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

export interface ServeProcess {
  child: ChildProcess;
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  /** Everything printed on stdout up to the end of the start-up message. */
  stdout: string;
  /** Everything printed on stdout so far, start-up message included. */
  printed(): string;
  /** Resolves with the exit code and signal once the process has gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then waits for the exit (SIGKILL if it does not go within the bound). */
  stop(): Promise<void>;
  /**
   * SIGKILL to serve's whole process group (serve and its PHP host), as a supervisor or the
   * kernel's OOM killer of a cgroup would; only for a serve started with `ownProcessGroup`.
   */
  killGroup(): void;
}

export interface ServeOptions {
  /** Starts serve as the leader of a process group of its own, for killGroup(). */
  ownProcessGroup?: boolean;
}

const STARTED = /^(Try it:|Authenticate with)/m;

/**
 * Spawns `wpfleet serve --port 0` on the store of `env` and waits (bounded) until it has printed
 * its whole start-up message, which ends with either the first-start "Try it:" line or the hint
 * to authenticate.
 */
export function startServe(
  env: Record<string, string>,
  args: string[] = [],
  timeoutMs = 30_000,
  options: ServeOptions = {},
): Promise<ServeProcess> {
  const ownGroup = options.ownProcessGroup === true;
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], {
    cwd: REPO_ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: ownGroup,
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      resolve({ code, signal });
    });
  });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  const killGroup = (): void => {
    if (!ownGroup || child.pid === undefined) {
      throw new Error('serve was not started in a process group of its own');
    }
    process.kill(-child.pid, 'SIGKILL');
  };

  return new Promise<ServeProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`wpfleet serve did not start in ${timeoutMs} ms: ${stdout}${stderr}`));
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const url = /wpfleet listening on (http:\/\/\S+)/.exec(stdout)?.[1];
      if (url !== undefined && STARTED.test(stdout)) {
        clearTimeout(timer);
        resolve({ child, url, stdout, printed: () => stdout, exited, stop, killGroup });
      }
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(
        new Error(`wpfleet serve exited (${code ?? signal ?? '?'}) before starting: ${stderr}`),
      );
    });
  });
}
