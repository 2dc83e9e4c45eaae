import { AccountsService } from './accounts/accounts.service.js';
import { BackupsService } from './backups/backups.service.js';
import { CacheService } from './cache/cache.service.js';
import { ClonesService } from './clones/clones.service.js';
import { CredentialsService } from './credentials/credentials.service.js';
import { DomainsService } from './domains/domains.service.js';
import { InstallsService, type InstallsOptions } from './installs/installs.service.js';
import { SitesService } from './sites/sites.service.js';
import { SshKeysService } from './ssh-keys/ssh-keys.service.js';
import type { Store } from './store.js';
import { AccountUsersService } from './users/account-users.service.js';
import { CurrentUserService } from './users/current-user.service.js';

/** Every core service, wired once; the API dialects and the CLI call only these. */
export interface Services {
  accounts: AccountsService;
  accountUsers: AccountUsersService;
  backups: BackupsService;
  cache: CacheService;
  /** Clones into new installs and copies between a site's environments (queued as jobs). */
  clones: ClonesService;
  credentials: CredentialsService;
  currentUser: CurrentUserService;
  domains: DomainsService;
  installs: InstallsService;
  sites: SitesService;
  sshKeys: SshKeysService;
}

export function createServices(store: Store, options: InstallsOptions): Services {
  const installs = new InstallsService(store, options);
  return {
    accounts: new AccountsService(store),
    accountUsers: new AccountUsersService(store),
    backups: new BackupsService(store, installs),
    cache: new CacheService(store, installs),
    clones: new ClonesService(store, installs),
    credentials: new CredentialsService(store),
    currentUser: new CurrentUserService(store),
    domains: new DomainsService(store, installs, options.baseDomain),
    installs,
    sites: new SitesService(store, installs),
    sshKeys: new SshKeysService(store),
  };
}
