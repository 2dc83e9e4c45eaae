import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addRelease, ensureRelease, type Release } from '../../src/runtime/releases/index.js';
import { unpackDeb, verifyPackage } from '../../src/runtime/releases/sources/debian-package.js';
import { walkTree } from '../../src/runtime/releases/files.js';
import {
  closedEndpoints,
  releaseRejection,
  settings,
  SHARED_CACHE,
  tempDir,
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

async function isFile(file: string): Promise<boolean> {
  return fs.lstat(file).then(
    (s) => s.isFile(),
    () => false,
  );
}

describe("the Debian source (real apt-get download, cached in the OS's temp folder)", () => {
  let release: Release;

  beforeAll(async () => {
    const data = await scratch('debian');
    ({ release } = await addRelease(settings(data), { source: 'debian' }));
  });

  it('gives a complete, verified WordPress 6.1.9', async () => {
    expect(release.version).toBe('6.1.9');
    expect(release.manifest.source).toBe('debian');
    expect(release.manifest.verification).toMatchObject({ verified: true, unlisted: 0 });
    expect(release.manifest.origin).toMatch(/^Debian packages wordpress 6\.1\.9/);
    for (const rel of [
      'wp-login.php',
      'wp-admin/css/login.min.css',
      'wp-includes/js/jquery/jquery.min.js',
      'wp-content/themes/twentytwentythree/style.css',
      'wp-content/themes/twentytwentythree/theme.json',
      'wp-content/plugins/akismet/akismet.php',
      'wp-includes/certificates/ca-bundle.crt',
    ]) {
      expect(await isFile(path.join(release.root, rel)), rel).toBe(true);
    }
    const version = await fs.readFile(path.join(release.root, 'wp-includes/version.php'), 'utf8');
    expect(version).toContain("$wp_version = '6.1.9';");
  });

  it('has no symlinks left: the files they pointed to are real copies', async () => {
    let files = 0;
    for await (const entry of walkTree(release.root)) {
      expect(entry.kind, entry.rel).toBe('file');
      files++;
    }
    expect(files).toBe(release.manifest.files);
    // These were links into php-getid3, libjs-underscore and libjs-cropper.
    for (const rel of [
      'wp-includes/ID3/getid3.php',
      'wp-includes/js/underscore.min.js',
      'wp-includes/js/crop/cropper.js',
      'wp-includes/js/crop/marqueeHoriz.gif',
    ]) {
      const stat = await fs.lstat(path.join(release.root, rel));
      expect(stat.isFile(), rel).toBe(true);
      expect(stat.size, rel).toBeGreaterThan(0);
    }
  });

  it("leaves out Debian's wp-config.php and .htaccess", async () => {
    expect(await isFile(path.join(release.root, 'wp-config.php'))).toBe(false);
    expect(await isFile(path.join(release.root, '.htaccess'))).toBe(false);
    expect(await isFile(path.join(release.root, 'wp-config-sample.php'))).toBe(true);
  });

  it('writes a manifest and the checksums of every file', async () => {
    const manifest = JSON.parse(
      await fs.readFile(path.join(release.dir, 'manifest.json'), 'utf8'),
    ) as Record<string, unknown>;
    expect(manifest).toMatchObject({ version: '6.1.9', source: 'debian' });
    expect(typeof manifest.created_at).toBe('string');
    expect(manifest.bytes).toBeGreaterThan(40e6);
    const { checksums } = JSON.parse(
      await fs.readFile(path.join(release.dir, 'checksums.json'), 'utf8'),
    ) as { checksums: Record<string, string> };
    expect(Object.keys(checksums)).toHaveLength(release.manifest.files);
  });

  it('refuses a package whose unpacked files differ from its md5sums', async () => {
    const debs = await fs.readdir(path.join(SHARED_CACHE, 'debian'));
    const deb = debs.find((n) => n.startsWith('wordpress_') && n.endsWith('.deb'));
    expect(deb).toBeDefined();
    const dir = await scratch('tamper');
    const pkg = await unpackDeb(
      path.join(SHARED_CACHE, 'debian', deb ?? ''),
      dir,
      'wordpress',
      '6.1.9',
    );
    await verifyPackage(pkg);

    await fs.appendFile(path.join(pkg.root, 'usr/share/wordpress/wp-login.php'), '\n// backdoor');
    const changed = await releaseRejection(verifyPackage(pkg));
    expect(changed.code).toBe('checksum_mismatch');
    expect(changed.message).toMatch(
      /^Debian package wordpress 6\.1\.9 does not match its md5sums; refused \(changed: usr\/share\/wordpress\/wp-login\.php\)$/,
    );

    await fs.writeFile(path.join(pkg.root, 'usr/share/wordpress/wp-includes/shell.php'), '<?php');
    const added = await releaseRejection(verifyPackage(pkg));
    expect(added.message).toContain('not listed: usr/share/wordpress/wp-includes/shell.php');
  });
});

describe('the Debian source asked for a version it does not have', () => {
  it('is passed over before downloading anything', async () => {
    const data = await scratch('other-version');
    const err = await releaseRejection(
      addRelease(settings(data), { source: 'debian', version: '6.5.5' }),
    );
    expect(err.code).toBe('no_release');
    expect(err.message).toContain("debian: Debian's packages offer WordPress 6.1.9, not 6.5.5");
    expect(await fs.readdir(path.join(data, 'releases'))).toEqual([]);
  });
});

describe('the Debian source on a fresh machine', () => {
  it('updates empty package lists, and builds the CA bundle when the system has none', async () => {
    const data = await scratch('fresh');
    const lists = await scratch('lists');
    await fs.mkdir(path.join(lists, 'partial'));
    const progress: string[] = [];
    const { release } = await addRelease(
      settings(data),
      { source: 'debian' },
      {
        aptOptions: ['-o', `Dir::State::Lists=${lists}`],
        caBundle: path.join(data, 'no-such-bundle.crt'),
        progress: (m) => progress.push(m),
      },
    );
    expect(progress).toContain('debian: package lists lack WordPress; running apt-get update');
    expect(release.manifest.verification.verified).toBe(true);
    expect(release.manifest.notes.join('\n')).toMatch(
      /built from the \d+ certificates of Debian package ca-certificates/,
    );
    const bundle = await fs.readFile(
      path.join(release.root, 'wp-includes/certificates/ca-bundle.crt'),
      'utf8',
    );
    expect(bundle.match(/BEGIN CERTIFICATE/g)?.length).toBeGreaterThan(100);
  });
});

describe('ensureRelease', () => {
  it('adds from the next source when wordpress.org is unreachable, once, then reuses it', async () => {
    const data = await scratch('ensure');
    const config = settings(data, ['wordpress.org', 'debian']);
    const options = { wordpressOrg: await closedEndpoints() };
    const [a, b] = await Promise.all([
      ensureRelease(config, options),
      ensureRelease(config, options),
    ]);
    expect(a.version).toBe('6.1.9');
    expect(b).toEqual(a);
    expect(a.manifest.source).toBe('debian');
    const started = Date.now();
    const again = await ensureRelease(config, options);
    expect(again.root).toBe(a.root);
    expect(Date.now() - started).toBeLessThan(1000);
    const entries = await fs.readdir(path.join(data, 'releases'));
    expect(entries).toEqual(['6.1.9']);
  });
});
