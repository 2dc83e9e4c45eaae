import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  addRelease,
  ensureRelease,
  releaseStore,
  type Release,
  type ReleaseSettings,
} from '../../src/runtime/releases/index.js';
import {
  checksumsOf,
  fakeWordPress,
  fakeWordPressOrg,
  ownCache,
  releaseRejection,
  tempDir,
  writeTree,
  type FakeWordPressOrg,
} from './releases-fixtures.js';

const dirs: string[] = [];
async function scratch(prefix: string): Promise<string> {
  const dir = await tempDir(prefix);
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
});

/** A data directory of its own on the given machine cache. */
async function on(
  cacheDir: string,
  releaseSources: ReleaseSettings['releaseSources'],
): Promise<ReleaseSettings> {
  return { dataDir: await scratch('data'), cacheDir, releaseSources };
}

function reports(): {
  messages: string[];
  warnings: string[];
  progress(m: string): void;
  warn(m: string): void;
} {
  const messages: string[] = [];
  const warnings: string[] = [];
  return {
    messages,
    warnings,
    progress: (m) => messages.push(m),
    warn: (m) => warnings.push(m),
  };
}

async function md5(file: string): Promise<string> {
  return createHash('md5')
    .update(await fs.readFile(file))
    .digest('hex');
}

const CACHE_NOTE =
  /^taken from this machine's release cache \(.*\); every file matched the checksums kept there$/;

describe("the machine's release cache, with Debian's WordPress", () => {
  let cache: string;
  let first: Release;
  let entry: string;

  beforeAll(async () => {
    // Empty of releases (cold); Debian's downloads are the tests' shared ones.
    cache = ownCache(await scratch('machine'));
    entry = path.join(cache, 'releases', '6.1.9');
    ({ release: first } = await addRelease(await on(cache, ['debian'])));
  });

  it('keeps the release a data directory fetched, with its manifest and checksums', async () => {
    expect(first.manifest.source).toBe('debian');
    expect(first.manifest.notes.join('\n')).not.toMatch(/release cache/);
    const kept = JSON.parse(
      await fs.readFile(path.join(entry, 'manifest.json'), 'utf8'),
    ) as Release['manifest'];
    expect(kept).toEqual(first.manifest);
    expect(await fs.readFile(path.join(entry, 'checksums.json'), 'utf8')).toBe(
      await fs.readFile(path.join(first.dir, 'checksums.json'), 'utf8'),
    );
  });

  it('gives a second data directory its own checked copy, with every source off', async () => {
    const r = reports();
    const second = await on(cache, []);
    const { release, added } = await addRelease(second, {}, r);
    expect(added).toBe(true);
    expect(release.root).toBe(path.join(second.dataDir, 'releases', '6.1.9', 'wordpress'));
    expect(release.manifest).toMatchObject({
      version: '6.1.9',
      source: 'debian',
      origin: first.manifest.origin,
      files: first.manifest.files,
      bytes: first.manifest.bytes,
      verification: first.manifest.verification,
    });
    expect(release.manifest.notes.at(-1)).toMatch(CACHE_NOTE);
    expect(r.messages).toEqual([`machine cache: taking WordPress 6.1.9 from ${entry}`]);
    expect(r.warnings).toEqual([]);

    // Its own files: a write into the cache's copy shows nowhere in the data directory.
    const login = path.join(release.root, 'wp-login.php');
    const cached = path.join(entry, 'wordpress', 'wp-login.php');
    expect((await fs.stat(login)).ino).not.toBe((await fs.stat(cached)).ino);
    const before = await md5(login);
    const original = await fs.readFile(cached);
    await fs.appendFile(cached, '\n// changed in the cache');
    try {
      expect(await md5(login)).toBe(before);
    } finally {
      await fs.writeFile(cached, original);
    }
  });

  it('is what ensureRelease (provisioning) takes when no source is on', async () => {
    const release = await ensureRelease(await on(cache, []));
    expect(release.version).toBe('6.1.9');
    expect(release.manifest.notes.at(-1)).toMatch(CACHE_NOTE);
  });

  it('refuses a corrupted entry and fetches the release again from a source, keeping the fresh copy', async () => {
    await fs.appendFile(path.join(entry, 'wordpress', 'wp-login.php'), '\n// backdoor');
    await fs.writeFile(path.join(entry, 'wordpress', 'wp-includes', 'shell.php'), '<?php');
    const r = reports();
    const { release, added } = await addRelease(await on(cache, ['debian']), {}, r);
    expect(added).toBe(true);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(
      /^machine cache: WordPress 6\.1\.9 in .*\/releases\/6\.1\.9 refused and removed \(WordPress 6\.1\.9 from Debian packages .* does not match the checksums kept with it in .*; refused \(changed: wp-login\.php; not listed: wp-includes\/shell\.php\)\)$/,
    );
    expect(r.messages).toContain('debian: fetching WordPress (newest)');
    expect(release.manifest.notes.join('\n')).not.toMatch(/release cache/);
    expect(await md5(path.join(release.root, 'wp-login.php'))).toBe(
      await md5(path.join(first.root, 'wp-login.php')),
    );
    // Kept again, whole: the next data directory takes it without any source.
    const next = await addRelease(await on(cache, []));
    expect(next.release.manifest.notes.at(-1)).toMatch(CACHE_NOTE);
  });

  it('with no source on, refuses and removes a corrupted entry and says why', async () => {
    await fs.appendFile(path.join(entry, 'wordpress', 'wp-login.php'), '\n// backdoor');
    const r = reports();
    const third = await on(cache, []);
    const err = await releaseRejection(addRelease(third, {}, r));
    expect(err.code).toBe('no_release');
    expect(err.message).toMatch(
      /every release source is turned off \(WPFLEET_RELEASE_SOURCES\) \(machine cache: WordPress 6\.1\.9 from Debian packages .* does not match the checksums kept with it in .*\/releases\/6\.1\.9; refused \(changed: wp-login\.php\)\)/,
    );
    expect(r.warnings).toHaveLength(1);
    await expect(fs.stat(entry)).rejects.toThrow(/ENOENT/);
    expect(await releaseStore(third).list()).toEqual([]);
    expect(await fs.readdir(path.join(third.dataDir, 'releases'))).toEqual([]);
  });
});

describe("the machine's release cache, shared by processes and checked as untrusted input", () => {
  const files = fakeWordPress('6.5.5');
  let server: FakeWordPressOrg | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const wordpressOrg = (s: FakeWordPressOrg) => ({
    wordpressOrg: { api: s.api, downloads: s.downloads, timeoutMs: 5_000 },
  });

  it('ends with one intact entry when data directories fetch the same release at once', async () => {
    server = await fakeWordPressOrg('6.5.5', files);
    const cache = await scratch('shared');
    const all = await Promise.all(
      [1, 2, 3].map(async () =>
        addRelease(
          await on(cache, ['wordpress.org']),
          {},
          wordpressOrg(server as FakeWordPressOrg),
        ),
      ),
    );
    expect(all.map((a) => a.added)).toEqual([true, true, true]);
    expect(
      (await fs.readdir(path.join(cache, 'releases'))).filter((n) => !n.startsWith('.')),
    ).toEqual(['6.5.5']);
    const taken = await Promise.all([1, 2].map(async () => addRelease(await on(cache, []))));
    for (const t of taken) expect(t.release.manifest.notes.at(-1)).toMatch(CACHE_NOTE);
  });

  it('asks a source only which version is newest when the cache holds it, and nothing for a given version', async () => {
    server = await fakeWordPressOrg('6.5.5', files);
    const cache = await scratch('asks');
    await addRelease(await on(cache, ['wordpress.org']), {}, wordpressOrg(server));
    const zip = '/release/wordpress-6.5.5.zip';
    expect(server.requests.filter((p) => p === zip)).toHaveLength(1);

    server.requests.length = 0;
    const newest = await addRelease(await on(cache, ['wordpress.org']), {}, wordpressOrg(server));
    expect(newest.release.manifest.notes.at(-1)).toMatch(CACHE_NOTE);
    expect(server.requests).toEqual(['/core/version-check/1.7/']);

    server.requests.length = 0;
    const given = await addRelease(
      await on(cache, ['wordpress.org']),
      { version: '6.5.5' },
      wordpressOrg(server),
    );
    expect(given.release.manifest.notes.at(-1)).toMatch(CACHE_NOTE);
    expect(server.requests).toEqual([]);
  });

  it('does not keep what an operator hands in (--from)', async () => {
    const base = await scratch('from');
    await writeTree(path.join(base, 'wordpress'), files);
    await fs.writeFile(path.join(base, 'checksums.json'), JSON.stringify(checksumsOf(files)));
    const cache = await scratch('from-cache');
    await addRelease(await on(cache, []), {
      from: path.join(base, 'wordpress'),
      checksumsFile: path.join(base, 'checksums.json'),
    });
    await expect(fs.readdir(path.join(cache, 'releases'))).rejects.toThrow(/ENOENT/);
  });

  /** A cache entry written by hand, as another process (or anyone) could have left it. */
  async function handMade(
    change: (entry: string) => Promise<void> = () => Promise.resolve(),
  ): Promise<string> {
    const cache = await scratch('hand');
    const entry = path.join(cache, 'releases', '6.5.5');
    await writeTree(path.join(entry, 'wordpress'), files);
    await fs.writeFile(path.join(entry, 'checksums.json'), JSON.stringify(checksumsOf(files)));
    const manifest = {
      version: '6.5.5',
      source: 'wordpress.org',
      origin: 'https://downloads.wordpress.org/release/wordpress-6.5.5.zip',
      files: Object.keys(files).length,
      bytes: 1,
      verification: {
        verified: true,
        against: "wordpress.org's checksums for 6.5.5 (en_US)",
        unlisted: 0,
      },
      notes: [],
      created_at: new Date().toISOString(),
    };
    await fs.writeFile(path.join(entry, 'manifest.json'), JSON.stringify(manifest));
    await change(entry);
    return cache;
  }

  async function refusal(cache: string): Promise<string> {
    const settings = await on(cache, []);
    const err = await releaseRejection(addRelease(settings));
    expect(err.code).toBe('no_release');
    await expect(fs.stat(path.join(cache, 'releases', '6.5.5'))).rejects.toThrow(/ENOENT/);
    expect(await fs.readdir(path.join(settings.dataDir, 'releases'))).toEqual([]);
    return err.message;
  }

  it('takes an intact entry', async () => {
    const { release } = await addRelease(await on(await handMade(), []));
    expect(release.version).toBe('6.5.5');
    expect(release.manifest.files).toBe(Object.keys(files).length);
  });

  it('refuses a symlink in the tree, and a tree that is a symlink', async () => {
    const inner = await handMade(async (entry) => {
      await fs.rm(path.join(entry, 'wordpress', 'wp-login.php'));
      await fs.symlink('/etc/passwd', path.join(entry, 'wordpress', 'wp-login.php'));
    });
    expect(await refusal(inner)).toMatch(/wordpress\/wp-login\.php is not a regular file/);

    const elsewhere = await scratch('elsewhere');
    await writeTree(elsewhere, files);
    const outer = await handMade(async (entry) => {
      await fs.rm(path.join(entry, 'wordpress'), { recursive: true });
      await fs.symlink(elsewhere, path.join(entry, 'wordpress'));
    });
    expect(await refusal(outer)).toMatch(/6\.5\.5\/wordpress is not a folder/);
  });

  it('refuses an entry whose manifest is not a verified release of its version', async () => {
    const unverified = await handMade(async (entry) => {
      const file = path.join(entry, 'manifest.json');
      const m = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
      m.verification = { verified: false, reason: 'added with --no-verify' };
      await fs.writeFile(file, JSON.stringify(m));
    });
    expect(await refusal(unverified)).toMatch(
      /manifest\.json is not the manifest of a verified 6\.5\.5/,
    );

    const otherVersion = await handMade(async (entry) => {
      await fs.writeFile(
        path.join(entry, 'wordpress', 'wp-includes', 'version.php'),
        "<?php\n$wp_version = '6.5.4';\n",
      );
      // Consistent checksums: only the version tells.
      const sums = checksumsOf({
        ...files,
        'wp-includes/version.php': "<?php\n$wp_version = '6.5.4';\n",
      });
      await fs.writeFile(path.join(entry, 'checksums.json'), JSON.stringify(sums));
    });
    expect(await refusal(otherVersion)).toMatch(/holds WordPress 6\.5\.4, not 6\.5\.5/);
  });
});
