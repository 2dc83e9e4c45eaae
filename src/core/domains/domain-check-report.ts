import { Value } from '@sinclair/typebox/value';
import type { JobRow } from '../jobs/jobs.repository.js';
import { DomainCheckRun, uncheckedDomain, type DomainCheckReport } from './domain-check.js';
import { fromV01Result } from './domain-check-v01.js';

/** A job's stored result as a run: today's form, or 0.1's converted; undefined for neither. */
function runOf(result: string): DomainCheckRun | undefined {
  let stored: unknown;
  try {
    stored = JSON.parse(result);
  } catch {
    return undefined;
  }
  return Value.Check(DomainCheckRun, stored) ? stored : fromV01Result(stored);
}

/** The domain a check job was asked about, '' when its payload does not say. */
function domainOf(job: Pick<JobRow, 'payload'>): string {
  try {
    const payload: unknown = JSON.parse(job.payload);
    if (typeof payload === 'object' && payload !== null && 'name' in payload) {
      return typeof payload.name === 'string' ? payload.name : '';
    }
  } catch {
    // A payload that is not JSON names no domain.
  }
  return '';
}

/** The check job as a report: its run once done, a skeleton before, the reason if it failed. */
export function reportOfJob(
  job: Pick<JobRow, 'id' | 'state' | 'payload' | 'result' | 'error'>,
  installName: string,
): DomainCheckReport {
  const run = job.state === 'succeeded' && job.result !== null ? runOf(job.result) : undefined;
  if (run !== undefined) return { id: job.id, complete: true, ...run };
  const name = domainOf(job);
  const ended = job.state === 'failed' || job.state === 'succeeded';
  return {
    id: job.id,
    complete: ended,
    installName,
    platformAddress: '',
    checks: [
      ended
        ? uncheckedDomain(name, 'not_run', job.error ?? 'the check left no report')
        : uncheckedDomain(name, 'pending'),
    ],
  };
}
