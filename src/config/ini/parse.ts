import type { Diagnostic } from '../../diagnostics.js';
import { newSection, type IniDocument, type IniSection, type IniValue } from './document.js';
import { findListItems, matchKeyword, matchSection, matchTripleLastLine, matchTripleSingleLine, matchValue, pyStrip, type TripleQuote } from './grammar.js';

export interface IniParseResult {
  doc: IniDocument;
  /** Errors only: a file either parses or it doesn't. All of them, not just the first. */
  diagnostics: Diagnostic[];
}

class ValueSyntaxError extends Error {}

/**
 * Bounds on what one config may hold, so that reading any text stays cheap and nothing later
 * (recursion over sections, the model, the renderers) meets a shape no machine has. Each is a
 * diagnostic at the line that crosses it, and reading stops there.
 */
export const INI_LIMITS = {
  /** Characters in the file (1 MiB of ASCII). */
  chars: 1 << 20,
  /** Brackets around a section name. */
  depth: 16,
  /** Keys and sections together. */
  entries: 10_000,
  /** Errors reported before reading stops. */
  errors: 200,
} as const;

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
    let end = raw.length;
    while (end > 0 && (raw[end - 1] === '\n' || raw[end - 1] === '\r')) end--;
    const content = raw.slice(0, end);
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
  const m = matchValue(text);
  if (!m) throw new ValueSyntaxError('badly quoted value or invalid list');
  const listPart = m[1];
  let single: string | undefined = m[2];
  const emptyList = m[3];
  if (listPart === '' && single === undefined) throw new ValueSyntaxError('no value');
  if (emptyList !== undefined) return { value: [], itemOffsets: [] };
  if (single !== undefined) {
    // The pattern also matches '' after a trailing comma; that is not an item.
    if (listPart && !single) single = undefined;
    else single = unquote(single || '""');
  }
  if (!listPart) return { value: single ?? '', itemOffsets: [0] };
  const items: string[] = [];
  const offsets: number[] = [];
  for (const item of findListItems(listPart)) {
    items.push(unquote(item.text));
    offsets.push(item.index);
  }
  if (single !== undefined) {
    items.push(single);
    // group 2 starts where group 1 ends
    offsets.push(listPart.length);
  }
  return { value: items, itemOffsets: offsets };
}

/** Reads a value written as it would be in a file (`a, b` is a list, `"a, b"` one string). */
export function parseValueText(text: string): { ok: true; value: IniValue } | { ok: false; message: string } {
  try {
    // as in a file after `key = `: ConfigObj strips what Python calls blank (not \ufeff, which trim() takes)
    const t = pyStrip(text);
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
  const quote = first.slice(0, 3) as TripleQuote;
  const one = matchTripleSingleLine(quote, first);
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
  const last = matchTripleLastLine(quote, closing);
  if (!last) throw new ValueSyntaxError(`text after the closing ${quote}`);
  return { value: value + last[1]!, endLine: i };
}

/** A name or a line as a message shows it: whole when short, else its start and an ellipsis. */
function shown(s: string, max = 60): string {
  if (s.length <= max) return s;
  const cut = s.slice(0, max - 1);
  return `${/[\ud800-\udbff]$/.test(cut) ? cut.slice(0, -1) : cut}…`;
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
  if (text.length > INI_LIMITS.chars) {
    error('INI_TOO_LARGE', 0, 1, `the config has ${text.length} characters; vmgen reads at most ${INI_LIMITS.chars}`,
      'a machine\'s config is a few KiB: is this the right file?');
    return { doc, diagnostics };
  }
  let entries = 0;
  /** Counts one more key or section; false (with the diagnostic) when that is one too many. */
  const withinEntries = (i: number, column: number): boolean => {
    if (++entries <= INI_LIMITS.entries) return true;
    error('INI_TOO_MANY_ENTRIES', i, column, `more than ${INI_LIMITS.entries} keys and sections; vmgen reads no further`,
      'a machine\'s config has a few hundred at most: is this the right file?');
    return false;
  };

  let current: IniSection = root;
  for (let i = 0; i < lines.length; i++) {
    if (diagnostics.length >= INI_LIMITS.errors) {
      error('INI_TOO_MANY_ERRORS', i, 1, `${INI_LIMITS.errors} errors before this line; vmgen reads no further`, 'is this a config file?');
      break;
    }
    const line = lines[i]!;
    const stripped = pyStrip(line);
    if (!stripped || stripped.startsWith('#')) continue;

    const sec = matchSection(line);
    if (sec) {
      const [, indent, open, rawName, close] = sec as unknown as [string, string, string, string, string];
      const depth = open.split('[').length - 1;
      const column = indent.length + 1;
      if (depth !== close.split(']').length - 1) {
        error('INI_NESTING', i, column, `section header [${shown(pyStrip(rawName))}] has ${depth} '[' but ${close.split(']').length - 1} ']'`,
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
        error('INI_NESTING', i, column, `section [${shown(pyStrip(rawName))}] is nested too deep: ${depth} brackets right after a depth ${current.depth} section`,
          `a subsection has exactly one more bracket than its parent: ${'['.repeat(current.depth + 1)}name${']'.repeat(current.depth + 1)}`);
        continue;
      }
      if (depth > INI_LIMITS.depth) {
        error('INI_TOO_DEEP', i, column, `section [${shown(pyStrip(rawName))}] is nested ${depth} deep; vmgen reads at most ${INI_LIMITS.depth} levels and no further`,
          'a machine\'s config nests three or four levels ([hardware] [[hdds]] [[[hdd0]]] [[[[partitions]]]])');
        break;
      }
      const name = unquote(rawName);
      const nameColumn = indent.length + open.length + 1;
      if (parent.entries.has(name)) {
        const prior = parent.entries.get(name)!;
        error('INI_DUPLICATE_SECTION', i, nameColumn, `duplicate section '${shown(name)}'`,
          `'${shown(name)}' is already defined on line ${prior.line + 1}; merge the two or rename one`);
        continue;
      }
      if (!withinEntries(i, nameColumn)) break;
      const section = newSection(name, depth, parent, i, nameColumn);
      parent.entries.set(name, section);
      current = section;
      continue;
    }

    const kw = matchKeyword(line);
    if (!kw) {
      error('INI_INVALID_LINE', i, firstNonBlankColumn(line), `invalid line: ${JSON.stringify(shown(stripped))} is neither a [section] header nor 'key = value'`,
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
      error('INI_BAD_VALUE', i, valueColumn, `cannot read the value of '${shown(rawKey)}': ${e.message}`,
        "quote a value holding ',' or '#' (\"a, b\"), and close every quote; a list is 'a, b, c'");
      continue;
    }
    const key = unquote(rawKey);
    if (current.entries.has(key)) {
      const prior = current.entries.get(key)!;
      error('INI_DUPLICATE_KEY', i, indent.length + 1, `duplicate key '${shown(key)}'`,
        `'${shown(key)}' is already set on line ${prior.line + 1} of this section`);
      i = endLine;
      continue;
    }
    if (!withinEntries(i, indent.length + 1)) break;
    current.entries.set(key, {
      kind: 'scalar', key, value, line: i, endLine, keyColumn: indent.length + 1, valueColumn, itemColumns,
    });
    i = endLine;
  }
  return { doc, diagnostics };
}
