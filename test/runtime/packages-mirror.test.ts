import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import {
  BrokenPackageError,
  PackageSourceUnavailableError,
  UnknownPackageError,
  UnknownPackageVersionError,
} from '../../src/core/packages/package-errors.js';
import {
  MirrorConflictError,
  PackageMirror,
  packageSourcesFor,
} from '../../src/runtime/packages/index.js';
import { ensureBuilt, runCli } from '../helpers/cli.js';
import {
  helloPlugin,
  plainTheme,
  writeDebianPackages,
  writeTestPackages,
  zipFiles,
  type FixtureZip,
} from '../helpers/package-fixtures.js';

const quiet = { warn: () => undefined, info: () => undefined };
let root: string;
let zips: FixtureZip[];

beforeAll(async () => {
  await ensureBuilt();
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'wpfleet-mirror-'));
  const fixtures = path.join(root, 'fixtures');
  zips = [...(await writeTestPackages(fixtures)), ...(await writeDebianPackages(fixtures))];
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function scratch(name: string): Promise<string> {
  return fs.mkdtemp(path.join(root, `${name}-`));
}

/** The rejection of `promise`, which must be an instance of `type`. */
async function rejection<T extends Error>(
  promise: Promise<unknown>,
  type: new (...args: never[]) => T,
): Promise<T> {
  const err = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(type);
  return err as T;
}

interface ListedPackage {
  kind: string;
  slug: string;
  name: string;
  latest: string;
  versions: { version: string; file: string; sha256: string; bytes: number }[];
}

describe('wpfleet mirror add and list (the command)', () => {
  let data: string;

  beforeAll(async () => {
    data = await scratch('cli');
  });

  it('fills a mirror with every fixture and Debian package, and lists them', async () => {
    const added = await runCli(['mirror', 'add', ...zips.map((z) => z.file)], {
      WPFLEET_DATA: data,
    });
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    for (const z of zips) {
      expect(added.stdout).toContain(`added ${z.kind} ${z.slug} ${z.version} `);
    }

    const listed = await runCli(['mirror', 'list', '--json'], { WPFLEET_DATA: data });
    expect(listed.code).toBe(0);
    const packages = JSON.parse(listed.stdout) as ListedPackage[];
    const summary = packages.map((p) => [p.kind, p.slug, p.versions.map((v) => v.version)]);
    const akismet = zips.find((z) => z.slug === 'akismet')?.version;
    expect(summary).toEqual([
      ['plugin', 'akismet', [akismet]],
      ['plugin', 'wpfleet-hello', ['2.0.0', '1.1.0', '1.0.0']],
      ['theme', 'twentytwentyone', [expect.stringMatching(/^\d/)]],
      ['theme', 'twentytwentythree', [expect.stringMatching(/^\d/)]],
      ['theme', 'twentytwentytwo', [expect.stringMatching(/^\d/)]],
      ['theme', 'wpfleet-plain', ['1.1.0', '1.0.0']],
    ]);
    const hello = packages.find((p) => p.slug === 'wpfleet-hello');
    expect(hello).toMatchObject({ name: 'wpfleet Hello', latest: '2.0.0' });
    expect(hello?.versions[2]?.file).toBe('plugins/wpfleet-hello/wpfleet-hello.1.0.0.zip');
    expect(packages.find((p) => p.slug === 'akismet')?.name).toBe('Akismet Anti-Spam');

    // The layout the docs describe, with the index beside it and nothing else.
    const mirror = path.join(data, 'mirror');
    expect((await fs.readdir(mirror)).sort()).toEqual(['index.json', 'plugins', 'themes']);
    expect((await fs.readdir(path.join(mirror, 'plugins/wpfleet-hello'))).sort()).toEqual([
      'wpfleet-hello.1.0.0.zip',
      'wpfleet-hello.1.1.0.zip',
      'wpfleet-hello.2.0.0.zip',
    ]);
    const text = await runCli(['mirror', 'list'], { WPFLEET_DATA: data });
    expect(text.stdout.split('\n')[0]).toMatch(/^KIND\s+SLUG\s+NAME\s+VERSIONS$/);
    expect(text.stdout).toMatch(
      /plugin\s+wpfleet-hello\s+wpfleet Hello\s+2\.0\.0, 1\.1\.0, 1\.0\.0/,
    );
  });

  it('re-adding the same bytes changes nothing; other bytes are refused without --force', async () => {
    const index = path.join(data, 'mirror', 'index.json');
    const before = await fs.readFile(index, 'utf8');
    const same = await runCli(['mirror', 'add', zips[0]?.file ?? ''], { WPFLEET_DATA: data });
    expect(same.code).toBe(0);
    expect(same.stdout).toMatch(/^already have plugin wpfleet-hello 1\.0\.0 /);
    expect(await fs.readFile(index, 'utf8')).toBe(before);

    const files = helloPlugin('1.0.0');
    files['wpfleet-hello/extra.txt'] = 'different bytes, same version';
    const other = await zipFiles(files, path.join(root, 'other', 'wpfleet-hello.zip'));
    const refused = await runCli(['mirror', 'add', other], { WPFLEET_DATA: data });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^wpfleet: .*wpfleet-hello\.zip: the mirror already has plugin wpfleet-hello 1\.0\.0 with other contents \(sha256 [0-9a-f]{12}…, this zip [0-9a-f]{12}…\); use --force to replace it\n$/,
    );
    expect(await fs.readFile(index, 'utf8')).toBe(before);

    const forced = await runCli(['mirror', 'add', '--force', '--json', other], {
      WPFLEET_DATA: data,
    });
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toEqual([
      expect.objectContaining({ slug: 'wpfleet-hello', version: '1.0.0', status: 'replaced' }),
    ]);
    const stored = await fs.readFile(
      path.join(data, 'mirror/plugins/wpfleet-hello/wpfleet-hello.1.0.0.zip'),
    );
    expect(stored.equals(await fs.readFile(other))).toBe(true);
  });

  it('adds the good zips of a list and reports the broken ones, exiting 1', async () => {
    const dir = await scratch('mixed');
    const notZip = path.join(dir, 'not-a-zip.zip');
    await fs.writeFile(notZip, 'this is not a zip');
    const r = await runCli(
      ['mirror', 'add', notZip, zips.find((z) => z.slug === 'wpfleet-plain')?.file ?? ''],
      { WPFLEET_DATA: dir },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `wpfleet: ${notZip}: Incompatible Archive. (not a zip file: it has no end-of-central-directory record)\n`,
    );
    expect(r.stdout).toMatch(/^added theme wpfleet-plain 1\.0\.0 /);
  });

  it('removes one version, then the rest of a slug', async () => {
    const dir = await scratch('remove');
    const hello = zips.filter((z) => z.slug === 'wpfleet-hello').map((z) => z.file);
    expect((await runCli(['mirror', 'add', ...hello], { WPFLEET_DATA: dir })).code).toBe(0);
    const one = await runCli(['mirror', 'remove', 'plugin', 'wpfleet-hello', '2.0.0'], {
      WPFLEET_DATA: dir,
    });
    expect(one).toMatchObject({ code: 0, stdout: 'removed plugin wpfleet-hello 2.0.0\n' });
    const folder = path.join(dir, 'mirror/plugins/wpfleet-hello');
    expect((await fs.readdir(folder)).sort()).toEqual([
      'wpfleet-hello.1.0.0.zip',
      'wpfleet-hello.1.1.0.zip',
    ]);
    const missing = await runCli(['mirror', 'remove', 'plugin', 'wpfleet-hello', '2.0.0'], {
      WPFLEET_DATA: dir,
    });
    expect(missing).toMatchObject({
      code: 2,
      stderr: 'wpfleet: the mirror has no plugin wpfleet-hello 2.0.0\n',
    });
    const rest = await runCli(['mirror', 'remove', 'plugin', 'wpfleet-hello'], {
      WPFLEET_DATA: dir,
    });
    expect(rest.stdout).toBe('removed plugin wpfleet-hello 1.1.0, 1.0.0\n');
    await expect(fs.stat(folder)).rejects.toThrow();
    const listed = await runCli(['mirror', 'list', '--json'], { WPFLEET_DATA: dir });
    expect(JSON.parse(listed.stdout)).toEqual([]);
  });

  it('keeps the mirror where WPFLEET_MIRROR_DIR says, and refuses a bad --kind', async () => {
    const dir = await scratch('setting');
    const mirror = path.join(dir, 'elsewhere');
    const r = await runCli(['mirror', 'add', zips[0]?.file ?? ''], {
      WPFLEET_DATA: path.join(dir, 'data'),
      WPFLEET_MIRROR_DIR: mirror,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(path.join(mirror, 'plugins/wpfleet-hello/wpfleet-hello.1.0.0.zip'));
    const empty = await runCli(['mirror', 'list'], { WPFLEET_DATA: path.join(dir, 'data') });
    expect(empty.stdout).toBe(
      `the mirror ${path.join(dir, 'data', 'mirror')} is empty; add zips with: wpfleet mirror add ZIP…\n`,
    );
    const bad = await runCli(['mirror', 'add', '--kind', 'widget', zips[0]?.file ?? ''], {
      WPFLEET_DATA: dir,
    });
    expect(bad).toMatchObject({
      code: 2,
      stderr: 'wpfleet: --kind: expected one of plugin, theme\n',
    });
  });
});

describe('broken zips are refused with WordPress-like reasons, and change nothing', () => {
  const cases: [string, Record<string, string> | string, RegExp][] = [
    [
      'not a zip',
      'PK but not really a zip',
      /^.*: Incompatible Archive\. \(not a zip file: it has no end-of-central-directory record\)$/,
    ],
    [
      'a zip without a plugin header or style.css',
      { 'nothing/nothing.php': '<?php echo 1;', 'nothing/readme.txt': 'hi' },
      /: The package could not be installed\. No valid plugins were found\. Nor is it a theme: the theme is missing the style\.css stylesheet\. \(nothing\/\*\.php has no "Plugin Name:" header\.\)$/,
    ],
    [
      'two top folders',
      { ...helloPlugin('1.0.0'), ...plainTheme('1.0.0') },
      /: The package could not be installed\. A plugin or theme zip holds exactly one folder, named for its slug; this one holds 2 entries at its top \(wpfleet-hello, wpfleet-plain\)\.$/,
    ],
    [
      'files at the top, no folder',
      { 'hello.php': '<?php\n/* Plugin Name: Loose */' },
      /: The package could not be installed\. A plugin or theme zip holds exactly one folder.*\(hello\.php\)\.$/,
    ],
    [
      'a style.css without Theme Name',
      { 'bare/style.css': '/* Version: 1.0 */', 'bare/index.php': '<?php' },
      /: The package could not be installed\. The style\.css stylesheet does not contain a valid theme header\.$/,
    ],
    [
      'a theme without a template',
      { 'lonely/style.css': '/*\nTheme Name: Lonely\nVersion: 1.0\n*/' },
      /: The package could not be installed\. Template is missing\. Standalone themes need to have a templates\/index\.html or index\.php template file\./,
    ],
    [
      'a path that climbs out',
      { 'evil/evil.php': '<?php\n/* Plugin Name: Evil\nVersion: 1 */', 'evil/../../x.php': 'x' },
      /: Incompatible Archive\. \(it holds an unsafe path "evil\/\.\.\/\.\.\/x\.php"\)$/,
    ],
    [
      'a plugin without a version',
      { 'nover/nover.php': '<?php\n/* Plugin Name: No Version */' },
      /: the plugin nover has no Version: header; the mirror keeps packages by version$/,
    ],
  ];

  it.each(cases)('%s', async (_name, content, message) => {
    const dir = await scratch('broken');
    const file = path.join(dir, 'package.zip');
    if (typeof content === 'string') await fs.writeFile(file, content);
    else await zipFiles(content, file);
    const mirror = new PackageMirror(path.join(dir, 'mirror'));
    const err = await rejection(mirror.add(file), BrokenPackageError);
    expect(err.message).toMatch(message);
    expect(err.message.startsWith(`${file}: `)).toBe(true);
    await expect(fs.stat(path.join(dir, 'mirror'))).rejects.toThrow();
  });

  it('a zip damaged after it was made (its CRC-32 no longer matches)', async () => {
    const dir = await scratch('damaged');
    const file = path.join(dir, 'hello.zip');
    // The first entry is the main file: change one byte in the middle of its deflated data.
    const good = await fs.readFile(zips[0]?.file ?? '');
    expect(good.readUInt32LE(0)).toBe(0x04034b50);
    const name = good.subarray(30, 30 + good.readUInt16LE(26)).toString();
    expect(name).toBe('wpfleet-hello/wpfleet-hello.php');
    const data = 30 + good.readUInt16LE(26) + good.readUInt16LE(28);
    const bad = Buffer.from(good);
    const at = data + Math.floor(good.readUInt32LE(18) / 2);
    bad[at] = (bad[at] ?? 0) ^ 0xff;
    await fs.writeFile(file, bad);
    const err = await rejection(
      new PackageMirror(path.join(dir, 'm')).add(file),
      BrokenPackageError,
    );
    expect(err.message).toMatch(
      /: Incompatible Archive\. \(wpfleet-hello\/wpfleet-hello\.php (is damaged \(its CRC-32 or size does not match\)|does not inflate \(.+\))\)$/,
    );
  });

  it('a truncated zip', async () => {
    const dir = await scratch('truncated');
    const file = path.join(dir, 'cut.zip');
    const good = await fs.readFile(zips.find((z) => z.slug === 'akismet')?.file ?? '');
    await fs.writeFile(file, good.subarray(0, Math.floor(good.length / 2)));
    const err = await rejection(
      new PackageMirror(path.join(dir, 'm')).add(file),
      BrokenPackageError,
    );
    expect(err.message).toMatch(/: Incompatible Archive\. \(not a zip file/);
  });

  it('a file that is not there, or a folder', async () => {
    const dir = await scratch('missing');
    const mirror = new PackageMirror(path.join(dir, 'm'));
    const missing = await rejection(mirror.add(path.join(dir, 'nope.zip')), BrokenPackageError);
    expect(missing.message).toBe(`${path.join(dir, 'nope.zip')}: no such file`);
    const folder = await rejection(mirror.add(dir), BrokenPackageError);
    expect(folder.message).toMatch(/: cannot be read \(E[A-Z]+\)$/);
    await expect(fs.stat(path.join(dir, 'm'))).rejects.toThrow();
  });

  it('--kind theme refuses a plugin', async () => {
    const dir = await scratch('kind');
    const err = await rejection(
      new PackageMirror(path.join(dir, 'm')).add(zips[0]?.file ?? '', { kind: 'theme' }),
      BrokenPackageError,
    );
    expect(err.message).toMatch(
      /: The package could not be installed\. The theme is missing the style\.css stylesheet\.$/,
    );
  });
});

describe('the mirror as a package source (wordpress.org off)', () => {
  let data: string;
  const sources = (): ReturnType<typeof packageSourcesFor> =>
    packageSourcesFor(
      loadConfig({ data }, { WPFLEET_WPORG: 'off', WPFLEET_CACHE_DIR: path.join(data, 'cache') }),
      quiet,
    );

  beforeAll(async () => {
    data = await scratch('source');
    const mirror = new PackageMirror(path.join(data, 'mirror'));
    for (const z of zips) await mirror.add(z.file);
  });

  it('says what it has: the newest version and all of them', async () => {
    expect(await sources().latest('plugin', 'wpfleet-hello')).toEqual({
      kind: 'plugin',
      slug: 'wpfleet-hello',
      name: 'wpfleet Hello',
      version: '2.0.0',
      versions: ['2.0.0', '1.1.0', '1.0.0'],
    });
    expect(await sources().latest('theme', 'wpfleet-hello')).toBeNull();
    expect(await sources().latest('plugin', 'no-such-plugin')).toBeNull();
    expect(await sources().latest('plugin', '../etc')).toBeNull();
  });

  it('fetches the newest or a given version, as a checked file in the mirror', async () => {
    const newest = await sources().fetch('plugin', 'wpfleet-hello');
    expect(newest).toMatchObject({ kind: 'plugin', slug: 'wpfleet-hello', version: '2.0.0' });
    expect(newest.file).toBe(
      path.join(data, 'mirror/plugins/wpfleet-hello/wpfleet-hello.2.0.0.zip'),
    );
    const older = await sources().fetch('theme', 'wpfleet-plain', '1.0.0');
    expect(older.version).toBe('1.0.0');
    expect(older.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('an unknown version lists the versions there are', async () => {
    const err = await rejection(
      sources().fetch('plugin', 'wpfleet-hello', '9.9.9'),
      UnknownPackageVersionError,
    );
    expect(err.message).toBe(
      `Can't find the requested plugin's version 9.9.9 in the plugin mirror. Available versions: 2.0.0, 1.1.0, 1.0.0.`,
    );
    expect(err.available).toEqual(['2.0.0', '1.1.0', '1.0.0']);
    expect(err.code).toBe('unknown_version');
  });

  it('an unknown slug says where it looked', async () => {
    const err = await rejection(sources().fetch('theme', 'no-such-theme'), UnknownPackageError);
    expect(err.message).toBe(
      "Couldn't find 'no-such-theme' in the theme mirror; wordpress.org is off (WPFLEET_WPORG=off).",
    );
    expect(err.kind).toBe('not_found');
  });

  it('refuses a mirror file changed behind the index', async () => {
    const dir = await scratch('tampered');
    const mirror = new PackageMirror(dir);
    const added = await mirror.add(zips[0]?.file ?? '');
    await fs.appendFile(added.file, 'x');
    const err = await rejection(
      mirror.file('plugin', 'wpfleet-hello', '1.0.0'),
      BrokenPackageError,
    );
    expect(err.message).toMatch(
      /^The mirror's copy of plugin wpfleet-hello 1\.0\.0 is not the file its index names; add it again with `wpfleet mirror add --force`$/,
    );
  });

  it('core versions: offline, the releases this server has, else a clear error', async () => {
    const err = await rejection(sources().coreVersions(), PackageSourceUnavailableError);
    expect(err.message).toBe(
      'No WordPress versions are known: wordpress.org is off (WPFLEET_WPORG=off), and this server has no release; add one with `wpfleet releases add`',
    );
    for (const version of ['6.4.2', '6.5']) {
      await fs.mkdir(path.join(data, 'releases', version), { recursive: true });
      await fs.writeFile(path.join(data, 'releases', version, 'manifest.json'), '{}');
    }
    expect(await sources().coreVersions()).toEqual({ latest: '6.5', versions: ['6.5', '6.4.2'] });
  });

  it('two adds at once keep both entries', async () => {
    const dir = await scratch('concurrent');
    const mirror = new PackageMirror(dir);
    await Promise.all(zips.map((z) => new PackageMirror(dir).add(z.file)));
    expect((await mirror.list()).flatMap((p) => p.versions).length).toBe(zips.length);
  });

  it('a conflicting add through the API is a MirrorConflictError', async () => {
    const dir = await scratch('conflict');
    const mirror = new PackageMirror(dir);
    await mirror.add(zips[0]?.file ?? '');
    const files = helloPlugin('1.0.0');
    files['wpfleet-hello/changed.txt'] = 'changed';
    const other = await zipFiles(files, path.join(dir, 'in', 'x.zip'));
    await rejection(mirror.add(other), MirrorConflictError);
  });
});
