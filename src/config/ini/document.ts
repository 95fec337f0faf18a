/**
 * The concrete syntax tree of a config file: every line as written (so an untouched file serializes
 * back byte for byte) plus the ConfigObj tree of sections and values with their places in the file.
 */
export type IniValue = string | string[];

export interface IniScalar {
  readonly kind: 'scalar';
  key: string;
  value: IniValue;
  /** 0-based index of the line holding `key =`. */
  line: number;
  /** 0-based index of the last line of the value (differs for triple-quoted multi-line values). */
  endLine: number;
  /** 1-based columns of the key and of the value's first character. */
  keyColumn: number;
  valueColumn: number;
  /** 1-based columns of each list item, when the value is a list. */
  itemColumns: number[];
}

export interface IniSection {
  readonly kind: 'section';
  name: string;
  /** Number of brackets around the name; the root is 0. */
  depth: number;
  parent: IniSection | null;
  /** 0-based index of the `[name]` line; -1 for the root. */
  line: number;
  nameColumn: number;
  entries: Map<string, IniEntry>;
}

export type IniEntry = IniScalar | IniSection;

export interface IniDocument {
  /** Line contents without their terminators. */
  lines: string[];
  /** Each line's terminator as read ('\n', '\r\n', … or '' for a last line without one). */
  eols: string[];
  bom: boolean;
  root: IniSection;
}

export function newSection(name: string, depth: number, parent: IniSection | null, line: number, nameColumn: number): IniSection {
  return { kind: 'section', name, depth, parent, line, nameColumn, entries: new Map() };
}

export function serializeDocument(doc: IniDocument): string {
  let out = doc.bom ? '\ufeff' : '';
  for (let i = 0; i < doc.lines.length; i++) out += doc.lines[i]! + (doc.eols[i] ?? '');
  return out;
}

/** Sections in file order below (and excluding) `section`. */
export function* walkSections(section: IniSection): Generator<IniSection> {
  for (const entry of section.entries.values()) {
    if (entry.kind === 'section') {
      yield entry;
      yield* walkSections(entry);
    }
  }
}

/** The last line index that belongs to `section`, its values and all its subsections. */
export function lastLineOf(section: IniSection): number {
  let last = section.line;
  for (const entry of section.entries.values()) {
    last = Math.max(last, entry.kind === 'section' ? lastLineOf(entry) : entry.endLine);
  }
  return last;
}

export function sectionPath(section: IniSection): string[] {
  const path: string[] = [];
  for (let s: IniSection | null = section; s && s.parent; s = s.parent) path.unshift(s.name);
  return path;
}

/** A plain, JSON-ready tree: sections as objects, values as strings or arrays of strings. */
export type PlainTree = { [key: string]: string | string[] | PlainTree };

export function toPlain(section: IniSection): PlainTree {
  const out: PlainTree = {};
  for (const [key, entry] of section.entries) {
    setOwn(out, key, entry.kind === 'section' ? toPlain(entry) : entry.value);
  }
  return out;
}

/** Assignment that treats every key as data: a config key named __proto__ must not set a prototype. */
export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * JSON with the file's key order. JSON.stringify would move integer-like keys ("0", "1") first,
 * which ConfigObj never does.
 */
export function toOrderedJson(section: IniSection, indent = 2, level = 0): string {
  const pad = ' '.repeat(indent * (level + 1));
  const end = ' '.repeat(indent * level);
  const parts: string[] = [];
  for (const [key, entry] of section.entries) {
    const value = entry.kind === 'section' ? toOrderedJson(entry, indent, level + 1) : JSON.stringify(entry.value);
    parts.push(`${pad}${JSON.stringify(key)}: ${value}`);
  }
  return parts.length === 0 ? '{}' : `{\n${parts.join(',\n')}\n${end}}`;
}
