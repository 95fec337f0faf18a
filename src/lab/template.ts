/*
 * Templates in a lab file's values: what differs between the copies of one [machines] entry.
 *   {n}         the copy's number, 1-based            pc{n} → pc3
 *   {n:02}      zero-padded to a width                pc{n:02} → pc03
 *   {10+n}      a small sum (also {n+10}, {n+10:03})  10.20.0.{10+n} → 10.20.0.13
 *   {roster.C}  column C of the copy's roster row     {roster.user} → ada
 *   {{ and }}   a literal brace
 * Parsing is separate from expanding so that a bad template is reported once, at its column,
 * before any copy is made.
 */

export type TemplatePart =
  | { kind: 'text'; text: string }
  | { kind: 'n'; add: number; width: number; offset: number }
  | { kind: 'roster'; column: string; offset: number };

export interface TemplateError {
  /** 0-based offset in the value of the character the error is at. */
  offset: number;
  message: string;
  hint: string;
}

export type ParsedTemplate = { ok: true; parts: TemplatePart[] } | { ok: false; error: TemplateError };

/** Largest constant in a sum: addresses and ports need no more. */
const MAX_ADD = 65_535;
const HINT = 'templates are {n}, {n:02}, {10+n}, {n+10} and {roster.COLUMN}; write {{ or }} for a brace';

const N_EXPR = /^(?:(\d+)\+n|n(?:\+(\d+))?)(?::0([1-9]))?$/;
const ROSTER_EXPR = /^roster\.([A-Za-z0-9_-]+)$/;

function expression(body: string, offset: number): TemplatePart | TemplateError {
  const n = N_EXPR.exec(body);
  if (n) {
    const add = Number(n[1] ?? n[2] ?? '0');
    if (add > MAX_ADD) return { offset, message: `{${body}} adds ${add}; at most ${MAX_ADD}`, hint: HINT };
    return { kind: 'n', add, width: Number(n[3] ?? '0'), offset };
  }
  const r = ROSTER_EXPR.exec(body);
  if (r) return { kind: 'roster', column: r[1]!, offset };
  return { offset, message: `unknown template {${body}}`, hint: HINT };
}

export function parseTemplate(value: string): ParsedTemplate {
  const parts: TemplatePart[] = [];
  let text = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if ((ch === '{' || ch === '}') && value[i + 1] === ch) {
      text += ch;
      i++;
      continue;
    }
    if (ch === '}') return { ok: false, error: { offset: i, message: "a '}' that closes no template", hint: HINT } };
    if (ch !== '{') {
      text += ch;
      continue;
    }
    const close = value.indexOf('}', i + 1);
    const nextOpen = value.indexOf('{', i + 1);
    if (close === -1 || (nextOpen !== -1 && nextOpen < close)) {
      return { ok: false, error: { offset: i, message: "a '{' that is never closed", hint: HINT } };
    }
    const part = expression(value.slice(i + 1, close), i);
    if (!('kind' in part)) return { ok: false, error: part };
    if (text) parts.push({ kind: 'text', text });
    text = '';
    parts.push(part);
    i = close;
  }
  if (text) parts.push({ kind: 'text', text });
  return { ok: true, parts };
}

export interface TemplateContext {
  /** The copy's number, 1-based. */
  n: number;
  /** The copy's roster row, by column name. */
  row?: ReadonlyMap<string, string>;
}

/** The value for one copy; a roster column the row lacks reads as '' (validation reports it first). */
export function expandTemplate(parts: readonly TemplatePart[], ctx: TemplateContext): string {
  let out = '';
  for (const part of parts) {
    if (part.kind === 'text') out += part.text;
    else if (part.kind === 'n') out += String(ctx.n + part.add).padStart(part.width, '0');
    else out += ctx.row?.get(part.column) ?? '';
  }
  return out;
}

export const rosterColumns = (parts: readonly TemplatePart[]): Array<{ column: string; offset: number }> =>
  parts.flatMap((p) => (p.kind === 'roster' ? [{ column: p.column, offset: p.offset }] : []));

export const isTemplated = (parts: readonly TemplatePart[]): boolean => parts.some((p) => p.kind !== 'text');

/** A copy's name: the entry's name alone for a single machine, else the number padded to the width of count. */
export function copyName(entry: string, count: number, n: number): string {
  return count === 1 ? entry : `${entry}${String(n).padStart(String(count).length, '0')}`;
}
