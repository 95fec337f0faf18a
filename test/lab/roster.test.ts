import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseRoster } from '../../src/lab/roster.js';

test('a roster: header, rows by column, quoted fields with commas, quotes and line breaks, CRLF', () => {
  const r = parseRoster('user,password,name\r\nada,"a,b","Ada ""The Countess"" Lovelace"\r\nalan,x,"two\nlines"\r\n\r\n');
  assert.ok(r.roster, `parses: ${JSON.stringify(r.diagnostics)}`);
  assert.deepEqual(r.roster.columns, ['user', 'password', 'name']);
  assert.deepEqual(r.roster.rows.map((row) => Object.fromEntries(row)), [
    { user: 'ada', password: 'a,b', name: 'Ada "The Countess" Lovelace' },
    { user: 'alan', password: 'x', name: 'two\nlines' },
  ]);
  assert.deepEqual(r.roster.rowLines, [2, 3]);
});

test('roster errors are at their line and column', () => {
  const cases: Array<[string, string, number, number]> = [
    ['', 'LAB_ROSTER_EMPTY', 1, 1],
    ['user,pw\nada,"open\n', 'LAB_ROSTER_SYNTAX', 2, 5],
    ['user,pw\nada,"x"y\n', 'LAB_ROSTER_SYNTAX', 2, 8],
    ['user,pw\nad"a,x\n', 'LAB_ROSTER_SYNTAX', 2, 3],
    ['user,pw\nada\n', 'LAB_ROSTER_ROW', 2, 1],
    ['user,user\nada,b\n', 'LAB_ROSTER_COLUMN', 1, 6],
    ['user,pass word\nada,b\n', 'LAB_ROSTER_COLUMN', 1, 6],
  ];
  for (const [text, code, line, column] of cases) {
    const r = parseRoster(text);
    assert.equal(r.roster, undefined, `${JSON.stringify(text)} is refused`);
    const d = r.diagnostics[0];
    assert.ok(d, `${JSON.stringify(text)} has a diagnostic`);
    assert.deepEqual([d.code, d.line, d.column], [code, line, column], `${JSON.stringify(text)}: ${d.message}`);
  }
});

test('any table written with RFC 4180 quoting reads back as itself', () => {
  const field = fc.string({ maxLength: 8 });
  const quote = (s: string): string => (/[",\r\n]/.test(s) || s === '' ? `"${s.replace(/"/g, '""')}"` : s);
  fc.assert(fc.property(fc.integer({ min: 1, max: 4 }), fc.array(fc.array(field, { minLength: 4, maxLength: 4 }), { maxLength: 5 }), (width, rows) => {
    const columns = Array.from({ length: width }, (_, i) => `c${i}`);
    const body = rows.map((r) => r.slice(0, width));
    const text = [columns, ...body].map((r) => r.map(quote).join(',')).join('\r\n');
    const r = parseRoster(text);
    if (!r.roster) return false;
    return JSON.stringify(r.roster.rows.map((row) => columns.map((c) => row.get(c)))) === JSON.stringify(body);
  }));
});
