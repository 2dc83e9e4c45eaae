import { NotFoundError, UnavailableError } from '../../core/errors.js';
import type { SiteAgent, SiteAgents } from '../../core/site-agent/site-agent.js';
import type { Store } from '../../core/store.js';
import { AgentSiteAgent } from '../agent/site-agent.js';
import type { Provisioner } from '../provision/provisioner.js';
import { withPackageInInstall } from './packages-handoff.js';
import { siteLayout } from './site-files.js';

/**
 * The agents of the installs this server hosts: signed calls into each install's own PHP, and
 * package zips copied into its wp-content for the time of a call.
 */
export class HostedSiteAgents implements SiteAgents {
  constructor(private readonly deps: { store: Store; provisioner: Provisioner; dataDir: string }) {}

  async forInstall(installId: string): Promise<SiteAgent> {
    const install = await this.deps.store.read.installs.findAny(installId);
    if (install === undefined || install.deleted_at !== null) throw new NotFoundError('Install');
    if (install.wp_version === null || install.agent_secret === null) {
      throw new UnavailableError(
        `install ${install.name} is not running yet (status ${install.status})`,
      );
    }
    const { contentDir } = siteLayout(this.deps.dataDir, install.id);
    return new AgentSiteAgent(this.deps.provisioner.agentFor(install), (pkg, work) =>
      withPackageInInstall(contentDir, pkg.file, work),
    );
  }
}
