import type { Command } from 'commander';
import { DomainError } from '../core/errors.js';
import { isPackageKind, PACKAGE_KINDS } from '../core/packages/package-source.js';
import { packageMirror, type MirrorAddResult } from '../runtime/packages/index.js';
import { configFrom, withStoreOptions, type StoreFlags } from './options.js';
import { CliError } from './output.js';

interface AddFlags extends StoreFlags {
  force?: boolean;
  kind?: string;
  json?: boolean;
}

interface ListFlags extends StoreFlags {
  json?: boolean;
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '),
    )
    .join('\n');
}

const SAID: Record<MirrorAddResult['status'], string> = {
  added: 'added',
  replaced: 'replaced',
  unchanged: 'already have',
};

export function mirrorCommands(program: Command): void {
  const mirror = program
    .command('mirror')
    .description(
      'the offline mirror of plugin and theme zips (WPFLEET_MIRROR_DIR, default <data>/mirror)',
    );

  withStoreOptions(mirror.command('add'))
    .description('add plugin or theme zips; kind, slug, name and version come from their headers')
    .argument('<zip...>', 'plugin or theme zips (one top folder, named for the slug)')
    .option('--force', 'replace a version the mirror has with other contents')
    .option('--kind <kind>', `only take zips of this kind: ${PACKAGE_KINDS.join(', ')}`)
    .option('--json', 'print JSON')
    .action(async (zips: string[], flags: AddFlags) => {
      const kind = flags.kind;
      if (kind !== undefined && !isPackageKind(kind)) {
        throw new CliError(`--kind: expected one of ${PACKAGE_KINDS.join(', ')}`);
      }
      const store = packageMirror(configFrom({ ...flags }));
      const results: Record<string, unknown>[] = [];
      let failed = 0;
      // Each zip on its own: one broken zip does not keep the others out.
      for (const zip of zips) {
        try {
          const added = await store.add(zip, {
            force: flags.force === true,
            ...(kind === undefined ? {} : { kind }),
          });
          results.push({ zip, ...added });
          if (flags.json !== true) {
            console.log(
              `${SAID[added.status]} ${added.kind} ${added.slug} ${added.version} (${added.name}): ${added.file}`,
            );
          }
        } catch (err) {
          if (!(err instanceof DomainError)) throw err;
          failed++;
          results.push({ zip, error: err.message });
          if (flags.json !== true) console.error(`wpfleet: ${err.message}`);
        }
      }
      if (flags.json === true) console.log(JSON.stringify(results));
      if (failed > 0) process.exitCode = 1;
    });

  withStoreOptions(mirror.command('remove'))
    .description('remove a version of a slug from the mirror, or all of its versions')
    .argument('<kind>', PACKAGE_KINDS.join(' or '))
    .argument('<slug>', 'the slug')
    .argument('[version]', 'one version (default: every version)')
    .action(async (kind: string, slug: string, version: string | undefined, flags: StoreFlags) => {
      if (!isPackageKind(kind)) {
        throw new CliError(`kind: expected one of ${PACKAGE_KINDS.join(', ')}`);
      }
      const store = packageMirror(configFrom({ ...flags }));
      const removed = await store.remove(kind, slug, version);
      if (removed.length === 0) {
        const what = version === undefined ? `${kind} ${slug}` : `${kind} ${slug} ${version}`;
        throw new CliError(`the mirror has no ${what}`);
      }
      console.log(`removed ${kind} ${slug} ${removed.join(', ')}`);
    });

  withStoreOptions(mirror.command('list'))
    .description('list the kinds, slugs and versions in the mirror')
    .option('--json', 'print JSON')
    .action(async (flags: ListFlags) => {
      const store = packageMirror(configFrom({ ...flags }));
      const all = await store.list();
      if (flags.json === true) {
        console.log(JSON.stringify(all.map((p) => ({ ...p, latest: p.versions[0]?.version }))));
        return;
      }
      if (all.length === 0) {
        console.log(`the mirror ${store.dir} is empty; add zips with: wpfleet mirror add ZIP…`);
        return;
      }
      const rows = all.map((p) => [
        p.kind,
        p.slug,
        p.name,
        p.versions.map((v) => v.version).join(', '),
      ]);
      console.log(table([['KIND', 'SLUG', 'NAME', 'VERSIONS'], ...rows]));
    });
}
