import { z } from 'zod';
import type { Diagnostic, Severity } from '../diagnostics.js';
import { pathKey, type PlaceIndex } from './normalize.js';
import { didYouMean } from './validators.js';
import { APP_SECTIONS } from './model.js';

type Path = readonly PropertyKey[];

/** The file position for a logical path: the value itself, a list item, or the nearest section. */
export function placeOf(places: PlaceIndex, path: Path, at: 'value' | 'key' = 'value'): { line: number; column: number } {
  const p = path.map(String);
  const exact = places.get(pathKey(p));
  if (exact) return { line: exact.line, column: (at === 'key' ? exact.keyColumn : undefined) ?? exact.column };
  const last = path[path.length - 1];
  if (typeof last === 'number') {
    const list = places.get(pathKey(p.slice(0, -1)));
    if (list) return { line: list.line, column: list.itemColumns?.[last] ?? list.column };
  }
  for (let n = p.length - 1; n >= 0; n--) {
    const up = places.get(pathKey(p.slice(0, n)));
    if (up) return { line: up.line, column: up.column };
  }
  return { line: 1, column: 1 };
}

/**
 * Where a diagnostic is placed in the file: at the value or the key of its path, or at another
 * path's value (a static NIC without an address is about `address`, and the file says so at `type`).
 */
export type PlaceAt = 'value' | 'key' | { near: Path };

export function diagnosticAt(
  places: PlaceIndex, path: Path, severity: Severity, code: string, message: string, hint?: string, at: PlaceAt = 'value',
): Diagnostic {
  const place = typeof at === 'object' ? placeOf(places, at.near) : placeOf(places, path, at);
  return { code, severity, ...place, message, ...(hint ? { hint } : {}), path: path.map(String) };
}

/** The schema that validates the value at `path`, to list the keys a section accepts. */
function schemaAt(schema: z.ZodType, path: Path): z.ZodType | undefined {
  let s: z.ZodType | undefined = schema;
  for (const seg of path) {
    s = unwrap(s);
    if (s instanceof z.ZodObject) s = (s.shape as Record<string, z.ZodType>)[String(seg)];
    else if (s instanceof z.ZodRecord) s = s.valueType as z.ZodType;
    else return undefined;
  }
  return s && unwrap(s);
}

function unwrap(s: z.ZodType | undefined): z.ZodType | undefined {
  while (s && (s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodPrefault)) {
    s = s.unwrap() as z.ZodType;
  }
  return s;
}

function knownKeys(schema: z.ZodType, path: Path): string[] {
  const s = schemaAt(schema, path);
  if (s instanceof z.ZodObject) return Object.keys(s.shape);
  if (s instanceof z.ZodRecord) {
    const key = s.keyType as z.ZodType;
    if (key instanceof z.ZodEnum) return key.options.map(String);
  }
  return [];
}

const where = (path: Path): string => (path.length === 0 ? 'at the top level' : `in [${path.map(String).join('.')}]`);
/** The key a path ends in; for a list item, the list's key. */
const nameOf = (path: Path): string => String([...path].reverse().find((seg) => typeof seg !== 'number') ?? '');

/** Turns zod's issues into diagnostics a person can act on, placed where the file says the thing. */
export function issuesToDiagnostics(schema: z.ZodType, issues: readonly z.core.$ZodIssue[], places: PlaceIndex, input: unknown): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const issue of issues) {
    const path = issue.path;
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          const place = places.get(pathKey([...path, key].map(String)));
          const known = knownKeys(schema, path);
          const guess = didYouMean(key, known);
          const apps = path.length === 1 && APP_SECTIONS.includes(String(path[0]) as never);
          const what = place?.section ? `section [${key}]` : apps ? `application '${key}'` : `key '${key}'`;
          out.push(diagnosticAt(places, [...path, key], 'error', 'CFG_UNKNOWN_KEY', `unknown ${what} ${where(path)}`,
            guess ? `did you mean '${guess}'?` : apps ? 'vmgen catalog apps lists the known names' : `known: ${known.join(', ')}`, 'key'));
        }
        break;
      case 'invalid_value': {
        const value = valueAt(input, path);
        // zod reports a missing or section-shaped enum value as a bad choice; it is a shape problem.
        if (value === undefined || (typeof value === 'object' && !Array.isArray(value))) {
          out.push(shapeDiagnostic(places, path, value, 'string')!);
          break;
        }
        const options = issue.values.map(String);
        const guess = typeof value === 'string' ? didYouMean(value, options) : undefined;
        out.push(diagnosticAt(places, path, 'error', 'CFG_BAD_CHOICE',
          `'${String(value)}' is not a valid ${nameOf(path)}`,
          guess ? `did you mean '${guess}'?` : options.length <= 12 ? `one of: ${options.join(', ')}` : `see vmgen catalog ${nameOf(path) === 'os' ? 'os' : 'apps'}`));
        break;
      }
      case 'invalid_type':
        out.push(shapeDiagnostic(places, path, valueAt(input, path), issue.expected)
          ?? diagnosticAt(places, path, 'error', 'CFG_BAD_VALUE', `'${nameOf(path)}': ${issue.message}`));
        break;
      case 'custom': {
        const hint = (issue.params as { hint?: string } | undefined)?.hint;
        out.push(diagnosticAt(places, path, 'error', 'CFG_BAD_VALUE', `${nameOf(path)}: ${issue.message}`, hint));
        break;
      }
      default:
        out.push(diagnosticAt(places, path, 'error', 'CFG_BAD_VALUE', `${nameOf(path)}: ${issue.message}`));
    }
  }
  return out;
}

/** A value that is missing, or a section where a value belongs (or the other way round). */
function shapeDiagnostic(places: PlaceIndex, path: Path, value: unknown, expected: string): Diagnostic | undefined {
  const name = nameOf(path);
  if (value === undefined) {
    return expected === 'object'
      ? diagnosticAt(places, path, 'error', 'CFG_MISSING', `missing section [${name}]`, `add a [${name}] section`)
      : diagnosticAt(places, path, 'error', 'CFG_MISSING', `missing '${name}' ${where(path.slice(0, -1))}`, `add '${name} = …'`);
  }
  if (expected === 'object' || expected === 'record') {
    return diagnosticAt(places, path, 'error', 'CFG_NOT_SECTION', `'${name}' must be a section, not a value`,
      `write it as a subsection: [[${name}]] with 'key = value' lines inside`);
  }
  if (Array.isArray(value)) {
    return diagnosticAt(places, path, 'error', 'CFG_NOT_SCALAR', `'${name}' takes one value, not a list`, 'quote a value that contains a comma: "a, b"');
  }
  if (typeof value === 'object') {
    return diagnosticAt(places, path, 'error', 'CFG_NOT_SCALAR', `'${name}' is a value, not a section`, `write '${name} = …'`);
  }
  return undefined;
}

function valueAt(input: unknown, path: Path): unknown {
  let v: unknown = input;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg as string];
  }
  return v;
}
