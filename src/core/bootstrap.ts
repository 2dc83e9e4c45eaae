import { SCOPES } from './actor.js';
import type { IssuedCredential } from './credentials/credentials.service.js';
import type { Services } from './services.js';

export interface FirstStart {
  accountId: string;
  accountName: string;
  credential: IssuedCredential;
}

/**
 * On an empty store, creates the operator's account, its owner and a credential with every
 * scope. Returns them once (the secrets are not kept); returns null when accounts exist.
 */
export async function bootstrapOwner(services: Services): Promise<FirstStart | null> {
  if ((await services.accounts.count()) > 0) return null;
  const name = 'Owner';
  const { account } = await services.accounts.create({ name, ownerEmail: 'owner@wpfleet.invalid' });
  const credential = await services.credentials.create(account.id, [...SCOPES]);
  return { accountId: account.id, accountName: name, credential };
}
