import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      srv.close(() => {
        resolve(port);
      });
    });
    srv.on('error', reject);
  });
}

function procStatus(pid: number, field: string): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const value = new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1];
  return value === undefined ? Number.NaN : Number(value);
}

/** Resident set size of a process in MB, read from /proc. */
export function rssMb(pid: number): number {
  return procStatus(pid, 'VmRSS') / 1024;
}

/** Anonymous (heap, wasm memories) and file-backed parts of a process's RSS, in MB. */
export function rssPartsMb(pid: number): { anon: number; file: number } {
  return { anon: procStatus(pid, 'RssAnon') / 1024, file: procStatus(pid, 'RssFile') / 1024 };
}

/** Threads of a process (each php-wasm instance of `wpfleet serve` is a worker thread). */
export function threadCount(pid: number): number {
  return procStatus(pid, 'Threads');
}

export interface LaunchedServer {
  child: ChildProcess;
  /** What the server printed until `until` appeared. */
  output: string;
  /** The last 20,000 characters it printed so far, for a failure's report. */
  recent(): string;
}

/**
 * Starts `wpfleet serve` as its own process and waits (30 s at most) until its output matches
 * `until` (by default the line saying where it listens).
 */
export async function launchServer(
  env: Record<string, string>,
  port: number,
  until: RegExp = /listening on/,
): Promise<LaunchedServer> {
  // BENCH_NODE_ARGS passes flags to the server's node, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(
    process.execPath,
    [...nodeArgs, 'bin/wpfleet.js', 'serve', '--port', String(port)],
    {
      // As `npm start` runs it: fewer glibc malloc arenas, so PHP threads' memory is returned.
      env: { MALLOC_ARENA_MAX: '2', ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start: ${out}`));
    }, 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (until.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${String(code)}: ${out}`));
    });
  });
  const output = out;
  const keep = (chunk: Buffer): void => {
    out = (out + chunk.toString()).slice(-20_000);
  };
  child.stdout.removeAllListeners('data').on('data', keep);
  child.stderr.removeAllListeners('data').on('data', keep);
  child.removeAllListeners('exit');
  return { child, output, recent: () => out };
}

/** Starts `wpfleet serve` as its own process and waits until it prints where it listens. */
export async function startServer(
  env: Record<string, string>,
  port: number,
): Promise<ChildProcess> {
  return (await launchServer(env, port)).child;
}

/** SIGTERM, then SIGKILL if the process has not gone within 20 s. */
export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
