import type { Config } from '../../config.js';
import { emptyDomainStatus, type DomainStatusReport } from '../../core/domains/domain-report.js';
import type { JobRow } from '../../core/jobs/jobs.repository.js';
import type { Store } from '../../core/store.js';
import type { JobDefinition } from '../../core/jobs/job-contract.js';
import { DomainChecker, type DomainCheckerOptions } from './checker.js';

/** An install has at most this many domains looked at to recognise its pages. */
const HOSTS_LIMIT = 1000;

/**
 * Runs one `domain.check_status` job: checks the domain and returns the report, which the job
 * runner stores as the job's result. A domain or install deleted since is reported, not thrown.
 */
export async function runDomainCheck(
  store: Store,
  checker: DomainChecker,
  baseDomain: string,
  job: JobRow,
  /** The domain's name when the check was asked for (the domain may be gone since). */
  name: string,
): Promise<DomainStatusReport> {
  const install =
    job.install_id === null ? undefined : await store.read.installs.findAny(job.install_id);
  const installName = install?.name ?? '';
  const report: DomainStatusReport = {
    complete: true,
    id: job.id,
    install_name: installName,
    install_ip: checker.installIp,
    admin: false,
    domains: [],
  };
  const failed = (error: string): DomainStatusReport => {
    const status = emptyDomainStatus(name, installName, 'error');
    status.error = error;
    status.checked_at = new Date().toISOString();
    return { ...report, domains: [status] };
  };
  if (install === undefined || install.deleted_at !== null)
    return failed('the install was deleted');
  const domain = await store.read.domains.findById(install.id, job.target_id);
  if (domain === undefined) return failed('the domain was deleted');
  const cname = `${install.name}.${baseDomain}`;
  const names = await store.read.domains.list(install.id, { limit: HOSTS_LIMIT, offset: 0 });
  const status = await checker.check({
    name: domain.name,
    installName: install.name,
    installCname: cname,
    installHosts: [cname, ...names.items.map((d) => d.name)],
  });
  return { ...report, domains: [status] };
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
