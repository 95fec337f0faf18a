import type { IniValue, PlainTree } from './document.js';
import { isPyWhitespace } from './regex.js';

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

export function quoteValue(value: IniValue, multiline = true): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return ',';
    if (value.length === 1) return `${quoteValue(value[0]!, false)},`;
    return value.map((v) => quoteValue(v, false)).join(', ');
  }
  if (value === '') return '""';
  const needTriple = multiline && ((value.includes("'") && value.includes('"')) || value.includes('\n'));
  if (needTriple) return tripleQuote(value);
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
  return needs ? singleQuote(key) : key;
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
