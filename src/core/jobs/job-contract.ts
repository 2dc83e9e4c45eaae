/**
 * Every job wpfleet queues: its name and the payload it carries, declared once. Services enqueue
 * with these types, handlers receive the payload parsed and checked against the same schema, and
 * the composition root must give every name a handler (JobDefinitions is a complete map).
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Repositories } from '../store.js';
import type { JobRow } from './jobs.repository.js';
import type { JobSteps } from './steps.js';

const Empty = Type.Object({});

export const JOB_PAYLOADS = {
  /** Target: the install. */
  'install.provision': Empty,
  /** Target: the (deleted) install; removes its files and database. */
  'install.delete': Empty,
  /** Target: the install; points home and siteurl at its primary domain. */
  'install.urls': Empty,
  /** Target: the install. Pages were purged when asked; this does the rest. */
  'cache.purge': Type.Object({
    type: Type.Union([Type.Literal('object'), Type.Literal('page'), Type.Literal('cdn')]),
  }),
  /** Target: the backup. */
  'backup.create': Empty,
  /** Target: the install; restores the named backup. */
  'backup.restore': Type.Object({ backup_id: Type.String() }),
  /**
   * Target: the install; switches it to the release of `version` and upgrades its database
   * (`reinstall`: the same version, its release's files verified and repaired first).
   */
  'install.core_update': Type.Object({
    version: Type.String(),
    reinstall: Type.Boolean(),
    /** Screenshots of the home page before and after, compared; beyond `threshold` it goes back. */
    visual: Type.Optional(Type.Boolean()),
    threshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  }),
  /**
   * Target: the install; updates plugins and themes together behind a snapshot, checks the site
   * (and its looks unless `visual` is false, `threshold` the fraction of pixels allowed to
   * change) and rolls all of them back on any failure (src/core/updates/safe-update.job.ts).
   */
  'install.safe_update': Type.Object({
    items: Type.Array(
      Type.Object({
        kind: Type.Union([Type.Literal('plugin'), Type.Literal('theme')]),
        slug: Type.String(),
        /** The version it goes to, chosen when it was queued. */
        version: Type.String(),
      }),
      { minItems: 1 },
    ),
    visual: Type.Boolean(),
    threshold: Type.Number({ minimum: 0, maximum: 1 }),
  }),
  /**
   * Target: the new install of a clone (queued after its provisioning); copies the source
   * install's files and database into it, then makes it active.
   */
  'install.clone': Type.Object({ source_id: Type.String() }),
  /**
   * Target: the install copied onto (`to`), another environment of the source's site; a safety
   * backup of it first, then the source's files, database or both.
   */
  'install.copy': Type.Object({
    source_id: Type.String(),
    parts: Type.Union([Type.Literal('both'), Type.Literal('files'), Type.Literal('database')]),
  }),
  /** Target: the domain; checks how its name resolves. */
  'domain.check_status': Type.Object({ name: Type.String() }),
};

export type JobName = keyof typeof JOB_PAYLOADS;
export type JobPayload<N extends JobName> = Static<(typeof JOB_PAYLOADS)[N]>;

/** A failure that another attempt cannot help (the handler already cleaned up): not retried. */
export class FinalJobError extends Error {}

/** What a job type does, with its payload already parsed for it. */
export interface JobDefinition<N extends JobName> {
  /** One attempt; `steps` holds what earlier attempts recorded. */
  run: (job: JobRow, payload: JobPayload<N>, steps: JobSteps) => Promise<Record<string, unknown>>;
  /**
   * Called instead of another run when restarts kept interrupting the job at the same step (it
   * most likely kills the process there), to clean up what it leaves outside the store.
   */
  abandon?(job: JobRow, steps: JobSteps, reason: string): Promise<void>;
  /**
   * Called inside the transaction that fails the job for good (last attempt, `FinalJobError`,
   * or abandoned), so that the target says it failed, and why, exactly when the job does.
   */
  givenUp?(r: Repositories, job: JobRow, error: string): Promise<void>;
}

export type JobDefinitions = { [N in JobName]: JobDefinition<N> };

/** A job type as the runner sees it: the payload is the handler's to parse. */
export interface RunnableJob {
  run: (job: JobRow, steps: JobSteps) => Promise<Record<string, unknown>>;
  abandon?(job: JobRow, steps: JobSteps, reason: string): Promise<void>;
  givenUp?(r: Repositories, job: JobRow, error: string): Promise<void>;
}

/**
 * A job's payload, checked against its type's schema. A payload that does not match (written by
 * another version, or by hand) fails the job for good instead of running it on a guess.
 */
export function jobPayload<N extends JobName>(name: N, job: JobRow): JobPayload<N> {
  const schema = JOB_PAYLOADS[name];
  let value: unknown;
  try {
    value = JSON.parse(job.payload);
  } catch {
    throw new FinalJobError(`the ${name} job's payload is not JSON`);
  }
  if (!Value.Check(schema, value)) {
    throw new FinalJobError(`the ${name} job's payload does not match its type`);
  }
  return value;
}

/** One job type as the runner sees it. */
export function runnable<N extends JobName>(name: N, definition: JobDefinition<N>): RunnableJob {
  return {
    ...definition,
    run: (job, steps) => definition.run(job, jobPayload(name, job), steps),
  };
}

/** The runner's view of every job type. */
export function runnableJobs(definitions: JobDefinitions): Record<JobName, RunnableJob> {
  return {
    'install.provision': runnable('install.provision', definitions['install.provision']),
    'install.delete': runnable('install.delete', definitions['install.delete']),
    'install.urls': runnable('install.urls', definitions['install.urls']),
    'cache.purge': runnable('cache.purge', definitions['cache.purge']),
    'backup.create': runnable('backup.create', definitions['backup.create']),
    'backup.restore': runnable('backup.restore', definitions['backup.restore']),
    'domain.check_status': runnable('domain.check_status', definitions['domain.check_status']),
    'install.core_update': runnable('install.core_update', definitions['install.core_update']),
    'install.clone': runnable('install.clone', definitions['install.clone']),
    'install.copy': runnable('install.copy', definitions['install.copy']),
    'install.safe_update': runnable('install.safe_update', definitions['install.safe_update']),
  };
}
