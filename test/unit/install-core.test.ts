import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyInstallCore } from '../../src/runtime/releases/install-core.js';

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

describe("an install's core against its release's checksums", () => {
  let dir: string;
  let root: string;
  const files: Record<string, string> = {
    'index.php': '<?php // index',
    'wp-login.php': '<?php // login',
    'wp-admin/index.php': '<?php // admin',
    'wp-includes/version.php': '<?php $wp_version = "6.1.9";',
    'wp-content/index.php': '<?php // Silence is golden.',
    'wp-content/themes/t/style.css': '/* theme */',
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-core-'));
    root = path.join(dir, 'wordpress');
    for (const [rel, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      fs.writeFileSync(path.join(root, rel), text);
    }
    const checksums = Object.fromEntries(Object.entries(files).map(([r, t]) => [r, md5(t)]));
    fs.writeFileSync(path.join(dir, 'checksums.json'), JSON.stringify({ checksums }));
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('passes an untouched release, wp-content left out', async () => {
    expect(await verifyInstallCore({ releaseDir: root })).toEqual({
      ok: true,
      missing: [],
      changed: [],
      extra: [],
      checked: 4,
    });
  });

  it('fails on a changed or missing file and lists extra ones', async () => {
    fs.appendFileSync(path.join(root, 'wp-includes', 'version.php'), '\neval($_GET["x"]);');
    fs.rmSync(path.join(root, 'wp-login.php'));
    fs.writeFileSync(path.join(root, 'wp-admin', 'shell.php'), '<?php');
    fs.mkdirSync(path.join(root, 'extra-dir'));
    fs.symlinkSync('/etc/passwd', path.join(root, 'extra-dir', 'link'));
    // The release's wp-content is never what PHP runs: not checked.
    fs.writeFileSync(path.join(root, 'wp-content', 'themes', 't', 'style.css'), 'changed');
    fs.writeFileSync(path.join(root, 'wp-content', 'new.php'), '<?php');
    expect(await verifyInstallCore({ releaseDir: root })).toEqual({
      ok: false,
      missing: ['wp-login.php'],
      changed: ['wp-includes/version.php'],
      extra: ['extra-dir/link', 'wp-admin/shell.php'],
      checked: 4,
    });
  });

  it('says when the checksums cannot be read', async () => {
    fs.rmSync(path.join(dir, 'checksums.json'));
    await expect(verifyInstallCore({ releaseDir: root })).rejects.toThrow(/checksums/);
  });
});
