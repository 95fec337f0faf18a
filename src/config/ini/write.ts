import type { IniValue, PlainTree } from './document.js';
import { isPyWhitespace, matchKeyword } from './grammar.js';
import { parseValueText } from './parse.js';

/** ConfigObj's quoting (Section._quote with list_values on), so what vmgen writes ConfigObj reads back. */
export class UnquotableError extends Error {}

const WSPACE_PLUS = ' \r\n\v\t\'"';

/**
 * ConfigObj's `c in wspace_plus`, widened to all the whitespace its regexes strip (\s is
 * str.isspace(): '\f', '\xa0', '\u3000', …): a bare value or key with such an edge would come back
 * without it.
 */
const needsQuoteAtEdge = (c: string | undefined): boolean => c === undefined || WSPACE_PLUS.includes(c) || isPyWhitespace(c);

function singleQuote(value: string): string {
  if (value.includes("'") && value.includes('"')) throw new UnquotableError(`value ${JSON.stringify(value)} cannot be safely quoted`);
  return value.includes('"') ? `'${value}'` : `"${value}"`;
}

/**
 * ''' unless the value holds ''' itself. ConfigObj's _get_triple_quote has the two the wrong way
 * round (a value holding """ gets """ around it), which writes a file it cannot read back.
 */
function tripleQuote(value: string): string {
  if (value.includes('"""') && value.includes("'''")) throw new UnquotableError(`value ${JSON.stringify(value)} cannot be safely quoted`);
  return value.includes("'''") ? `"""${value}"""` : `'''${value}'''`;
}

/**
 * The spellings tried when ConfigObj's quoting gives up, checked by reading each back: ConfigObj's
 * rules are stricter than its reader (`a'b"` reads fine bare in a list, and `"x"y"` is x"y as long
 * as no inner quote is followed by a comma), so most values it refuses still have a spelling.
 */
function readBackSpelling(value: string, reads: (spelling: string) => boolean): string {
  for (const spelling of [value, `"${value}"`, `'${value}'`]) if (reads(spelling)) return spelling;
  throw new UnquotableError(`${JSON.stringify(value)} has no spelling that ConfigObj reads back`);
}

const sameList = (text: string, want: string[]): boolean => {
  const r = parseValueText(text);
  return r.ok && Array.isArray(r.value) && r.value.length === want.length && r.value.every((v, i) => v === want[i]);
};

function quoteItem(item: string): string {
  try {
    return quoteValue(item, false);
  } catch (e) {
    if (!(e instanceof UnquotableError) || item.includes('\n')) throw e;
    return readBackSpelling(item, (spelling) => sameList(`${spelling},`, [item]));
  }
}

export function quoteValue(value: IniValue, multiline = true): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return ',';
    const text = value.length === 1 ? `${quoteItem(value[0]!)},` : value.map(quoteItem).join(', ');
    if (!sameList(text, value)) throw new UnquotableError(`the list ${JSON.stringify(value)} has no spelling that ConfigObj reads back`);
    return text;
  }
  if (value === '') return '""';
  const needTriple = multiline && ((value.includes("'") && value.includes('"')) || value.includes('\n'));
  if (needTriple) {
    try {
      return tripleQuote(value);
    } catch (e) {
      // a value on several lines has no spelling but triple quotes
      if (!(e instanceof UnquotableError) || value.includes('\n')) throw e;
      return readBackSpelling(value, (spelling) => {
        const r = parseValueText(spelling);
        return r.ok && r.value === value;
      });
    }
  }
  if (value.includes('\n')) throw new UnquotableError(`a list item cannot span lines: ${JSON.stringify(value)}`);
  const bare = !needsQuoteAtEdge(value[0]) && !needsQuoteAtEdge(value[value.length - 1]) && !value.includes(',');
  if (bare && !value.includes('#')) return value;
  return singleQuote(value);
}

/**
 * Keys are quoted like values, but never as lists or on several lines. Unlike ConfigObj, a name
 * that starts with '[' or ends with ']' is quoted too: bare, `[[a]` or `[a]]` is no section header
 * (and `[a = b]` is one), so ConfigObj could not read back what it wrote.
 */
export function quoteKey(key: string): string {
  const needs = key.includes('=') || needsQuoteAtEdge(key[0]) || needsQuoteAtEdge(key[key.length - 1]) || key.includes('#') || key.includes(',')
    || key.startsWith('[') || key.endsWith(']');
  if (!needs) return key;
  try {
    return singleQuote(key);
  } catch (e) {
    if (!(e instanceof UnquotableError) || key.includes('\n')) throw e;
    return readBackSpelling(key, (spelling) => {
      const kw = matchKeyword(`${spelling} = x`);
      const raw = kw?.[2];
      return raw !== undefined && unquoteKey(raw) === key;
    });
  }
}

/** ConfigObj's _unquote as applied to a key. */
function unquoteKey(raw: string): string {
  return raw.length >= 2 && raw[0] === raw[raw.length - 1] && (raw[0] === '"' || raw[0] === "'") ? raw.slice(1, -1) : raw;
}

/** Writes a tree as ConfigObj.write does: scalars before subsections, one indent level per depth. */
export function writeTree(tree: PlainTree, indent = '    ', depth = 0): string {
  const pad = indent.repeat(Math.max(0, depth - 1));
  const inner = indent.repeat(depth);
  let out = '';
  const entries = Object.entries(tree);
  for (const [key, value] of entries) {
    if (typeof value === 'string' || Array.isArray(value)) out += `${inner}${quoteKey(key)} = ${quoteValue(value)}\n`;
  }
  for (const [key, value] of entries) {
    if (typeof value === 'string' || Array.isArray(value)) continue;
    const brackets = depth + 1;
    out += `${pad}${depth > 0 ? indent : ''}${'['.repeat(brackets)}${quoteKey(key)}${']'.repeat(brackets)}\n`;
    out += writeTree(value, indent, depth + 1);
  }
  return out;
}
