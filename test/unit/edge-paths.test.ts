import { describe, expect, it } from 'vitest';
import { isForbiddenPath } from '../../src/edge/edge.js';
import { classifyPath, phpPath, type PathSettings } from '../../src/edge/path-rules.js';

const url = (u: string) => {
  const q = u.indexOf('?');
  return { url: u, pathname: q < 0 ? u : u.slice(0, q) };
};
const verdict = (u: string, settings: PathSettings) => {
  const { pathname } = url(u);
  return classifyPath(u, pathname, settings).kind;
};

const PROTECTED: PathSettings = { fileProtection: true, loginPath: null };
const OPEN: PathSettings = { fileProtection: false, loginPath: null };
const LOGIN: PathSettings = { fileProtection: true, loginPath: 'my-login' };

describe('paths no visitor may fetch', () => {
  it.each([
    '/.htaccess',
    '/%2ehtaccess',
    '/wp-content/database/.ht.sqlite',
    '/WP-CONTENT/Database/',
    '//wp-content//database',
    '/wp-content/uploads/2024/shell.php',
    '/wp-content/uploads/x.PHAR',
    '/wp-content/uploads/x%2ephp',
    '/a\\.git/config',
    '/%E0%A4%A',
    // php-wasm runs the first .php walking up the path, drops a fragment, resolves `..`.
    '/wp-content/uploads/shell.php/x',
    '/wp-content/uploads/shell.php#',
    '/wp-content/themes/%2e%2e/uploads/a.php',
    '/wp-content/themes/x%2f..%2f..%2fuploads/a.php',
    '/wp-content%2Fuploads%2Fa.php',
    '/wp-content/uploads/a.phtml',
    '/wp-content/uploads/a.php7',
    '/wp-content/debug.log',
    '/.git/config',
    '/.env',
    '/.env.local',
    '/wp-content/.env',
    '/.user.ini',
    '/wp-content/.wpfleet-maintenance',
  ])('refuses %s', (p) => {
    expect(isForbiddenPath(p)).toBe(true);
  });

  it('refuses what a scheme-relative URL makes php-wasm serve', () => {
    // `//h/x` is host h and path /x to WHATWG's parser, which php-wasm uses.
    expect(phpPath('//h/wp-content/uploads/a.php')).toEqual(['wp-content', 'uploads', 'a.php']);
    expect(verdict('//h/wp-content/uploads/a.php', OPEN)).toBe('forbidden');
  });

  it.each([
    '/',
    '/hello-world/',
    '/2024/01/a-post/',
    '/wp-content/uploads/2024/logo.png',
    '/wp-content/themes/t/style.css',
    '/wp-content/plugins/p/debug.log.png',
    '/.well-known/acme-challenge/token',
    '/wp-login.php',
    '/wp-config.php',
    '/backup.sql',
  ])('lets %s through', (p) => {
    expect(isForbiddenPath(p)).toBe(false);
  });
});

describe('file protection', () => {
  it.each([
    '/wp-config.php',
    '/WP-CONFIG.PHP',
    '/wp-config.php.bak',
    '/wp-config.php.save',
    '/wp-config.php~',
    '/wp-config.php/x',
    '/wp-content/../wp-config.php',
    '/backup.sql',
    '/dump.sql.gz',
    '/wp-content/uploads/db.SQL',
    '/index.php.bak',
    '/index.php.old',
    '/wp-settings.php.orig',
    '/wp-content/themes/t/.functions.php.swp',
    '/wp-content/themes/t/functions.php.swp',
    '/functions.php~',
    '/wp-content/uploads/error.log',
    '/php.ini',
  ])('refuses %s', (p) => {
    expect(verdict(p, PROTECTED)).toBe('forbidden');
  });

  it.each(['/wp-config.php', '/backup.sql', '/index.php.bak'])(
    'lets %s through when off (WordPress answers)',
    (p) => {
      expect(verdict(p, OPEN)).toBe('pass');
    },
  );

  it.each([
    '/',
    '/wp-login.php',
    '/wp-config-sample.php',
    '/wp-content/uploads/2024/photo.jpg',
    '/wp-content/uploads/backup.sql.pdf',
    '/wp-content/plugins/akismet.old/x.png',
    '/?s=backup.sql',
  ])('lets %s through when on', (p) => {
    expect(verdict(p, PROTECTED)).toBe('pass');
  });
});

describe('the custom login path', () => {
  it('serves wp-login.php at /<slug>, keeping the query', () => {
    const at = (u: string) => classifyPath(u, url(u).pathname, LOGIN);
    expect(at('/my-login')).toEqual({ kind: 'login', url: '/wp-login.php' });
    expect(at('/my-login/')).toEqual({ kind: 'login', url: '/wp-login.php' });
    expect(at('/my-login?action=lostpassword&x=1')).toEqual({
      kind: 'login',
      url: '/wp-login.php?action=lostpassword&x=1',
    });
    expect(at('/my-login-2').kind).toBe('pass');
    expect(at('/my-login/x').kind).toBe('pass');
  });

  it.each([
    '/wp-login.php',
    '/wp-login.php?action=lostpassword',
    '/WP-LOGIN.PHP',
    '//wp-login.php',
    '/%77p-login.php',
    '/wp-login.php/x',
    '/wp-signup.php',
    '/wp-activate.php',
    '/wp-admin/install.php',
  ])('hides %s', (p) => {
    expect(verdict(p, LOGIN)).toBe('hidden');
  });

  it.each(['/./wp-login.php', '/wp-admin/../wp-login.php'])(
    'refuses %s (dot segments as written are refused for every path)',
    (p) => {
      expect(verdict(p, LOGIN)).toBe('forbidden');
    },
  );

  it('hides nothing without a login path, and file protection still applies with one', () => {
    expect(verdict('/wp-login.php', PROTECTED)).toBe('pass');
    expect(verdict('/wp-admin/install.php', PROTECTED)).toBe('pass');
    expect(verdict('/wp-config.php', LOGIN)).toBe('forbidden');
    expect(verdict('/wp-admin/', LOGIN)).toBe('pass');
    expect(verdict('/', LOGIN)).toBe('pass');
  });
});
