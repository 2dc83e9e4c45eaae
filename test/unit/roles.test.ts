import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/core/errors.js';
import { parseRoles } from '../../src/core/users/roles.js';

describe('parseRoles', () => {
  it.each([
    ['owner', 'owner'],
    ['full', 'full'],
    ['full,billing', 'full,billing'],
    ['billing, partial', 'partial,billing'],
    [' PARTIAL ', 'partial'],
  ])('reads %j as %s', (raw, roles) => {
    expect(parseRoles(raw)).toBe(roles);
  });

  it.each(['', 'admin', 'owner,billing', 'full,partial', 'billing', 'full,billing,extra'])(
    'refuses %j',
    (raw) => {
      expect(() => parseRoles(raw)).toThrow(ValidationError);
    },
  );
});
