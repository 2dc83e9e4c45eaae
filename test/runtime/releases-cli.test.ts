import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import {
  checksumsOf,
  closedEndpoints,
  fakeWordPress,
  SHARED_CACHE,
  tempDir,
  writeTree,
} from './releases-fixtures.js';

interface Listed {
  version: string;
  source: string;
  verified: boolean;
  path: string;
  bytes: number;
  added?: boolean;
}

let data: string;
let env: Record<string, string>;

beforeAll(async () => {
  // The helper builds only when dist/ is missing; a dist/ from before this command existed
  // would not know `releases`.
  if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'cli', 'releases.js'))) {
    await promisify(execFile)('npm', ['run', 'build'], { cwd: REPO_ROOT });
  }
  data = await tempDir('cli');
  const offline = await closedEndpoints();
  env = {
    WPFLEET_DATA: data,
    WPFLEET_CACHE_DIR: SHARED_CACHE,
    WPFLEET_WORDPRESS_ORG_API: offline.api,
    WPFLEET_WORDPRESS_ORG_DOWNLOADS: offline.downloads,
  };
});

afterAll(() => {
  fs.rmSync(data, { recursive: true, force: true });
});

async function list(): Promise<Listed[]> {
  const r = await runCli(['releases', 'list', '--json'], env);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Listed[];
}

/** A failure is one `wpfleet: …` line, no stack. */
function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  const last = lines[lines.length - 1] ?? '';
  expect(stderr).not.toMatch(/^\s+at /m);
  return last;
}

describe('wpfleet releases', () => {
  it('lists nothing at first and says how to add a release', async () => {
    expect(await list()).toEqual([]);
    const r = await runCli(['releases', 'list'], env);
    expect(r.stdout.trim()).toBe('no releases; add one with: wpfleet releases add');
  });

  it('adds, lists and removes a Debian release', async () => {
    const add = await runCli(['releases', 'add', '--source', 'debian', '--json'], env);
    expect(add.code, add.stderr).toBe(0);
    const added = JSON.parse(add.stdout) as Listed;
    expect(added).toMatchObject({
      version: '6.1.9',
      source: 'debian',
      verified: true,
      added: true,
    });
    expect(added.path).toBe(path.join(data, 'releases', '6.1.9', 'wordpress'));

    const again = await runCli(['releases', 'add', '6.1.9'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^already have WordPress 6\.1\.9 from debian: \d+ files/);

    expect(await list()).toMatchObject([{ version: '6.1.9', source: 'debian', verified: true }]);
    const text = await runCli(['releases', 'list'], env);
    expect(text.stdout).toMatch(
      /^VERSION +SOURCE +VERIFIED +SIZE +PATH\n6\.1\.9 +debian +yes +5\d\.\d MB +\//,
    );

    const remove = await runCli(['releases', 'remove', '6.1.9'], env);
    expect(remove.code, remove.stderr).toBe(0);
    expect(remove.stdout.trim()).toBe('removed WordPress 6.1.9');
    expect(await list()).toEqual([]);
    const gone = await runCli(['releases', 'remove', '6.1.9'], env);
    expect(gone.code).toBe(1);
    expect(oneLine(gone.stderr)).toBe('wpfleet: Release 6.1.9 not found');
  });

  it('adds a folder with checksums, refuses bad ones, and marks --no-verify unverified', async () => {
    const base = await tempDir('cli-local');
    try {
      const files = fakeWordPress('6.5.5');
      await writeTree(path.join(base, 'wordpress'), files);
      const bad = path.join(base, 'bad.json');
      fs.writeFileSync(bad, JSON.stringify(checksumsOf({ ...files, 'wp-login.php': 'x' })));
      const refused = await runCli(
        ['releases', 'add', '--from', path.join(base, 'wordpress'), '--checksums', bad],
        env,
      );
      expect(refused.code).toBe(1);
      expect(oneLine(refused.stderr)).toMatch(
        /^wpfleet: WordPress 6\.5\.5 from .* does not match the checksums in .*bad\.json; refused \(changed: wp-login\.php\)$/,
      );

      const unverified = await runCli(
        ['releases', 'add', '--from', path.join(base, 'wordpress')],
        env,
      );
      expect(unverified.code).toBe(1);
      expect(oneLine(unverified.stderr)).toMatch(/wordpress\.org is not reachable.*--no-verify$/);

      const forced = await runCli(
        ['releases', 'add', '--from', path.join(base, 'wordpress'), '--no-verify', '--json'],
        env,
      );
      expect(forced.code, forced.stderr).toBe(0);
      expect(JSON.parse(forced.stdout)).toMatchObject({
        version: '6.5.5',
        source: 'local',
        verified: false,
      });
      const good = path.join(base, 'good.json');
      fs.writeFileSync(good, JSON.stringify(checksumsOf(files)));
      const verified = await runCli(
        ['releases', 'add', '--from', path.join(base, 'wordpress'), '--checksums', good],
        env,
      );
      // The version is already there (unverified): the existing copy is kept and said so.
      expect(verified.stdout).toMatch(/^already have WordPress 6\.5\.5 from local/);
      await runCli(['releases', 'remove', '6.5.5'], env);
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  it('fails fast with a clear line when wordpress.org is unreachable', async () => {
    const r = await runCli(['releases', 'add', '--source', 'wordpress.org'], env);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(
      /^wpfleet: No source could provide WordPress \(wordpress\.org: wordpress\.org is not reachable \(ECONNREFUSED\)\)\. Add one with `wpfleet releases add \[--source wordpress\.org\|debian\]` \(without --source it tries WPFLEET_RELEASE_SOURCES: /,
    );
  });

  it('refuses bad flags and settings', async () => {
    const source = await runCli(['releases', 'add', '--source', 'npm'], env);
    expect(source.code).toBe(2);
    expect(oneLine(source.stderr)).toBe('wpfleet: --source: expected one of wordpress.org, debian');
    const stray = await runCli(['releases', 'add', '--no-verify'], env);
    expect(stray.code).toBe(2);
    expect(oneLine(stray.stderr)).toBe('wpfleet: --checksums and --no-verify go with --from');
    const setting = await runCli(['releases', 'list'], { ...env, WPFLEET_RELEASE_SOURCES: 'ftp' });
    expect(setting.code).toBe(2);
    expect(oneLine(setting.stderr)).toBe(
      'wpfleet: invalid WPFLEET_RELEASE_SOURCES: "ftp" is not one of wordpress.org, debian',
    );
  });
});
