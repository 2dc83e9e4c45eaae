import type { Config } from '../../config.js';
import {
  uncheckedDomain,
  type DomainCheck,
  type DomainCheckRun,
} from '../../core/domains/domain-check.js';
import type { JobRow } from '../../core/jobs/jobs.repository.js';
import type { Store } from '../../core/store.js';
import type { JobDefinition } from '../../core/jobs/job-contract.js';
import { DomainChecker, type DomainCheckerOptions } from './checker.js';

/** An install has at most this many domains looked at to recognise its pages. */
const HOSTS_LIMIT = 1000;

/**
 * Runs one `domain.check_status` job: checks the domain and returns the run, which the job
 * runner stores as the job's result. A domain or install deleted since is reported, not thrown.
 */
export async function runDomainCheck(
  store: Store,
  checker: DomainChecker,
  baseDomain: string,
  job: JobRow,
  /** The domain's name when the check was asked for (the domain may be gone since). */
  name: string,
): Promise<DomainCheckRun> {
  const install =
    job.install_id === null ? undefined : await store.read.installs.findAny(job.install_id);
  const run = (check: DomainCheck): DomainCheckRun => ({
    installName: install?.name ?? '',
    platformAddress: checker.installIp,
    checks: [check],
  });
  const failed = (problem: string): DomainCheckRun =>
    run({ ...uncheckedDomain(name, 'not_run', problem), checkedAt: new Date().toISOString() });
  if (install === undefined || install.deleted_at !== null)
    return failed('the install was deleted');
  const domain = await store.read.domains.findById(install.id, job.target_id);
  if (domain === undefined) return failed('the domain was deleted');
  const cname = `${install.name}.${baseDomain}`;
  const names = await store.read.domains.list(install.id, { limit: HOSTS_LIMIT, offset: 0 });
  return run(
    await checker.check({
      name: domain.name,
      installCname: cname,
      installHosts: [cname, ...names.items.map((d) => d.name)],
    }),
  );
}

/** The job handler `serve` registers, built from the config. */
export function domainCheckHandler(
  store: Store,
  config: Pick<Config, 'publicAddresses' | 'dnsServers' | 'baseDomain'>,
  options: Partial<DomainCheckerOptions> = {},
): JobDefinition<'domain.check_status'> {
  const checker = new DomainChecker({
    platformAddresses: config.publicAddresses,
    dnsServers: config.dnsServers,
    ...options,
  });
  return {
    run: async (job, { name }) => ({
      ...(await runDomainCheck(store, checker, config.baseDomain, job, name)),
    }),
  };
}
