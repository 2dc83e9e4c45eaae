import { sleep } from './http.js';
import { staticServer, type StaticServer } from './static.js';
import type { WordPressServer } from './wordpress.js';
import { medianRun, requireWrk, wrkInTurns, type WrkResult } from './wrk.js';

export interface CachedFigures {
  generator: string;
  bodyBytes: number;
  brBytes: number;
  edge: WrkResult;
  bare: WrkResult;
  edgeBr: WrkResult;
  bareBr: WrkResult;
  /** Each target's req/s in every turn, in the order run. */
  turns: { edge: number[]; bare: number[]; edgeBr: number[]; bareBr: number[] };
  /**
   * The median over turns of edge / Node within the turn: both ran seconds apart, so a change in
   * the machine's load (this is a shared VM) falls on both.
   */
  ratio: number;
  ratioBr: number;
}

function medianRatio(a: WrkResult[], b: WrkResult[]): number {
  const ratios = a.map((r, i) => r.rps / (b[i]?.rps ?? Number.NaN)).sort((x, y) => x - y);
  return ratios[Math.floor(ratios.length / 2)] ?? Number.NaN;
}

const TURNS = 7;
const SECONDS = 3;
const CONNECTIONS = 8;
const THREADS = 2;
const BROWSER = 'gzip, deflate, br';

/**
 * The cached page against Node's own http server answering the same bytes from memory (its
 * best case: nothing to route, no cache to consult, no log), both driven by wrk from outside,
 * in alternating turns. Twice: the plain page (as wrk asks, no Accept-Encoding), and the page a
 * browser gets (`Accept-Encoding: gzip, deflate, br`: brotli, compressed once by the edge).
 */
export async function cachedPages(wp: WordPressServer, name: string): Promise<CachedFigures> {
  const generator = requireWrk();
  const host = `${name}.localhost:${wp.port}`;
  await wp.site(name, '/');
  const plain = await wp.site(name, '/');
  if (plain.status !== 200 || plain.headers['x-cache'] !== 'HIT') {
    throw new Error(
      `home page not cached: ${plain.status}, X-Cache ${String(plain.headers['x-cache'])}`,
    );
  }
  // The first compressed ask starts the brotli copy off the event loop; wait until it is served.
  let br = await wp.site(name, '/', { 'accept-encoding': BROWSER });
  for (let i = 0; i < 50 && br.headers['content-encoding'] !== 'br'; i += 1) {
    await sleep(100);
    br = await wp.site(name, '/', { 'accept-encoding': BROWSER });
  }
  if (br.headers['content-encoding'] !== 'br') throw new Error('the edge never served brotli');
  const type = plain.headers['content-type'] ?? 'text/html';
  const servers: StaticServer[] = [];
  try {
    const bare = await staticServer(plain.body, type);
    servers.push(bare);
    const bareBr = await staticServer(br.body, type, {
      'content-encoding': 'br',
      vary: 'Accept-Encoding',
    });
    servers.push(bareBr);
    const edgeUrl = `${wp.base}/`;
    const targets = [
      { label: 'edge', url: edgeUrl, headers: { host } },
      { label: 'bare', url: `${bare.base}/` },
      { label: 'edge br', url: edgeUrl, headers: { host, 'accept-encoding': BROWSER } },
      { label: 'bare br', url: `${bareBr.base}/`, headers: { 'accept-encoding': BROWSER } },
    ];
    const options = { seconds: SECONDS, connections: CONNECTIONS, threads: THREADS };
    // A first short turn warms both servers' code up.
    await wrkInTurns(targets, 1, { ...options, seconds: 1 });
    const runs = await wrkInTurns(targets, TURNS, options);
    for (const [i, target] of targets.entries()) {
      const errors = (runs[i] ?? []).reduce((n, r) => n + r.errors, 0);
      if (errors > 0) throw new Error(`${target.label}: ${errors} failed requests under load`);
    }
    const [e = [], b = [], eb = [], bb = []] = runs;
    return {
      generator,
      bodyBytes: plain.body.length,
      brBytes: br.body.length,
      edge: medianRun(e),
      bare: medianRun(b),
      edgeBr: medianRun(eb),
      bareBr: medianRun(bb),
      ratio: medianRatio(e, b),
      ratioBr: medianRatio(eb, bb),
      turns: {
        edge: e.map((r) => r.rps),
        bare: b.map((r) => r.rps),
        edgeBr: eb.map((r) => r.rps),
        bareBr: bb.map((r) => r.rps),
      },
    };
  } finally {
    for (const s of servers) s.stop();
  }
}

const rps = (r: WrkResult): string =>
  `${Math.round(r.rps).toLocaleString('en-US')} req/s, p50 ${r.p50ms.toFixed(2)} ms, ` +
  `p99 ${r.p99ms.toFixed(2)} ms`;

/** Prints the figure; returns the plain page's ratio (the target is on it). */
export function printCachedPages(f: CachedFigures, target: number): number {
  const { ratio, ratioBr } = f;
  console.log(
    `  load generator: ${f.generator}, ${THREADS} threads, ${CONNECTIONS} keep-alive connections, ` +
      `${TURNS} turns of ${SECONDS} s per target, taking turns (median shown)`,
  );
  console.log(`  edge, X-Cache: HIT, ${f.bodyBytes} B:              ${rps(f.edge)}`);
  console.log(`  Node http, the same bytes from memory:      ${rps(f.bare)}`);
  console.log(`  edge, Accept-Encoding br, ${f.brBytes} B brotli:   ${rps(f.edgeBr)}`);
  console.log(`  Node http, the same brotli bytes:           ${rps(f.bareBr)}`);
  const list = (xs: number[]) => xs.map((x) => Math.round(x)).join(', ');
  console.log(
    `  turns (req/s): edge ${list(f.turns.edge)}; Node ${list(f.turns.bare)}; ` +
      `edge br ${list(f.turns.edgeBr)}; Node br ${list(f.turns.bareBr)}`,
  );
  console.log(
    `  ratio edge / Node (median of the turns' ratios): ${ratio.toFixed(2)} plain (target ${target}: ` +
      `${ratio >= target ? 'met' : 'NOT met'}), ${ratioBr.toFixed(2)} brotli`,
  );
  // wrk limits neither figure if it drives Node's server well above the edge's.
  const headroom = f.bare.rps / f.edge.rps;
  console.log(
    headroom > 1.05
      ? `  wrk drove Node's server to ${headroom.toFixed(2)}× the edge's plain figure: the edge, ` +
          `not the load generator, set it`
      : `  the edge matched Node's server: this run does not show which one, or wrk, set the pace`,
  );
  return ratio;
}
