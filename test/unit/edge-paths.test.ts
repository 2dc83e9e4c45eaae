import { describe, expect, it } from 'vitest';
import { isForbiddenPath } from '../../src/edge/edge.js';

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
  ])('refuses %s', (p) => {
    expect(isForbiddenPath(p)).toBe(true);
  });

  it.each([
    '/',
    '/hello-world/',
    '/2024/01/a-post/',
    '/wp-content/uploads/2024/logo.png',
    '/wp-content/themes/t/style.css',
    '/.well-known/acme-challenge/token',
    '/wp-login.php',
  ])('lets %s through', (p) => {
    expect(isForbiddenPath(p)).toBe(false);
  });
});
