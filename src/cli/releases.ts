import type { Command } from 'commander';
import { createApp } from '../composition.js';
import { RELEASE_SOURCES, type ReleaseSourceName } from '../config.js';
import { addRelease, releaseStore, type Release } from '../runtime/releases/index.js';
import { configFrom, withStoreOptions, type StoreFlags } from './options.js';
import { CliError } from './output.js';

interface ListFlags extends StoreFlags {
  json?: boolean;
}

interface AddFlags extends StoreFlags {
  source?: string;
  from?: string;
  checksums?: string;
  /** commander's `--no-verify`: true unless the flag is given. */
  verify: boolean;
  json?: boolean;
}

function summary(release: Release): Record<string, unknown> {
  const m = release.manifest;
  return {
    version: release.version,
    source: m.source,
    verified: m.verification.verified,
    path: release.root,
    files: m.files,
    bytes: m.bytes,
    origin: m.origin,
    created_at: m.created_at,
  };
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '),
    )
    .join('\n');
}

export function releaseCommands(program: Command): void {
  const releases = program
    .command('releases')
    .description('WordPress releases: complete, verified WordPress versions shared by installs');

  withStoreOptions(releases.command('list'))
    .description('list the stored releases, newest first')
    .option('--json', 'print JSON')
    .action(async (flags: ListFlags) => {
      const all = await releaseStore(configFrom({ ...flags })).list();
      if (flags.json === true) {
        console.log(JSON.stringify(all.map(summary)));
        return;
      }
      if (all.length === 0) {
        console.log('no releases; add one with: wpfleet releases add');
        return;
      }
      const rows = all.map((r) => [
        r.version,
        r.manifest.source,
        r.manifest.verification.verified ? 'yes' : 'NO',
        megabytes(r.manifest.bytes),
        r.root,
      ]);
      console.log(table([['VERSION', 'SOURCE', 'VERIFIED', 'SIZE', 'PATH'], ...rows]));
    });

  withStoreOptions(releases.command('add'))
    .description('add a WordPress release from the first source that has it')
    .argument('[version]', 'WordPress version (default: the newest the source offers)')
    .option('--source <name>', `only this source: ${RELEASE_SOURCES.join(', ')}`)
    .option('--from <path>', 'a WordPress zip or folder you have')
    .option('--checksums <file>', "checksums for --from, in wordpress.org's JSON format")
    .option('--no-verify', 'add --from without checksums (the release is marked unverified)')
    .option('--json', 'print JSON')
    .action(async (version: string | undefined, flags: AddFlags) => {
      const source = flags.source;
      if (source !== undefined && !(RELEASE_SOURCES as readonly string[]).includes(source)) {
        throw new CliError(`--source: expected one of ${RELEASE_SOURCES.join(', ')}`);
      }
      if (source !== undefined && flags.from !== undefined) {
        throw new CliError('give --source or --from, not both');
      }
      if (flags.from === undefined && (flags.checksums !== undefined || !flags.verify)) {
        throw new CliError('--checksums and --no-verify go with --from');
      }
      if (flags.checksums !== undefined && !flags.verify) {
        throw new CliError('give --checksums or --no-verify, not both');
      }
      const config = configFrom({ ...flags });
      const { release, added } = await addRelease(
        config,
        {
          version,
          source: source as ReleaseSourceName | undefined,
          from: flags.from,
          checksumsFile: flags.checksums,
          noVerify: !flags.verify,
        },
        {
          progress: (message) => {
            console.error(message);
          },
          warn: (message) => {
            console.error(`warning: ${message}`);
          },
        },
      );
      if (flags.json === true) {
        console.log(JSON.stringify({ ...summary(release), added }));
        return;
      }
      const m = release.manifest;
      const check = m.verification.verified
        ? `verified against ${m.verification.against}`
        : 'NOT verified';
      console.log(
        `${added ? 'added' : 'already have'} WordPress ${release.version} from ${m.source}: ` +
          `${m.files} files, ${megabytes(m.bytes)}, ${check}\n${release.root}`,
      );
      for (const note of m.notes) console.log(`note: ${note}`);
    });

  withStoreOptions(releases.command('remove'))
    .description('delete a release no install uses')
    .argument('<version>', 'WordPress version')
    .action(async (version: string, flags: StoreFlags) => {
      const config = configFrom({ ...flags });
      const app = await createApp(config);
      try {
        await releaseStore(config).remove(version, (v) => app.store.read.installs.releaseInUse(v));
      } finally {
        await app.close();
      }
      console.log(`removed WordPress ${version}`);
    });
}
