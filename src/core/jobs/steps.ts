import type { JobRow } from './jobs.repository.js';
import type { Repositories, Store } from '../store.js';
import { crashPoint } from './crash-points.js';

export type StepData = Record<string, unknown>;

function recordedSteps(job: JobRow): Map<string, StepData> {
  if (job.result === null) return new Map();
  try {
    const parsed = JSON.parse(job.result) as { steps?: unknown };
    if (typeof parsed.steps !== 'object' || parsed.steps === null) return new Map();
    return new Map(Object.entries(parsed.steps as Record<string, StepData>));
  } catch {
    return new Map();
  }
}

/** The steps a job has recorded so far, in the order it first reached them. */
export function recordedStepNames(job: JobRow): string[] {
  return [...recordedSteps(job).keys()];
}

/**
 * The newest step a job has recorded, null for none. A step recorded again by a later attempt
 * keeps its place, so this changes only when the job gets further than it ever was.
 */
export function lastRecordedStep(job: JobRow): string | null {
  return [...recordedSteps(job).keys()].pop() ?? null;
}

/**
 * The steps a job has done, kept in its row (as `{"steps": …}` in its result until it finishes),
 * so that a run after a crash knows where the last one stopped: a restore that had begun
 * swapping files rolls forward instead of starting over. Each step is also a crash point.
 */
export class JobSteps {
  private constructor(
    private readonly store: Store,
    private readonly jobId: string | null,
    private readonly done: Map<string, StepData>,
  ) {}

  /** The steps of a claimed job, as its earlier attempts left them. */
  static of(store: Store, job: JobRow): JobSteps {
    return new JobSteps(store, job.id, recordedSteps(job));
  }

  /** For work run outside the job runner (the CLI's `--direct`): steps are kept in memory only. */
  static untracked(store: Store): JobSteps {
    return new JobSteps(store, null, new Map());
  }

  has(step: string): boolean {
    return this.done.has(step);
  }

  get(step: string): StepData | undefined {
    return this.done.get(step);
  }

  /**
   * Records a step as done, with what it chose, in one transaction with `also` (the change the
   * step made to the store, if any); then passes the step's crash point.
   */
  async record(
    step: string,
    data: StepData = {},
    also?: (r: Repositories) => Promise<void>,
  ): Promise<void> {
    const next = new Map(this.done).set(step, data);
    const jobId = this.jobId;
    if (jobId !== null || also !== undefined) {
      await this.store.transaction(async (r) => {
        await also?.(r);
        if (jobId !== null) {
          const steps = JSON.stringify({ steps: Object.fromEntries(next) });
          await r.jobs.saveSteps(jobId, steps, new Date().toISOString());
        }
      });
    }
    this.done.set(step, data);
    crashPoint(step);
  }
}
