import type { Actor } from '../actor.js';
import { ValidationError } from '../errors.js';
import type { Repositories } from '../store.js';
import type { SiteRow } from './sites.repository.js';

/**
 * Inserts a site if the account is under its site limit. Used by site creation and by install
 * creation, which makes a site for an install that names none.
 */
export async function insertSiteWithinLimit(
  r: Repositories,
  actor: Actor,
  site: SiteRow,
): Promise<void> {
  const account = await r.accounts.findById(actor.accountId);
  const limit = account?.site_limit ?? null;
  // Counted under the account's lock: two concurrent creations must not both fit.
  if (limit !== null) await r.accounts.lock(actor.accountId);
  if (limit !== null && (await r.sites.count(actor.accountId)) >= limit) {
    throw ValidationError.field(
      'Site',
      'account_id',
      'at_or_over_site_limit',
      `Account is at or over its site limit (${limit})`,
      'value_unavailable',
    );
  }
  await r.sites.insert(site);
  await r.activity.record(actor, {
    action: 'site.create',
    targetType: 'site',
    targetId: site.id,
    details: { name: site.name },
  });
}
