/**
 * The line grammar of Python's ConfigObj 5 (the seed's parser), ported regex for regex so that vmgen
 * reads every file exactly as ConfigObj does. Two differences between the engines are bridged here:
 * Python's `\s` is str.isspace() (JavaScript's differs in \x1c-\x1f, \x85 and \ufeff), and Python's
 * `.` stops only at '\n' (lines never contain one), which JavaScript's `.` matches with the s flag.
 */
const WS_CHARS = '\\t\\n\\v\\f\\r \\x1c-\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const WS = `[${WS_CHARS}]`;
const NOT_WS = `[^${WS_CHARS}]`;

/** Writes a pattern with Python's \s, \S and [^…\s…] spelled as Python means them. */
function py(pattern: string, flags = ''): RegExp {
  const src = pattern
    .replace(/\[\^([^\]]*)\\s([^\]]*)\]/g, (_m, a: string, b: string) => `[^${a}${WS_CHARS}${b}]`)
    .replace(/\\s/g, WS)
    .replace(/\\S/g, NOT_WS);
  return new RegExp(src, `s${flags}`);
}

/** `key = value`: group 1 indentation, 2 key (maybe quoted), 3 the rest (value and comment). */
export const KEYWORD = py(String.raw`^(\s*)((?:".*?")|(?:'.*?')|(?:[^'"=].*?))\s*=\s*(.*)$`);

/** `[[name]]  # comment`: 1 indentation, 2 opening brackets, 3 name, 4 closing brackets, 5 comment. */
export const SECTION_MARKER = py(
  String.raw`^(\s*)((?:\[\s*)+)((?:"\s*\S.*?\s*")|(?:'\s*\S.*?\s*')|(?:[^'"\s].*?))((?:\s*\])+)\s*(#.*)?$`,
);

/**
 * A value: 1 the list items that end in a comma, 2 the last item or the single value,
 * 3 a lone comma (the empty list), 4 the comment.
 *
 * Python's `(…|(?<!,))?` for group 2 is written `(?:(…|(?<!,))|)` here: JavaScript rejects an
 * iteration of `?` that matches the empty string, so the group would stay undefined where Python
 * sets it to '' (an empty value, `key =`, which ConfigObj reads as '').
 */
export const VALUE = py(
  String.raw`^(?:(?:((?:(?:(?:".*?")|(?:'.*?')|(?:[^'",#][^,#]*?))\s*,\s*)*)(?:((?:".*?")|(?:'.*?')|(?:[^'",#\s][^,]*?)|(?:(?<!,)))|))|(,))\s*(#.*)?$`,
);

/** The members of group 1 of VALUE, found one match at a time. */
export const LIST_ITEM = py(String.raw`((?:".*?")|(?:'.*?')|(?:[^'",#]?.*?))\s*,\s*`, 'gd');

export const TRIPLE_QUOTES = {
  "'''": {
    singleLine: py(String.raw`^'''(.*?)'''\s*(#.*)?$`),
    lastLine: py(String.raw`^(.*?)'''\s*(#.*)?$`),
  },
  '"""': {
    singleLine: py(String.raw`^"""(.*?)"""\s*(#.*)?$`),
    lastLine: py(String.raw`^(.*?)"""\s*(#.*)?$`),
  },
} as const;

const BLANK_EDGES = new RegExp(`^${WS}+|${WS}+$`, 'g');

/** Python's str.strip(). */
export function pyStrip(s: string): string {
  return s.replace(BLANK_EDGES, '');
}

export function isPyWhitespace(ch: string): boolean {
  return new RegExp(`^${WS}$`).test(ch);
}
