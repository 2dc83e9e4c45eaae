import fs from 'node:fs';
import { processRssMb, processTree } from './process.js';

/** How one process's resident set moved while a step ran, in MB. */
export interface RssRise {
  /** Before the step; 0 for a process started during it. */
  before: number;
  peak: number;
  /** peak − before: for a process started during the step, all of its RSS. */
  rise: number;
}

export interface RssDuring<T> {
  result: T;
  ms: number;
  /** The watched process itself (the server, or a CLI). */
  main: RssRise;
  /** Its descendants that ran before the step (the PHP host). */
  kept: RssRise;
  /** The largest of its descendants started during the step (a backup's offload child). */
  started: RssRise & { what: string };
  /** The whole tree, summed. */
  tree: RssRise;
  samples: number;
}

function commandOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(1).join(' ');
  } catch {
    return '';
  }
}

const rise = (before: number, peak: number): RssRise => ({ before, peak, rise: peak - before });

/**
 * Runs `work` while sampling, every `everyMs`, the RSS of `pid` (a function, for a process
 * `work` starts itself), of its descendants that were there before, of those started meanwhile,
 * and of the whole tree; reports each one's peak against its RSS before the step.
 */
export async function rssDuring<T>(
  pid: () => number | undefined,
  work: () => Promise<T>,
  everyMs = 50,
): Promise<RssDuring<T>> {
  const first = pid();
  const beforeTree = first === undefined ? [] : processTree(first);
  const existing = new Set(beforeTree);
  const beforeOf = (p: number): number => (existing.has(p) ? processRssMb(p) : 0);
  const mainBefore = first === undefined ? 0 : processRssMb(first);
  const keptBefore = beforeTree.filter((p) => p !== first).reduce((sum, p) => sum + beforeOf(p), 0);
  let mainPeak = mainBefore;
  let keptPeak = keptBefore;
  let treePeak = mainBefore + keptBefore;
  let started = { before: 0, peak: 0, rise: 0, what: 'none' };
  let samples = 0;
  const sample = (): void => {
    const main = pid();
    if (main === undefined) return;
    samples += 1;
    let kept = 0;
    let total = 0;
    for (const p of processTree(main)) {
      const rss = processRssMb(p);
      if (Number.isNaN(rss)) continue;
      total += rss;
      if (p === main) mainPeak = Math.max(mainPeak, rss);
      else if (existing.has(p)) kept += rss;
      else if (rss > started.peak) {
        started = { before: 0, peak: rss, rise: rss, what: commandOf(p) };
      }
    }
    keptPeak = Math.max(keptPeak, kept);
    treePeak = Math.max(treePeak, total);
  };
  const timer = setInterval(sample, everyMs);
  const t0 = performance.now();
  try {
    const result = await work();
    return {
      result,
      ms: performance.now() - t0,
      main: rise(mainBefore, mainPeak),
      kept: rise(keptBefore, keptPeak),
      started,
      tree: rise(mainBefore + keptBefore, treePeak),
      samples,
    };
  } finally {
    clearInterval(timer);
  }
}
