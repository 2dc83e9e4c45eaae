import { describe, expect, it } from 'vitest';
import { formatRoles, parseRoles } from '../../src/api/wpengine/roles.js';
import { ValidationError } from '../../src/core/errors.js';
import {
  hasBilling,
  roleFromColumn,
  roleToColumn,
  type AccountRole,
} from '../../src/core/users/roles.js';

describe("WP Engine's roles", () => {
  it.each<[string, string, AccountRole]>([
    ['owner', 'owner', { level: 'owner' }],
    ['full', 'full', { level: 'manager', billing: false }],
    ['full,billing', 'full,billing', { level: 'manager', billing: true }],
    ['billing, partial', 'partial,billing', { level: 'limited', billing: true }],
    [' PARTIAL ', 'partial', { level: 'limited', billing: false }],
  ])('reads %j as %s', (raw, roles, role) => {
    expect(parseRoles(raw)).toEqual(role);
    expect(formatRoles(parseRoles(raw))).toBe(roles);
  });

  it.each(['', 'admin', 'owner,billing', 'full,partial', 'billing', 'full,billing,extra'])(
    'refuses %j',
    (raw) => {
      expect(() => parseRoles(raw)).toThrow(ValidationError);
    },
  );
});

describe('the stored role', () => {
  const roles: AccountRole[] = [
    { level: 'owner' },
    { level: 'manager', billing: false },
    { level: 'manager', billing: true },
    { level: 'limited', billing: false },
    { level: 'limited', billing: true },
  ];

  it("keeps 0.1's column text and reads it back", () => {
    expect(roles.map(roleToColumn)).toEqual([
      'owner',
      'full',
      'full,billing',
      'partial',
      'partial,billing',
    ]);
    for (const role of roles) expect(roleFromColumn(roleToColumn(role))).toEqual(role);
  });

  it('reads text it does not know as the least role', () => {
    expect(roleFromColumn('admin')).toEqual({ level: 'limited', billing: false });
    expect(roleFromColumn('')).toEqual({ level: 'limited', billing: false });
  });

  it('gives owners billing', () => {
    expect(roles.map(hasBilling)).toEqual([true, false, true, false, true]);
  });
});
