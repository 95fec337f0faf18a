/**
 * The line grammar of Python's ConfigObj 5 (the seed's parser), without its regular expressions.
 *
 * ConfigObj's patterns (_keyword, _sectionmarker, _valueexp, _listvalueexp, _triple_quote) backtrack:
 * `dns = ` then `a ,` ×28 then `'` took 16 s, doubling with each item, and a line of 256 KiB of '['
 * took 31 s. A regex engine that blocks also blocks the process (a SIGTERM handler never runs).
 * Each matcher here returns exactly the groups Python's backtracking engine returns, found with
 * tables computed in one pass from the right: each table answers "is there a match that starts
 * here" for every position at once, so a line costs time linear in its length.
 *
 * The function comments give each pattern verbatim and the argument why the first match the
 * backtracking engine finds is the one computed. Python's `\s` is str.isspace(), which JavaScript's
 * `\s` is not (\x1c-\x1f, \x85, \ufeff differ); lines never contain '\n' (ConfigObj splits there).
 */

/** A match in RegExp.exec's shape: [whole, group 1, group 2, …], undefined for a group that took no part. */
export type Groups = Array<string | undefined>;

/** Python's str.isspace() for one UTF-16 code unit: every whitespace character is in the BMP. */
export function isPyWhitespaceCode(code: number): boolean {
  return (code >= 9 && code <= 13) || code === 32 || (code >= 0x1c && code <= 0x1f) || code === 0x85 || code === 0xa0
    || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) || code === 0x2028 || code === 0x2029 || code === 0x202f
    || code === 0x205f || code === 0x3000;
}

export function isPyWhitespace(ch: string): boolean {
  return ch.length === 1 && isPyWhitespaceCode(ch.charCodeAt(0));
}

/**
 * s[i] without reading past either end: an index out of range makes V8 drop its optimized code for
 * the loop, which made a 256 KiB line take 150 ms instead of 2.
 */
const charAt = (s: string, i: number): string | undefined => (i >= 0 && i < s.length ? s[i] : undefined);

const isWs = (s: string, i: number): boolean => i < s.length && isPyWhitespaceCode(s.charCodeAt(i));

/** Python's str.strip(). */
export function pyStrip(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isWs(s, start)) start++;
  while (end > start && isWs(s, end - 1)) end--;
  return s.slice(start, end);
}

/** First position at or after i that is not whitespace (s.length if none). */
function skipWs(s: string, i: number): number {
  while (i < s.length && isWs(s, i)) i++;
  return i;
}

/** The start of the run of whitespace that ends right before position i. */
function wsRunStart(s: string, i: number): number {
  while (i > 0 && isWs(s, i - 1)) i--;
  return i;
}

/** For every position i: the first position at or after i that is not whitespace. */
function skipWsTable(s: string): Int32Array {
  const t = new Int32Array(s.length + 2);
  t[s.length] = s.length;
  t[s.length + 1] = s.length;
  for (let i = s.length - 1; i >= 0; i--) t[i] = isWs(s, i) ? t[i + 1]! : i;
  return t;
}

/** For every position i: does `\s*(#.*)?$` match at i. */
function commentEndTable(s: string, skip: Int32Array): Uint8Array {
  const t = new Uint8Array(s.length + 2);
  for (let i = 0; i <= s.length; i++) {
    const j = skip[i]!;
    t[i] = j === s.length || charAt(s, j) === '#' ? 1 : 0;
  }
  return t;
}

/** For every position i: the first position at or after i holding one of `chars` (s.length if none). */
function nextOfTable(s: string, chars: string): Int32Array {
  const t = new Int32Array(s.length + 2);
  t[s.length] = s.length;
  t[s.length + 1] = s.length;
  for (let i = s.length - 1; i >= 0; i--) t[i] = chars.includes(s[i]!) ? i : t[i + 1]!;
  return t;
}

/** The comment that `\s*(#.*)?$` captures at position i (known to match there). */
function commentAt(s: string, i: number): string | undefined {
  const j = skipWs(s, i);
  return j < s.length ? s.slice(j) : undefined;
}

/** For every position i: the first q ≥ i where s[q] is `quote` and `good(q)` holds (-1 if none). */
function quoteTable(s: string, quote: string, good: (q: number) => boolean): Int32Array {
  const t = new Int32Array(s.length + 2).fill(-1);
  for (let i = s.length - 1; i >= 0; i--) t[i] = charAt(s, i) === quote && good(i) ? i : t[i + 1]!;
  return t;
}

const isQuote = (c: string | undefined): c is '"' | "'" => c === '"' || c === "'";

/**
 * `^(\s*)((?:".*?")|(?:'.*?')|(?:[^'"=].*?))\s*=\s*(.*)$` — 1 indentation, 2 key, 3 value.
 *
 * The greedy indentation first takes all leading blanks (w). A quoted key then ends at the first
 * closing quote followed by blanks and '='; a bare key at the first '=' after its first character,
 * less the blanks before it. Only when that fails does the engine give back one blank, which then
 * starts a bare key: that needs an '=' at or after w, and if that fails too, every shorter
 * indentation fails for the same reason. The value is the rest after '=' and its blanks.
 */
export function matchKeyword(line: string): Groups | null {
  const n = line.length;
  const w = skipWs(line, 0);
  const keyAt = (start: number): { end: number; eq: number } | null => {
    const c = charAt(line, start);
    if (c === undefined || c === '=') return null;
    if (isQuote(c)) {
      for (let q = line.indexOf(c, start + 1); q !== -1; q = line.indexOf(c, q + 1)) {
        const eq = skipWs(line, q + 1);
        if (charAt(line, eq) === '=') return { end: q + 1, eq };
      }
      return null;
    }
    const eq = line.indexOf('=', start + 1);
    if (eq === -1) return null;
    return { end: Math.max(start + 1, wsRunStart(line, eq)), eq };
  };
  let indent = w;
  let key = w < n ? keyAt(w) : null;
  if (!key && w > 0) {
    indent = w - 1;
    key = keyAt(w - 1);
  }
  if (!key) return null;
  return [line, line.slice(0, indent), line.slice(indent, key.end), line.slice(skipWs(line, key.eq + 1))];
}

/**
 * `^(\s*)((?:\[\s*)+)((?:"\s*\S.*?\s*")|(?:'\s*\S.*?\s*')|(?:[^'"\s].*?))((?:\s*\])+)\s*(#.*)?$`
 * — 1 indentation, 2 opening brackets, 3 name, 4 closing brackets, 5 comment.
 *
 * The indentation must take every leading blank, or '[' cannot follow. The opening group first
 * takes all k brackets with their blanks; when no name fits, it gives back the blanks of its last
 * bracket (a name cannot start with a blank) and then whole brackets, so the name starts at the
 * bracket given back: k, k-1, …, 1 brackets, in that order. After a name ending at e, the rest
 * `((?:\s*\])+)\s*(#.*)?$` matches exactly when the longest run of blanks and ']' from e holds a ']'
 * and is followed by the end or '#'; the closing group then holds every ']' of that run. A bare
 * name is lazy: it ends at the first such e. A quoted name opens with the quote, blanks, one
 * character that is not blank, and ends at the first quote after that which such an e follows.
 */
export function matchSection(line: string): Groups | null {
  const n = line.length;
  const w = skipWs(line, 0);
  if (charAt(line, w) !== '[') return null;
  // starts[k - 1]: where the name starts when the opening group keeps k brackets
  const starts = new Int32Array(n);
  let brackets = 0;
  for (let i = w; charAt(line, i) === '['; ) {
    i = skipWs(line, i + 1);
    starts[brackets++] = i;
  }
  // runEnd[e]: end of the run of blanks and ']' from e; bracketIn[e]: the run holds a ']'.
  const runEnd = new Int32Array(n + 1);
  const bracketIn = new Uint8Array(n + 1);
  runEnd[n] = n;
  for (let i = n - 1; i >= 0; i--) {
    const inRun = charAt(line, i) === ']' || isWs(line, i);
    runEnd[i] = inRun ? runEnd[i + 1]! : i;
    bracketIn[i] = inRun && (charAt(line, i) === ']' || bracketIn[i + 1] === 1) ? 1 : 0;
  }
  const closes = (e: number): boolean => bracketIn[e] === 1 && (runEnd[e] === n || charAt(line, runEnd[e]!) === '#');
  // Tables from the right: the first e ≥ i that closes, and the first quote q ≥ i with q+1 closing.
  const firstClose = new Int32Array(n + 2).fill(-1);
  const firstDq = new Int32Array(n + 2).fill(-1);
  const firstSq = new Int32Array(n + 2).fill(-1);
  for (let i = n; i >= 0; i--) {
    firstClose[i] = closes(i) ? i : firstClose[i + 1]!;
    firstDq[i] = charAt(line, i) === '"' && closes(i + 1) ? i : firstDq[i + 1]!;
    firstSq[i] = charAt(line, i) === "'" && closes(i + 1) ? i : firstSq[i + 1]!;
  }
  for (let k = brackets; k >= 1; k--) {
    const s = starts[k - 1]!;
    const c = charAt(line, s);
    let end = -1;
    if (c === undefined || isWs(line, s)) continue;
    if (isQuote(c)) {
      const b = skipWs(line, s + 1);
      if (b >= n) continue;
      const q = (c === '"' ? firstDq : firstSq)[b + 1]!;
      if (q !== -1) end = q + 1;
    } else {
      end = firstClose[s + 1]!;
    }
    if (end === -1) continue;
    const run = runEnd[end]!;
    const lastBracket = line.lastIndexOf(']', run - 1);
    return [line, line.slice(0, w), line.slice(w, s), line.slice(s, end), line.slice(end, lastBracket + 1),
      run < n ? line.slice(run) : undefined];
  }
  return null;
}

/**
 * ConfigObj's _valueexp:
 * `^(?:(?:((?:(?:(?:".*?")|(?:'.*?')|(?:[^'",#][^,#]*?))\s*,\s*)*)((?:".*?")|(?:'.*?')|(?:[^'",#\s][^,]*?)|(?:(?<!,)))?)|(,))\s*(#.*)?$`
 * — 1 the list items that end in a comma, 2 the last item or the single value, 3 a lone comma
 * (the empty list), 4 the comment. Group 2 is '' where its empty alternative matched.
 *
 * The engine's search, depth first: at a position, the starred group first tries another item
 * (for a quoted item, each closing quote followed by blanks and a comma, nearest first; for a bare
 * one, only the first ',' or '#' matters, since every end it can choose before that comma leads to
 * the same comma), continuing after the comma and all blanks after it; only when everything from
 * there fails does it give back blanks after the comma — and a blank can start a bare item, which
 * is how `a, "b, c` reads as ['a', '"b', 'c']. Only then does it leave the star and try group 2.
 * Whether a position leads to a match depends on the position alone, so the search becomes two
 * tables filled from the right (ok[i]: the star at i leads to a match; afterComma[c]: going on
 * after the comma at c does), and the engine's first match is then read off from the left.
 */
export function matchValue(v: string): Groups | null {
  const n = v.length;
  const skip = skipWsTable(v);
  const endOk = commentEndTable(v, skip);
  const nextCommaHash = nextOfTable(v, ',#');
  const nextComma = nextOfTable(v, ',');
  const firstEnd = new Int32Array(n + 2);
  firstEnd[n] = n;
  firstEnd[n + 1] = n;
  for (let i = n - 1; i >= 0; i--) firstEnd[i] = endOk[i] ? i : firstEnd[i + 1]!;
  // endingDq[i]: the first '"' at or after i that only blanks and a comment follow.
  const endingDq = quoteTable(v, '"', (q) => endOk[q + 1] === 1);
  const endingSq = quoteTable(v, "'", (q) => endOk[q + 1] === 1);
  // Where the value ends when the star is left at pos (-1: group 2 and the comment do not match).
  const exitEnd = (pos: number): number => {
    const c = charAt(v, pos);
    if (c === undefined || c === '#' || isWs(v, pos)) return endOk[pos] ? pos : -1;
    if (c === ',') return -1;
    if (isQuote(c)) {
      const q = (c === '"' ? endingDq : endingSq)[pos + 1]!;
      return q === -1 ? -1 : q + 1;
    }
    const e = firstEnd[pos + 1]!;
    return e <= nextComma[pos + 1]! ? e : -1;
  };
  const ok = new Uint8Array(n + 2);
  const afterComma = new Uint8Array(n + 2);
  /** The comma the star's next item at i ends with (-1: none), when it leads to a match. */
  const itemComma = new Int32Array(n + 2).fill(-1);
  // goodDq[i]: the first '"' at or after i that closes an item whose comma leads to a match.
  const goodDq = new Int32Array(n + 2).fill(-1);
  const goodSq = new Int32Array(n + 2).fill(-1);
  const exitCache = new Int32Array(n + 2).fill(-2);
  for (let i = n; i >= 0; i--) {
    const c = charAt(v, i);
    if (c === ',') {
      const p = skip[i + 1]!;
      afterComma[i] = ok[p] || (p > i + 1 && ok[p - 1]) ? 1 : 0;
    }
    const closesGood = i < n && charAt(v, skip[i + 1]!) === ',' && afterComma[skip[i + 1]!] === 1;
    goodDq[i] = c === '"' && closesGood ? i : goodDq[i + 1]!;
    goodSq[i] = c === "'" && closesGood ? i : goodSq[i + 1]!;
    if (isQuote(c)) {
      const q = (c === '"' ? goodDq : goodSq)[i + 1]!;
      if (q !== -1) itemComma[i] = skip[q + 1]!;
    } else if (c !== undefined && c !== ',' && c !== '#') {
      const f = nextCommaHash[i + 1]!;
      if (charAt(v, f) === ',' && afterComma[f]) itemComma[i] = f;
    }
    if (itemComma[i] !== -1) ok[i] = 1;
    else {
      exitCache[i] = exitEnd(i);
      ok[i] = exitCache[i] !== -1 ? 1 : 0;
    }
  }
  if (ok[0]) {
    let pos = 0;
    while (itemComma[pos] !== -1) {
      const p = skip[itemComma[pos]! + 1]!;
      pos = ok[p] ? p : p - 1;
    }
    const end = exitCache[pos]!;
    // the empty alternative of group 2 is (?<!,): after a comma, group 2 takes no part at all
    const single = end > pos ? v.slice(pos, end) : charAt(v, pos - 1) === ',' ? undefined : '';
    return [v, v.slice(0, pos), single, undefined, commentAt(v, end)];
  }
  if (charAt(v, 0) === ',' && endOk[1]) return [v, undefined, undefined, ',', commentAt(v, 1)];
  return null;
}

/**
 * `re.findall` of ConfigObj's _listvalueexp, `((?:".*?")|(?:'.*?')|(?:[^'",#]?.*?))\s*,\s*`, over the
 * list part of a value: each item with its offset. A quoted item ends at the first closing quote
 * followed by blanks and a comma; otherwise the item runs to the first comma (after its first
 * character, which the optional class takes when it can), less the blanks before that comma. Where
 * no comma is left, nothing matches any more.
 */
export function findListItems(list: string): Array<{ text: string; index: number }> {
  const n = list.length;
  const skip = skipWsTable(list);
  const nextComma = nextOfTable(list, ',');
  const commaAfter = (q: number): boolean => charAt(list, skip[q + 1]!) === ',';
  const closingDq = quoteTable(list, '"', commaAfter);
  const closingSq = quoteTable(list, "'", commaAfter);
  const items: Array<{ text: string; index: number }> = [];
  let p = 0;
  while (p < n && nextComma[p]! < n) {
    const c = charAt(list, p);
    if (isQuote(c)) {
      const q = (c === '"' ? closingDq : closingSq)[p + 1]!;
      if (q !== -1) {
        items.push({ text: list.slice(p, q + 1), index: p });
        p = skip[skip[q + 1]! + 1]!;
        continue;
      }
    }
    const takesFirst = !isQuote(c) && c !== ',' && c !== '#';
    const comma = nextComma[takesFirst ? p + 1 : p]!;
    const end = Math.max(takesFirst ? p + 1 : p, wsRunStart(list, comma));
    items.push({ text: list.slice(p, end), index: p });
    p = skip[comma + 1]!;
  }
  return items;
}

export type TripleQuote = "'''" | '"""';

/** `^'''(.*?)'''\s*(#.*)?$` (or with """): 1 the value, 2 the comment. */
export function matchTripleSingleLine(quote: TripleQuote, s: string): Groups | null {
  if (!s.startsWith(quote)) return null;
  return closingTriple(quote, s, 3, 3);
}

/** `^(.*?)'''\s*(#.*)?$` (or with """): 1 the value's last line, 2 the comment. */
export function matchTripleLastLine(quote: TripleQuote, s: string): Groups | null {
  return closingTriple(quote, s, 0, 0);
}

/** The first closing quote at or after `from` that only blanks and a comment follow. */
function closingTriple(quote: TripleQuote, s: string, valueStart: number, from: number): Groups | null {
  const endOk = commentEndTable(s, skipWsTable(s));
  for (let q = s.indexOf(quote, from); q !== -1; q = s.indexOf(quote, q + 1)) {
    if (endOk[q + 3]) return [s, s.slice(valueStart, q), commentAt(s, q + 3)];
  }
  return null;
}

/** The matchers in RegExp's shape, for code that reads a group of a line. */
export interface LineMatcher {
  exec(s: string): Groups | null;
  test(s: string): boolean;
}

const matcher = (exec: (s: string) => Groups | null): LineMatcher => ({ exec, test: (s) => exec(s) !== null });

export const KEYWORD = matcher(matchKeyword);
export const SECTION_MARKER = matcher(matchSection);
export const VALUE = matcher(matchValue);
export const TRIPLE_QUOTES = {
  "'''": { singleLine: matcher((s) => matchTripleSingleLine("'''", s)), lastLine: matcher((s) => matchTripleLastLine("'''", s)) },
  '"""': { singleLine: matcher((s) => matchTripleSingleLine('"""', s)), lastLine: matcher((s) => matchTripleLastLine('"""', s)) },
} as const;
