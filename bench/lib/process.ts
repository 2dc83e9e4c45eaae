import os from 'node:os';
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

/** The process and all its descendants (the server and its PHP host process). */
export function processTree(pid: number): number[] {
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    const parent = tree[i] ?? 0;
    let tasks: string[] = [];
    try {
      tasks = fs.readdirSync(`/proc/${parent}/task`);
    } catch {
      continue; // exited meanwhile
    }
    for (const task of tasks) {
      try {
        const children = fs.readFileSync(`/proc/${parent}/task/${task}/children`, 'utf8');
        for (const child of children.split(' ')) if (child.trim() !== '') tree.push(Number(child));
      } catch {
        // the task ended meanwhile
      }
    }
  }
  return tree;
}

function treeSum(pid: number, read: (p: number) => number): number {
  let sum = 0;
  for (const p of processTree(pid)) {
    try {
      sum += read(p);
    } catch {
      // exited between listing and reading
    }
  }
  return sum;
}

/** Resident set size in MB of one process (NaN once it has exited). */
export function processRssMb(pid: number): number {
  try {
    return procStatus(pid, 'VmRSS') / 1024;
  } catch {
    return Number.NaN;
  }
}

/**
 * Resident set size in MB of a process and its descendants, summed: an upper bound, as each
 * process counts the pages of the node binary they share.
 */
export function rssMb(pid: number): number {
  return treeSum(pid, (p) => procStatus(p, 'VmRSS')) / 1024;
}

/** Proportional set size in MB of a process and its descendants: shared pages counted once. */
export function pssMb(pid: number): number {
  return (
    treeSum(pid, (p) => {
      const rollup = fs.readFileSync(`/proc/${p}/smaps_rollup`, 'utf8');
      return Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? Number.NaN);
    }) / 1024
  );
}

/** Anonymous (heap, wasm memories) and file-backed parts of the tree's RSS, in MB. */
export function rssPartsMb(pid: number): { anon: number; file: number } {
  return {
    anon: treeSum(pid, (p) => procStatus(p, 'RssAnon')) / 1024,
    file: treeSum(pid, (p) => procStatus(p, 'RssFile')) / 1024,
  };
}

/** Threads of a process and its descendants (each php-wasm instance is a thread of the host). */
export function threadCount(pid: number): number {
  return treeSum(pid, (p) => procStatus(p, 'Threads'));
}

/** Processes in the tree: the server alone, or the server and its PHP host. */
export function processCount(pid: number): number {
  return processTree(pid).length;
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
      env: { ...process.env, ...env },
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

/** The machine's load averages (1, 5, 15 minutes), printed with each bench's figures. */
export function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
}
