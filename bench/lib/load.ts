import http from 'node:http';

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50ms: number;
  p99ms: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length));
  return sorted[i] ?? Number.NaN;
}

export interface Summary {
  n: number;
  min: number;
  p50: number;
  p99: number;
  max: number;
}

/** Count, min, p50, p99 and max of a set of samples (in any unit). */
export function summarize(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    min: sorted[0] ?? Number.NaN,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

/** `p50 … p99 … (min … max …, n)` in milliseconds. */
export function formatMs(s: Summary): string {
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  return `p50 ${ms(s.p50)}  p99 ${ms(s.p99)}  (min ${ms(s.min)}, max ${ms(s.max)}, n=${s.n})`;
}

function get(
  agent: http.Agent,
  url: URL,
  path: string,
  headers: Record<string, string>,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path, method: 'GET', agent, headers },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () => {
          resolve(res.statusCode ?? 0);
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** One closed-loop run; its latencies are pushed onto `latencies`. */
async function loadSlice(
  base: string,
  nextPath: () => string,
  headers: Record<string, string>,
  connections: number,
  durationMs: number,
  latencies: number[],
): Promise<{ errors: number; seconds: number }> {
  const url = new URL(base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  let errors = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(durationMs) * 1_000_000n;
  const worker = async (): Promise<void> => {
    while (process.hrtime.bigint() < deadline) {
      const t0 = process.hrtime.bigint();
      const status = await get(agent, url, nextPath(), headers).catch(() => 0);
      const t1 = process.hrtime.bigint();
      if (status !== 200) errors += 1;
      latencies.push(Number(t1 - t0) / 1e6);
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  agent.destroy();
  return { errors, seconds };
}

function result(latencies: number[], errors: number, seconds: number): LoadResult {
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    seconds,
    rps: latencies.length / seconds,
    p50ms: percentile(latencies, 50),
    p99ms: percentile(latencies, 99),
  };
}

/**
 * A closed loop over keep-alive connections: each of `connections` workers sends its next
 * request as soon as the previous answer is read, until `durationMs` has passed.
 */
export async function runLoad(
  base: string,
  nextPath: () => string,
  headers: Record<string, string>,
  connections: number,
  durationMs: number,
): Promise<LoadResult> {
  const latencies: number[] = [];
  const { errors, seconds } = await loadSlice(
    base,
    nextPath,
    headers,
    connections,
    durationMs,
    latencies,
  );
  return result(latencies, errors, seconds);
}

export function formatLoad(label: string, r: LoadResult): string {
  return `${label.padEnd(56)} p50 ${r.p50ms.toFixed(2).padStart(7)} ms  p99 ${r.p99ms
    .toFixed(2)
    .padStart(
      7,
    )} ms  ${r.rps.toFixed(0).padStart(6)} req/s  (${r.requests} requests, ${r.errors} errors)`;
}
