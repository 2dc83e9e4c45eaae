import { Resolver } from 'node:dns/promises';
import type { CaaRecord, DnsLookupError, SoaRecord } from '../../core/domains/domain-report.js';

/** What DNS says about one name. Lookups that fail are recorded in `errors`, never thrown. */
export interface DnsFacts {
  a: string[];
  aaaa: string[];
  cname: string[];
  /** The zone's name servers: the name's own, or its nearest parent's. */
  ns: string[];
  mx: { Host: string; Pref: number }[];
  txt: string[];
  soa: SoaRecord[];
  caa: CaaRecord[];
  errors: DnsLookupError[];
  /** Neither the A nor the AAAA lookup could be answered (NXDOMAIN, timeout, SERVFAIL…). */
  failed: boolean;
}

export interface DnsOptions {
  /** `ip`, `ip:port` or `[v6]:port`; empty: the system's resolvers. */
  servers: readonly string[];
  timeoutMs: number;
}

type LookupType = DnsLookupError['type'];

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

  async facts(name: string): Promise<DnsFacts> {
    const errors: DnsLookupError[] = [];
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
      a: a.values,
      aaaa: aaaa.values,
      cname: cname.values.map((c) => c.replace(/\.$/, '').toLowerCase()),
      ns: ns.map((h) => h.replace(/\.$/, '').toLowerCase()),
      mx: mx.values
        .map((m) => ({ Host: m.exchange, Pref: m.priority }))
        .sort((x, y) => x.Pref - y.Pref),
      txt: txt.values.map((chunks) => chunks.join('')),
      soa: soa.map((s) => ({
        ns: s.nsname,
        mbox: s.hostmaster,
        serial: s.serial,
        refresh: s.refresh,
        retry: s.retry,
        expire: s.expire,
        minttl: s.minttl,
      })),
      caa: caa.values.map((c) => {
        const entry: [string, unknown] = Object.entries(c).find(([k]) => k !== 'critical') ?? [
          '',
          '',
        ];
        return { flag: c.critical, tag: entry[0], value: String(entry[1]) };
      }),
      errors,
      failed: !a.ok && !aaaa.ok,
    };
  }

  /** A zone-level record (NS, SOA) of the name, or of its nearest parent that has one. */
  private async inZone<T>(
    name: string,
    type: LookupType,
    errors: DnsLookupError[],
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
