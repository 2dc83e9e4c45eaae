import type { InstallRow } from '../core/installs/installs.repository.js';
import type { Store } from '../core/store.js';
import type { SiteMount } from '../runtime/php/types.js';
import type { PathSettings } from './path-rules.js';
import { remembered } from './remembered.js';

export interface HostRoute {
  install: InstallRow;
  /** Set when this host is a domain that redirects: the name of the domain it redirects to. */
  redirectTo: string | null;
  /** How PHP runs the install; null until WordPress's installer has run. */
  site: SiteMount | null;
  /** The install's file protection and login path, read with the route. */
  settings: PathSettings;
}

const TTL_MS = 2000;
const MAX_ENTRIES = 10_000;

/** Host headers seen lately and their hostnames: a site's visitors send the same few. */
const hostnames = remembered(parseHostname, 10_000);

/** The hostname of a Host header: lower-cased, without port or trailing dot. */
export function hostnameOf(header: string | undefined): string {
  return header === undefined ? '' : hostnames(header);
}

function parseHostname(header: string): string {
  const raw = header.trim().toLowerCase();
  const withoutPort = raw.startsWith('[')
    ? raw.slice(0, raw.indexOf(']') + 1)
    : raw.replace(/:\d+$/, '');
  return withoutPort.replace(/\.$/, '');
}

/**
 * Which install (if any) a Host names: an install's cname or one of its domains. Answers, found
 * or not, are kept for two seconds, so a new domain is served within that time and API requests
 * cost no query each; a remembered answer is given synchronously (`cached`), so a cached page
 * costs no promise.
 */
export class HostResolver {
  private readonly cache = new Map<string, { at: number; route: HostRoute | null }>();

  constructor(
    private readonly store: Store,
    /** The mount of a live install (null while it has no files). */
    private readonly siteOf: (install: InstallRow) => SiteMount | null,
  ) {}

  /** The remembered answer for a host: a route, null (not an install's), or undefined (ask). */
  cached(host: string): HostRoute | null | undefined {
    const hit = this.cache.get(host);
    if (hit === undefined || Date.now() - hit.at >= TTL_MS) return undefined;
    return hit.route;
  }

  async resolve(host: string): Promise<HostRoute | null> {
    const known = this.cached(host);
    if (known !== undefined) return known;
    const now = Date.now();
    const route = await this.lookup(host);
    if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
    this.cache.set(host, { at: now, route });
    return route;
  }

  /** Drops what is known of a host, after a change that must be seen at once. */
  forget(host: string): void {
    this.cache.delete(host);
  }

  /** Drops every host of an install, after a change to it that must be seen at once. */
  forgetInstall(installId: string): void {
    for (const [host, entry] of this.cache) {
      if (entry.route?.install.id === installId) this.cache.delete(host);
    }
  }

  private async lookup(host: string): Promise<HostRoute | null> {
    if (host === '') return null;
    const domain = await this.store.read.domains.findByName(host);
    if (domain === undefined) return null;
    const install = await this.store.read.installs.findAny(domain.install_id);
    if (install === undefined || install.deleted_at !== null) return null;
    let redirectTo: string | null = null;
    if (domain.redirect_to_id !== null) {
      const [target] = await this.store.read.domains.findByIds([domain.redirect_to_id]);
      redirectTo = target?.name ?? null;
    }
    // Until WordPress's installer has run, its setup page would let a visitor claim the site.
    const site = install.wp_version === null ? null : this.siteOf(install);
    const { fileProtection, loginPath } = await this.store.read.installSettings.get(install.id);
    return { install, redirectTo, site, settings: { fileProtection, loginPath } };
  }
}
