import type { InstallRow } from '../../core/installs/installs.repository.js';
import type { FetchedPage } from '../../core/updates/health.js';
import type { UpdatePages } from '../../core/updates/ports.js';
import type { Store } from '../../core/store.js';
import type { EdgeAddress, Provisioner } from '../provision/provisioner.js';

export interface EdgePagesDeps {
  store: Store;
  provisioner: Pick<Provisioner, 'primaryHost'>;
  /** This server's edge. */
  address: Pick<EdgeAddress, 'get'>;
}

/**
 * An install's pages as a visitor gets them from the edge, but never from its page cache
 * (`Cache-Control: no-cache` makes the edge render them): the check after an update must see
 * what WordPress renders now.
 */
export class EdgePages implements UpdatePages {
  constructor(private readonly deps: EdgePagesDeps) {}

  async get(installId: string, path: string): Promise<FetchedPage> {
    const host = await this.host(installId);
    return this.deps.address.get(host, path, { 'cache-control': 'no-cache' });
  }

  async host(installId: string): Promise<string> {
    const install: InstallRow | undefined = await this.deps.store.read.installs.findAny(installId);
    if (install === undefined) throw new Error(`install ${installId} is gone`);
    return this.deps.provisioner.primaryHost(install);
  }
}
