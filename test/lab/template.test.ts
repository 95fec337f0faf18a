import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { copyName, expandTemplate, parseTemplate, rosterColumns } from '../../src/lab/template.js';

const expand = (value: string, n: number, row?: Record<string, string>): string => {
  const t = parseTemplate(value);
  assert.ok(t.ok, `'${value}' should parse: ${t.ok ? '' : t.error.message}`);
  return expandTemplate(t.parts, { n, ...(row ? { row: new Map(Object.entries(row)) } : {}) });
};

test('templates expand per copy: {n}, {n:02}, sums, roster columns and literal braces', () => {
  const cases: Array<[string, number, string]> = [
    ['pc{n}', 3, 'pc3'],
    ['pc{n:02}', 3, 'pc03'],
    ['pc{n:03}', 12, 'pc012'],
    ['10.20.0.{10+n}', 2, '10.20.0.12'],
    ['10.20.0.{n+100}', 7, '10.20.0.107'],
    ['h{n+10:04}', 1, 'h0011'],
    ['{{literal}} {n}', 5, '{literal} 5'],
    ['no template', 9, 'no template'],
  ];
  for (const [value, n, want] of cases) assert.equal(expand(value, n), want, `${value} with n=${n}`);
  assert.equal(expand('{roster.user}-{n}', 2, { user: 'ada' }), 'ada-2', 'a roster column is the row\'s field');
});

test('a bad template is an error at its offset, with the forms in the hint', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['pc{m}', 2, /unknown template \{m\}/],
    ['pc{n', 2, /never closed/],
    ['a}b', 1, /closes no template/],
    ['x{n*2}', 1, /unknown template/],
    ['{roster.}', 0, /unknown template/],
    ['{n+99999}', 0, /at most 65535/],
  ];
  for (const [value, offset, message] of cases) {
    const t = parseTemplate(value);
    assert.ok(!t.ok, `'${value}' should not parse`);
    assert.equal(t.error.offset, offset, `offset of the error in '${value}'`);
    assert.match(t.error.message, message, `message for '${value}'`);
    assert.match(t.error.hint, /\{n:02\}/, `hint for '${value}' lists the forms`);
  }
});

test('{n:0W} round-trips: the text parses back to n, and is at least W wide', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 250 }), fc.integer({ min: 1, max: 9 }), (n, width) => {
    const out = expand(`{n:0${width}}`, n);
    return Number(out) === n && out.length === Math.max(width, String(n).length) && /^\d+$/.test(out);
  }));
});

test('text without braces is itself; doubled braces are literal', () => {
  fc.assert(fc.property(fc.string().filter((s) => !s.includes('{') && !s.includes('}')), fc.integer({ min: 1, max: 250 }), (s, n) =>
    expand(s, n) === s && expand(s.replace(/$/, '{{}}'), n) === `${s}{}`));
});

test('roster columns a value uses are listed with their offsets', () => {
  const t = parseTemplate('{roster.user}:{roster.password}');
  assert.ok(t.ok, 'parses');
  assert.deepEqual(rosterColumns(t.parts), [{ column: 'user', offset: 0 }, { column: 'password', offset: 14 }]);
});

test('copy names: the entry\'s name alone, or padded to the width of count', () => {
  assert.equal(copyName('gw', 1, 1), 'gw');
  assert.deepEqual([1, 2].map((n) => copyName('web', 2, n)), ['web1', 'web2']);
  assert.deepEqual([1, 9, 20].map((n) => copyName('pc', 20, n)), ['pc01', 'pc09', 'pc20']);
  assert.equal(copyName('pc', 250, 7), 'pc007');
});
