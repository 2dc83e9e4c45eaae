import { describe, expect, it } from 'vitest';
import { newestFirst, phpVersionCompare } from '../../src/core/packages/version-compare.js';
import { fileHeader } from '../../src/runtime/packages/headers.js';

describe("PHP's version_compare, as WordPress compares plugin versions", () => {
  // Expected values from PHP 8's version_compare().
  const cases: [string, string, number][] = [
    ['1.0.0', '1.0.0', 0],
    ['1.0', '1.0.0', -1],
    ['1.10', '1.9', 1],
    ['2.0.0-beta1', '2.0.0', -1],
    ['2.0.0RC1', '2.0.0beta2', 1],
    ['1.0dev', '1.0alpha', -1],
    ['1.0', '1.0rc1', 1],
    ['1.0', '1.0pl1', -1],
    ['1.0-1', '1.0.1', 0],
    ['5.0.2', '5.0.10', -1],
    ['2024.05', '2024.5', 0],
  ];
  it.each(cases)('%s vs %s', (a, b, expected) => {
    expect(phpVersionCompare(a, b)).toBe(expected);
    expect(phpVersionCompare(b, a)).toBe(expected === 0 ? 0 : -expected);
  });

  it('sorts newest first without duplicates', () => {
    expect(newestFirst(['1.0.0', '2.0.0', '1.10.0', '1.9.9', '2.0.0-beta1', '1.0.0'])).toEqual([
      '2.0.0',
      '2.0.0-beta1',
      '1.10.0',
      '1.9.9',
      '1.0.0',
    ]);
  });
});

describe("get_file_data()'s header reading", () => {
  it('reads headers from a doc comment, a line comment and a bare line', () => {
    const php = '<?php\n/**\n * Plugin Name: Hello Dolly\n * Version: 1.7.2\n */\n';
    expect(fileHeader(php, 'Plugin Name')).toBe('Hello Dolly');
    expect(fileHeader(php, 'Version')).toBe('1.7.2');
    expect(fileHeader('<?php // Plugin Name: One Line ?>', 'Plugin Name')).toBe('One Line');
    expect(fileHeader('/*\nTheme Name: Plain */', 'Theme Name')).toBe('Plain');
    expect(fileHeader('/*\r\ntheme name: Lower\r\n*/', 'Theme Name')).toBe('Lower');
  });

  it('ignores a header past the first 8 KB, or inside another line', () => {
    expect(fileHeader(`<?php\n${'/'.repeat(8200)}\n// Plugin Name: Late`, 'Plugin Name')).toBe('');
    expect(fileHeader("<?php $x = 'Plugin Name: not a header';", 'Plugin Name')).toBe('');
    expect(fileHeader('<?php\n/* Plugin Name:    */', 'Plugin Name')).toBe('');
  });
});
