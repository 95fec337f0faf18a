// Assertions that print the values involved when they fail, for the checks assert.equal,
// deepEqual and match do not cover: membership, absence, any-of, and instanceof with narrowing.
import assert from 'node:assert/strict';

type Haystack = string | readonly string[];

/** JSON of a value for a failure message, cut short so a whole rendered file does not flood the log. */
export function show(value: unknown, max = 2000): string {
  const shown = JSON.stringify(value) ?? String(value);
  return shown.length > max ? `${shown.slice(0, max)}… (${shown.length} characters)` : shown;
}

/** Fails naming every needle the haystack (a text or a list) lacks. */
export function includesAll(haystack: Haystack, needles: readonly string[]): void {
  const missing = needles.filter((n) => !haystack.includes(n));
  assert.ok(missing.length === 0, `missing ${show(missing)} from ${show(haystack)}`);
}

/** Fails naming every needle the haystack (a text or a list) holds. */
export function includesNone(haystack: Haystack, needles: readonly string[]): void {
  const present = needles.filter((n) => haystack.includes(n));
  assert.ok(present.length === 0, `unexpected ${show(present)} in ${show(haystack)}`);
}

/** Fails printing the list when no item passes the test. */
export function someItem<T>(items: readonly T[], test: (item: T) => boolean, what = 'an item'): void {
  assert.ok(items.some(test), `no ${what} in ${show(items)}`);
}

/** Fails printing the items that pass the test. */
export function noItem<T>(items: readonly T[], test: (item: T) => boolean): void {
  const found = items.filter(test);
  assert.ok(found.length === 0, `unexpected ${show(found)}`);
}

/** Fails printing the items that fail the test. */
export function everyItem<T>(items: readonly T[], test: (item: T) => boolean): void {
  const failed = items.filter((item) => !test(item));
  assert.ok(failed.length === 0, `failing the test: ${show(failed)}`);
}

/** Narrows like `instanceof`; fails naming what the value was instead. */
export function isInstance<T>(value: unknown, type: abstract new (...args: never[]) => T): asserts value is T {
  if (value instanceof type) return;
  const got = value instanceof Error ? `${value.constructor.name}: ${value.message}` : show(value);
  assert.fail(`expected a ${type.name}, got ${got}`);
}
