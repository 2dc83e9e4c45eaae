import type { InstallsService } from '../../core/installs/installs.service.js';
import type { JobDefinitions } from '../../core/jobs/job-contract.js';
import type { Provisioner } from './provisioner.js';

/**
 * The jobs of an install's lifecycle. Given up (out of attempts, or interrupted by restarts at
 * the same step too often), provisioning marks the install `failed` with the reason in the same
 * transaction, and a retry (API or CLI) can take it up again; a removal given up is recorded on
 * the deleted install's row.
 */
export function installJobTypes(
  provisioner: Pick<Provisioner, 'provision' | 'remove'>,
  installs: InstallsService,
  /** Told once an install's files are gone (the edge closes its log, drops its pages). */
  removed: (installId: string) => void = () => undefined,
): Pick<JobDefinitions, 'install.provision' | 'install.delete'> {
  return {
    'install.provision': {
      run: (job, _payload, steps) => provisioner.provision(job.target_id, steps),
      givenUp: (r, job, error) =>
        installs.markFailedWithin(r, job.target_id, `provisioning failed: ${error}`),
    },
    'install.delete': {
      run: async (job, _payload, steps) => {
        const result = await provisioner.remove(job.target_id, steps);
        removed(job.target_id);
        return result;
      },
      givenUp: (r, job, error) =>
        installs.markRemovalFailedWithin(
          r,
          job.target_id,
          `removing its files and database failed: ${error}`,
        ),
    },
  };
}
