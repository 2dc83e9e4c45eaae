import { execFile, execFileSync } from 'node:child_process';

/**
 * Throughput from outside Node: `wrk` (Debian's package), a C load generator that drives a
 * single Node process far past what it serves, so that a figure measures the server and not the
 * client. A load generator written in Node on the same two cores tops out near 15k req/s and
 * measured itself (issue 11, item 4).
 */
export interface WrkResult {
  rps: number;
  requests: number;
  /** Non-2xx/3xx answers plus socket errors: a figure with any is refused. */
  errors: number;
  p50ms: number;
  p99ms: number;
}

export interface WrkOptions {
  url: string;
  headers?: Record<string, string>;
  seconds: number;
  connections: number;
  threads: number;
}

/** The version line of wrk, or null when it is not installed. */
export function wrkVersion(): string | null {
  try {
    // wrk prints its version and usage, and exits 1, when given no URL.
    return (
      execFileSync('wrk', ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
        .split('\n')[0]
        ?.trim() ?? null
    );
  } catch (err) {
    const out = (err as { stdout?: string }).stdout ?? '';
    const first = out.split('\n')[0]?.trim() ?? '';
    return first.startsWith('wrk') ? first : null;
  }
}

/** Exits with the line that installs wrk when it is missing. */
export function requireWrk(): string {
  const version = wrkVersion();
  if (version === null) {
    console.error('This figure needs wrk (a C load generator): apt-get install -y wrk');
    process.exit(2);
  }
  return version;
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  if (unit === 'us') return n / 1000;
  if (unit === 's') return n * 1000;
  if (unit === 'm') return n * 60_000;
  return n;
}

/** Parses wrk's report (with `--latency`). */
export function parseWrk(out: string): WrkResult {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? Number.NaN);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = socket === null ? 0 : socket.slice(1).reduce((a, b) => a + Number(b), 0);
  const latency = (p: string): number => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s|m)`).exec(out);
    return m === null ? Number.NaN : toMs(m[1] ?? '', m[2] ?? 'ms');
  };
  return {
    rps,
    requests,
    errors: non2xx + socketErrors,
    p50ms: latency('50'),
    p99ms: latency('99'),
  };
}

export function runWrk(options: WrkOptions): Promise<WrkResult> {
  const args = [
    `-t${options.threads}`,
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    '--latency',
  ];
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    // wrk replaces its own Host header only when given one spelled `Host`; `host` would be sent
    // as a second one, and Node keeps the first (wrk's, naming no install).
    args.push('-H', `${name.toLowerCase() === 'host' ? 'Host' : name}: ${value}`);
  }
  args.push(options.url);
  return new Promise((resolve, reject) => {
    execFile('wrk', args, { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err !== null) {
        reject(new Error(`wrk failed: ${err.message}\n${stderr}`));
        return;
      }
      const result = parseWrk(stdout);
      if (!Number.isFinite(result.rps)) reject(new Error(`unreadable wrk output:\n${stdout}`));
      else resolve(result);
    });
  });
}

export interface WrkTarget {
  label: string;
  url: string;
  headers?: Record<string, string>;
}

/**
 * Runs each target in turn, `turns` times, so that whatever else the machine does falls on all
 * of them alike; gives each target's runs, in order.
 */
export async function wrkInTurns(
  targets: WrkTarget[],
  turns: number,
  options: Omit<WrkOptions, 'url' | 'headers'>,
): Promise<WrkResult[][]> {
  const results: WrkResult[][] = targets.map(() => []);
  for (let turn = 0; turn < turns; turn += 1) {
    for (const [i, target] of targets.entries()) {
      const r = await runWrk({
        ...options,
        url: target.url,
        ...(target.headers === undefined ? {} : { headers: target.headers }),
      });
      results[i]?.push(r);
    }
  }
  return results;
}

/** The run with the median req/s. */
export function medianRun(runs: WrkResult[]): WrkResult {
  const sorted = [...runs].sort((a, b) => a.rps - b.rps);
  const mid = sorted[Math.floor(sorted.length / 2)];
  if (mid === undefined) throw new Error('no wrk run');
  return mid;
}
