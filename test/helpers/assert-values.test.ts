import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Linter, type Rule } from 'eslint';
import { everyItem, includesAll, includesNone, isInstance, noItem, show, someItem } from './assert-values.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** The message a helper fails with, or undefined when it passes. */
function failure(check: () => void): string | undefined {
  try {
    check();
    return undefined;
  } catch (err) {
    assert.equal((err as Error).name, 'AssertionError');
    return (err as Error).message;
  }
}

describe('assertions that show values', () => {
  it('includesAll names what is missing and prints the haystack', () => {
    assert.equal(failure(() => includesAll(['a', 'b'], ['a', 'b'])), undefined);
    assert.equal(failure(() => includesAll('tar -cf x', ['-cf'])), undefined);
    assert.equal(failure(() => includesAll(['a', 'b'], ['a', 'c', 'd'])), 'missing ["c","d"] from ["a","b"]');
    assert.equal(failure(() => includesAll('abc', ['x'])), 'missing ["x"] from "abc"');
  });

  it('includesNone names what is present', () => {
    assert.equal(failure(() => includesNone(['a'], ['b'])), undefined);
    assert.equal(failure(() => includesNone(['a', 'b'], ['b', 'c'])), 'unexpected ["b"] in ["a","b"]');
  });

  it('someItem, noItem and everyItem print the items involved', () => {
    assert.equal(failure(() => someItem(['ab'], (s) => s.startsWith('a'))), undefined);
    assert.equal(failure(() => someItem(['b'], (s) => s.startsWith('a'), 'line starting a')), 'no line starting a in ["b"]');
    assert.equal(failure(() => noItem(['a', 'b'], (s) => s === 'b')), 'unexpected ["b"]');
    assert.equal(failure(() => everyItem([1, 2, 3], (n) => n < 2)), 'failing the test: [2,3]');
    assert.equal(failure(() => everyItem([1], (n) => n < 2)), undefined);
  });

  it('isInstance names what the value was', () => {
    assert.equal(failure(() => isInstance(new TypeError('x'), Error)), undefined);
    assert.equal(failure(() => isInstance(new Error('boom'), TypeError)), 'expected a TypeError, got Error: boom');
    assert.equal(failure(() => isInstance(undefined, Error)), 'expected a Error, got undefined');
  });

  it('show cuts a long value short and says how long it was', () => {
    assert.equal(show('x'.repeat(10), 5), '"xxxx… (12 characters)');
  });
});

describe('the local/assert-message lint rule', () => {
  const lint = async (code: string): Promise<string[]> => {
    // A path in a variable: the config is JavaScript, outside what the type checker reads.
    const configPath = join(ROOT, 'eslint.config.js');
    const { assertMessage } = (await import(configPath)) as { assertMessage: Rule.RuleModule };
    const config = { plugins: { local: { rules: { 'assert-message': assertMessage } } }, rules: { 'local/assert-message': 'error' as const } };
    return new Linter().verify(code, config).map((m) => m.ruleId ?? m.message);
  };

  it('refuses a message that repeats the asserted expression', async () => {
    assert.deepEqual(await lint("assert.ok(a.includes('x'), \"a.includes('x')\");"), ['local/assert-message']);
    assert.deepEqual(await lint('assert(n >  0, `n > 0`);'), ['local/assert-message']);
  });

  it('accepts a message that says something else or prints values', async () => {
    assert.deepEqual(await lint("assert.ok(a.includes('x'), 'x is listed');"), []);
    assert.deepEqual(await lint('assert.ok(n > 0, `n is ${n}`);'), []);
    assert.deepEqual(await lint("other.ok(a, 'a');"), []);
  });
});
