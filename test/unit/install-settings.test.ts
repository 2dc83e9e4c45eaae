import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/core/errors.js';
import {
  DEFAULT_INSTALL_SETTINGS,
  loginPathProblem,
  withChanges,
} from '../../src/core/installs/install-settings.js';
import { applySettings } from '../../src/runtime/sites/settings.js';
import { renderWpConfig, withSettings } from '../../src/runtime/sites/wp-config.js';

describe('login paths', () => {
  it.each(['my-login', 'abc', 'a1b', 'door-42', 'x'.repeat(64)])('takes %s', (slug) => {
    expect(loginPathProblem(slug)).toBeNull();
  });

  it.each([
    'ab',
    'x'.repeat(65),
    'My-Login',
    '-login',
    'login-',
    'my_login',
    'my login',
    'my/login',
    'login.php',
    'wp-admin',
    'wp-login',
    'wp-json',
    'wp-anything',
    'login',
    'admin',
    'dashboard',
    'feed',
    '',
  ])('refuses %s', (slug) => {
    expect(loginPathProblem(slug)).not.toBeNull();
  });

  it('refuses a bad change with a validation error and keeps the rest', () => {
    expect(() => withChanges(DEFAULT_INSTALL_SETTINGS, { loginPath: 'wp-admin' })).toThrow(
      ValidationError,
    );
    expect(withChanges(DEFAULT_INSTALL_SETTINGS, { wpDebug: true, loginPath: 'door' })).toEqual({
      ...DEFAULT_INSTALL_SETTINGS,
      wpDebug: true,
      loginPath: 'door',
    });
    expect(
      withChanges({ ...DEFAULT_INSTALL_SETTINGS, loginPath: 'door' }, { loginPath: null }),
    ).toEqual(DEFAULT_INSTALL_SETTINGS);
  });

  it('protects files by default', () => {
    expect(DEFAULT_INSTALL_SETTINGS.fileProtection).toBe(true);
  });
});

const CONFIG = renderWpConfig({
  tablePrefix: 'wp_abc_',
  database: { kind: 'sqlite' },
  agentSecret: 'a'.repeat(64),
});

describe("the settings in an install's wp-config.php", () => {
  it('writes the defaults in a block before wp-settings.php is required', () => {
    const block = CONFIG.slice(CONFIG.indexOf('// wpfleet settings:'));
    expect(block).toMatch(/^\/\/ wpfleet settings: .*\ndefine\( 'WP_DEBUG', false \);\n/);
    expect(block).toContain("define( 'DISALLOW_FILE_EDIT', false );");
    expect(CONFIG).not.toContain('WPFLEET_LOGIN_PATH');
    expect(CONFIG.indexOf('// wpfleet settings end.')).toBeLessThan(
      CONFIG.indexOf("require_once ABSPATH . 'wp-settings.php';"),
    );
  });

  it('replaces only the block, whatever it held', () => {
    const on = withSettings(CONFIG, {
      wpDebug: true,
      disallowFileEdit: true,
      fileProtection: true,
      loginPath: 'my-login',
    });
    expect(on).toContain("define( 'WP_DEBUG', true );");
    expect(on).toContain("define( 'WP_DEBUG_LOG', true );");
    expect(on).toContain("define( 'WP_DEBUG_DISPLAY', false );");
    expect(on).toContain("define( 'DISALLOW_FILE_EDIT', true );");
    expect(on).toContain("define( 'WPFLEET_LOGIN_PATH', 'my-login' );");
    expect(on.match(/wpfleet settings:/g)).toHaveLength(1);
    // Salts, prefix and secret stay as they were.
    const keep = (text: string) => text.split('\n').filter((l) => /SALT|KEY|prefix|SECRET/.test(l));
    expect(keep(on)).toEqual(keep(CONFIG));
    expect(withSettings(on, DEFAULT_INSTALL_SETTINGS)).toBe(CONFIG);
  });

  it('adds the block to a wp-config.php written before it existed', () => {
    const legacy = CONFIG.replace(
      /\/\/ wpfleet settings:[\s\S]*?wpfleet settings end\./,
      () => "define( 'WP_DEBUG', false );",
    );
    expect(legacy).not.toContain('wpfleet settings');
    expect(withSettings(legacy, DEFAULT_INSTALL_SETTINGS)).toBe(CONFIG);
    const noDebug = legacy.replace("define( 'WP_DEBUG', false );\n", '');
    const added = withSettings(noDebug, { ...DEFAULT_INSTALL_SETTINGS, wpDebug: true });
    expect(added).toMatch(/WP_DEBUG_DISPLAY', false \);\n[\s\S]*end\.\n[\s\S]*wp-settings\.php/);
    expect(() => withSettings('<?php\n', DEFAULT_INSTALL_SETTINGS)).toThrow(/not written by/);
  });

  it('is rewritten whole, nothing left beside it, and untouched when nothing changes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-settings-'));
    try {
      const configFile = path.join(dir, 'wp-config.php');
      fs.writeFileSync(configFile, CONFIG, { mode: 0o600 });
      const before = fs.statSync(configFile).ino;
      expect(await applySettings({ configFile }, DEFAULT_INSTALL_SETTINGS)).toBe(false);
      expect(fs.statSync(configFile).ino).toBe(before);
      const debug = { ...DEFAULT_INSTALL_SETTINGS, wpDebug: true };
      expect(await applySettings({ configFile }, debug)).toBe(true);
      expect(fs.readFileSync(configFile, 'utf8')).toBe(withSettings(CONFIG, debug));
      // A new file renamed over the old one, so a reader has either whole.
      expect(fs.statSync(configFile).ino).not.toBe(before);
      expect(fs.statSync(configFile).mode & 0o777).toBe(0o600);
      expect(fs.readdirSync(dir)).toEqual(['wp-config.php']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
