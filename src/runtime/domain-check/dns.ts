import { Resolver } from 'node:dns/promises';
import type { DnsFacts, DnsLookupFailure } from '../../core/domains/domain-check.js';

/**
 * What DNS says about one name (all but the provider, which the checker names). Lookups that
 * fail are recorded in `failures`, never thrown.
 */
export type DnsAnswers = Omit<DnsFacts, 'provider'>;

export interface DnsOptions {
  /** `ip`, `ip:port` or `[v6]:port`; empty: the system's resolvers. */
  servers: readonly string[];
  timeoutMs: number;
}

type LookupType = DnsLookupFailure['type'];

/** The record type exists nowhere for this name: not an error, just nothing. */
const ABSENT = new Set(['ENODATA']);
/** …and for the records beside the address, an unknown name is reported once, by A/AAAA. */
const ABSENT_EXTRA = new Set(['ENODATA', 'ENOTFOUND']);

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'EUNKNOWN';
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The parents of a name down to two labels: `a.b.example.com` → itself, `b.example.com`, `example.com`. */
function zoneCandidates(name: string): string[] {
  const labels = name.split('.');
  const out: string[] = [];
  for (let i = 0; labels.length - i >= 2; i++) out.push(labels.slice(i).join('.'));
  return out;
}

/** The registrable part of a name server's host (`ns1.dnsprovider.net` → `dnsprovider.net`). */
export function providerOf(nsHost: string): string {
  const labels = nsHost.replace(/\.$/, '').toLowerCase().split('.');
  return labels.length <= 2 ? labels.join('.') : labels.slice(-2).join('.');
}

export class DnsLookup {
  private readonly resolver: Resolver;

  constructor(options: DnsOptions) {
    this.resolver = new Resolver({ timeout: options.timeoutMs, tries: 2 });
    if (options.servers.length > 0) this.resolver.setServers([...options.servers]);
  }

  async facts(name: string): Promise<DnsAnswers> {
    const errors: DnsLookupFailure[] = [];
    const lookup = async <T>(
      type: LookupType,
      absent: Set<string>,
      run: () => Promise<T[]>,
    ): Promise<{ ok: boolean; values: T[] }> => {
      try {
        return { ok: true, values: await run() };
      } catch (err) {
        const code = codeOf(err);
        if (absent.has(code)) return { ok: true, values: [] };
        errors.push({ type, code, message: messageOf(err) });
        return { ok: false, values: [] };
      }
    };
    const r = this.resolver;
    const [a, aaaa, cname, mx, txt, caa] = await Promise.all([
      lookup('A', ABSENT, () => r.resolve4(name)),
      lookup('AAAA', ABSENT, () => r.resolve6(name)),
      lookup('CNAME', ABSENT_EXTRA, () => r.resolveCname(name)),
      lookup('MX', ABSENT_EXTRA, () => r.resolveMx(name)),
      lookup('TXT', ABSENT_EXTRA, () => r.resolveTxt(name)),
      lookup('CAA', ABSENT_EXTRA, () => r.resolveCaa(name)),
    ]);
    const [ns, soa] = await Promise.all([
      this.inZone(name, 'NS', errors, (zone) => r.resolveNs(zone)),
      this.inZone(name, 'SOA', errors, async (zone) => [await r.resolveSoa(zone)]),
    ]);
    return {
      cnames: cname.values.map((c) => c.replace(/\.$/, '').toLowerCase()),
      a: a.values,
      aaaa: aaaa.values,
      nameServers: ns.map((h) => h.replace(/\.$/, '').toLowerCase()),
      mailExchangers: mx.values
        .map((m) => ({ host: m.exchange, priority: m.priority }))
        .sort((x, y) => x.priority - y.priority),
      txt: txt.values.map((chunks) => chunks.join('')),
      soa: soa.map((s) => ({
        primaryNameServer: s.nsname,
        hostmaster: s.hostmaster,
        serial: s.serial,
        refresh: s.refresh,
        retry: s.retry,
        expire: s.expire,
        minimumTtl: s.minttl,
      })),
      caa: caa.values.map((c) => {
        const entry: [string, unknown] = Object.entries(c).find(([k]) => k !== 'critical') ?? [
          '',
          '',
        ];
        return { flags: c.critical, tag: entry[0], value: String(entry[1]) };
      }),
      failures: errors,
      failed: !a.ok && !aaaa.ok,
    };
  }

  /** A zone-level record (NS, SOA) of the name, or of its nearest parent that has one. */
  private async inZone<T>(
    name: string,
    type: LookupType,
    errors: DnsLookupFailure[],
    run: (zone: string) => Promise<T[]>,
  ): Promise<T[]> {
    for (const zone of zoneCandidates(name)) {
      try {
        const values = await run(zone);
        if (values.length > 0) return values;
      } catch (err) {
        if (ABSENT_EXTRA.has(codeOf(err))) continue;
        errors.push({ type, code: codeOf(err), message: messageOf(err) });
        return [];
      }
    }
    return [];
  }
}
