import type { Diagnostic } from '../../diagnostics.js';
import { newSection, type IniDocument, type IniSection, type IniValue } from './document.js';
import { KEYWORD, LIST_ITEM, SECTION_MARKER, TRIPLE_QUOTES, VALUE, pyStrip } from './regex.js';

export interface IniParseResult {
  doc: IniDocument;
  /** Errors only: a file either parses or it doesn't. All of them, not just the first. */
  diagnostics: Diagnostic[];
}

class ValueSyntaxError extends Error {}

/** Splits like ConfigObj reading a file: at '\n' only, then every trailing '\r'/'\n' is the terminator. */
export function splitLines(text: string): { lines: string[]; eols: string[]; bom: boolean } {
  const bom = text.startsWith('\ufeff');
  const body = bom ? text.slice(1) : text;
  const lines: string[] = [];
  const eols: string[] = [];
  let start = 0;
  while (start < body.length) {
    const nl = body.indexOf('\n', start);
    const raw = nl === -1 ? body.slice(start) : body.slice(start, nl + 1);
    const content = raw.replace(/[\r\n]+$/, '');
    lines.push(content);
    eols.push(raw.slice(content.length));
    start += raw.length;
  }
  return { lines, eols, bom };
}

function unquote(value: string): string {
  if (!value) throw new ValueSyntaxError('empty list item');
  if (value[0] === value[value.length - 1] && (value[0] === '"' || value[0] === "'")) {
    return value.slice(1, -1);
  }
  return value;
}

interface HandledValue {
  value: IniValue;
  /** Offsets of list items within the value text (for diagnostics). */
  itemOffsets: number[];
}

/** ConfigObj's _handle_value with list_values on: unquote, drop the comment, split lists. */
function handleValue(text: string): HandledValue {
  const m = VALUE.exec(text);
  if (!m) throw new ValueSyntaxError('badly quoted value or invalid list');
  const listPart = m[1];
  let single: string | undefined = m[2];
  const emptyList = m[3];
  if (listPart === '' && single === undefined) throw new ValueSyntaxError('no value');
  if (emptyList !== undefined) return { value: [], itemOffsets: [] };
  if (single !== undefined) {
    // The regex also matches '' after a trailing comma; that is not an item.
    if (listPart && !single) single = undefined;
    else single = unquote(single || '""');
  }
  if (!listPart) return { value: single ?? '', itemOffsets: [0] };
  const items: string[] = [];
  const offsets: number[] = [];
  LIST_ITEM.lastIndex = 0;
  for (const item of listPart.matchAll(LIST_ITEM)) {
    items.push(unquote(item[1]!));
    offsets.push(item.indices?.[1]?.[0] ?? item.index);
  }
  if (single !== undefined) {
    items.push(single);
    offsets.push(text.lastIndexOf(m[2]!, text.length - (m[4]?.length ?? 0)));
  }
  return { value: items, itemOffsets: offsets };
}

/** Reads a value written as it would be in a file (`a, b` is a list, `"a, b"` one string). */
export function parseValueText(text: string): { ok: true; value: IniValue } | { ok: false; message: string } {
  try {
    const t = text.trim();
    if (t.startsWith("'''") || t.startsWith('"""')) return { ok: true, value: multiline(t, [t], 0).value };
    return { ok: true, value: handleValue(t).value };
  } catch (e) {
    if (e instanceof ValueSyntaxError) return { ok: false, message: e.message };
    throw e;
  }
}

interface MultilineResult {
  value: string;
  endLine: number;
}

/** ConfigObj's _multiline: a value opened by ''' or """ runs to the line that closes it. */
function multiline(first: string, lines: string[], index: number): MultilineResult {
  const quote = first.slice(0, 3) as keyof typeof TRIPLE_QUOTES;
  const { singleLine, lastLine } = TRIPLE_QUOTES[quote];
  const one = singleLine.exec(first);
  if (one) return { value: one[1]!, endLine: index };
  let value = first.slice(3);
  if (value.includes(quote)) throw new ValueSyntaxError('text after the closing triple quote');
  let i = index;
  let closing: string | undefined;
  while (i < lines.length - 1) {
    i += 1;
    value += '\n';
    const line = lines[i]!;
    if (!line.includes(quote)) value += line;
    else {
      closing = line;
      break;
    }
  }
  if (closing === undefined) throw new ValueSyntaxError(`no closing ${quote}`);
  const last = lastLine.exec(closing);
  if (!last) throw new ValueSyntaxError(`text after the closing ${quote}`);
  return { value: value + last[1]!, endLine: i };
}

function firstNonBlankColumn(line: string): number {
  const m = /\S/.exec(line);
  return m ? m.index + 1 : 1;
}

/** A hint for a line that is neither a section header nor `key = value`. */
function invalidLineHint(stripped: string): string {
  if (stripped.startsWith('[')) return "a section header is a name between brackets, as many ']' as '[', e.g. [[hdds]]";
  if (stripped.includes(':')) return "values are set with '=', not ':' (key = value)";
  return "write 'key = value', a [section] header, or start a comment with '#'";
}

/**
 * Parses a config the way ConfigObj(infile, interpolation=False) does, reporting every error with
 * its line and column instead of stopping at the first. Like ConfigObj, it goes on after an error
 * so that one typo does not hide the rest.
 */
export function parseIni(text: string): IniParseResult {
  const { lines, eols, bom } = splitLines(text);
  const root = newSection('', 0, null, -1, 1);
  const doc: IniDocument = { lines, eols, bom, root };
  const diagnostics: Diagnostic[] = [];
  const error = (code: string, line: number, column: number, message: string, hint?: string): void => {
    diagnostics.push({ code, severity: 'error', line: line + 1, column, message, ...(hint ? { hint } : {}) });
  };

  let current: IniSection = root;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const stripped = pyStrip(line);
    if (!stripped || stripped.startsWith('#')) continue;

    const sec = SECTION_MARKER.exec(line);
    if (sec) {
      const [, indent, open, rawName, close] = sec as unknown as [string, string, string, string, string];
      const depth = open.split('[').length - 1;
      const column = indent.length + 1;
      if (depth !== close.split(']').length - 1) {
        error('INI_NESTING', i, column, `section header [${pyStrip(rawName)}] has ${depth} '[' but ${close.split(']').length - 1} ']'`,
          'use as many closing brackets as opening ones');
        continue;
      }
      let parent: IniSection;
      if (depth < current.depth) {
        let s: IniSection = current;
        while (depth < s.depth && s.parent) s = s.parent;
        parent = s.parent ?? s;
      } else if (depth === current.depth) {
        parent = current.parent ?? root;
      } else if (depth === current.depth + 1) {
        parent = current;
      } else {
        error('INI_NESTING', i, column, `section [${pyStrip(rawName)}] is nested too deep: ${depth} brackets right after a depth ${current.depth} section`,
          `a subsection has exactly one more bracket than its parent: ${'['.repeat(current.depth + 1)}name${']'.repeat(current.depth + 1)}`);
        continue;
      }
      const name = unquote(rawName);
      const nameColumn = indent.length + open.length + 1;
      if (parent.entries.has(name)) {
        const prior = parent.entries.get(name)!;
        error('INI_DUPLICATE_SECTION', i, nameColumn, `duplicate section '${name}'`,
          `'${name}' is already defined on line ${prior.line + 1}; merge the two or rename one`);
        continue;
      }
      const section = newSection(name, depth, parent, i, nameColumn);
      parent.entries.set(name, section);
      current = section;
      continue;
    }

    const kw = KEYWORD.exec(line);
    if (!kw) {
      error('INI_INVALID_LINE', i, firstNonBlankColumn(line), `invalid line: ${JSON.stringify(stripped)} is neither a [section] header nor 'key = value'`,
        invalidLineHint(stripped));
      continue;
    }
    const [, indent, rawKey, rest] = kw as unknown as [string, string, string, string];
    const valueColumn = line.length - rest.length + 1;
    let value: IniValue;
    let itemColumns: number[] = [];
    let endLine = i;
    try {
      if (rest.startsWith('"""') || rest.startsWith("'''")) {
        const ml = multiline(rest, lines, i);
        value = ml.value;
        endLine = ml.endLine;
        itemColumns = [valueColumn];
      } else {
        const handled = handleValue(rest);
        value = handled.value;
        itemColumns = handled.itemOffsets.map((o) => valueColumn + o);
      }
    } catch (e) {
      if (!(e instanceof ValueSyntaxError)) throw e;
      error('INI_BAD_VALUE', i, valueColumn, `cannot read the value of '${rawKey}': ${e.message}`,
        "quote a value holding ',' or '#' (\"a, b\"), and close every quote; a list is 'a, b, c'");
      continue;
    }
    const key = unquote(rawKey);
    if (current.entries.has(key)) {
      const prior = current.entries.get(key)!;
      error('INI_DUPLICATE_KEY', i, indent.length + 1, `duplicate key '${key}'`,
        `'${key}' is already set on line ${prior.line + 1} of this section`);
      i = endLine;
      continue;
    }
    current.entries.set(key, {
      kind: 'scalar', key, value, line: i, endLine, keyColumn: indent.length + 1, valueColumn, itemColumns,
    });
    i = endLine;
  }
  return { doc, diagnostics };
}
