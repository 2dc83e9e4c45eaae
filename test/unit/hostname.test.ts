import { describe, expect, it } from 'vitest';
import { isHostname, normalizeHostname } from '../../src/core/domains/hostname.js';

describe('isHostname', () => {
  it.each([
    'example.com',
    'www.example.com',
    'a-b.example.co.uk',
    'xn--bcher-kva.example',
    '1.example.com',
  ])('accepts %s', (name) => {
    expect(isHostname(name)).toBe(true);
  });

  it.each([
    ['single label', 'localhost'],
    ['empty', ''],
    ['leading hyphen', '-a.example.com'],
    ['trailing hyphen in label', 'a-.example.com'],
    ['empty label', 'a..example.com'],
    ['underscore', 'a_b.example.com'],
    ['space', 'a b.example.com'],
    ['IPv4 address', '192.168.1.1'],
    ['label over 63', `${'a'.repeat(64)}.com`],
    ['name over 253', `${'a.'.repeat(127)}com`],
    ['wildcard', '*.example.com'],
    ['uppercase (not normalized)', 'Example.com'],
    ['path fragment', 'example.com/../etc'],
  ])('refuses %s', (_label, name) => {
    expect(isHostname(name)).toBe(false);
  });
});

describe('normalizeHostname', () => {
  it('lower-cases, trims and drops the root dot', () => {
    expect(normalizeHostname('  WWW.Example.COM. ')).toBe('www.example.com');
  });
});
