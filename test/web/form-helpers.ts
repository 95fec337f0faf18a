import assert from 'node:assert/strict';
import { fieldSpec, type Schemas, type Tree, type Value } from '../../web/src/model.js';

/** The form field a dotted key path gets; a path without one fails the test that asked. */
export function fieldSpecAt(schemas: Schemas, path: string): NonNullable<ReturnType<typeof fieldSpec>> {
  const s = fieldSpec(schemas, path.split('.'));
  assert.ok(s, `a field for ${path}`);
  return s;
}

/** Every value of a config tree with its key path, for round trips through the form. */
export function leaves(tree: Tree, p: string[] = []): { path: string[]; value: Value }[] {
  return Object.entries(tree).flatMap(([k, v]) => (typeof v === 'string' || Array.isArray(v) ? [{ path: [...p, k], value: v }] : leaves(v, [...p, k])));
}
