import { VmgenError } from '../../errors.js';
import { CONTAINER_RULES, flatItemRule, pathMatches, type ContainerRule } from '../normalize.js';
import {
  lastLineOf, newSection, serializeDocument, walkSections,
  type IniDocument, type IniEntry, type IniScalar, type IniSection, type IniValue,
} from './document.js';
import { KEYWORD, TRIPLE_QUOTES, VALUE } from './grammar.js';
import { quoteKey, quoteValue, UnquotableError } from './write.js';

/**
 * In-place edits of a config file (vmgctl, vmgen set/unset). Only the lines that change are
 * touched: comments, order, indentation and line endings of everything else stay byte for byte.
 * Paths are logical (`hardware.hdds.hdd1.size`), and resolve through both nesting forms: the
 * nested one (`[[hdds]]` holding `[[[hdd0]]]`) and the flat one (`[[hdds]]` followed by a sibling
 * `[[hdd0]]`), exactly as src/config/normalize.ts reads them.
 */

const SEGMENT = /^[A-Za-z0-9_-]+$/;

export function parseKeyPath(text: string): string[] {
  const segments = text.split('.');
  for (const s of segments) {
    if (!SEGMENT.test(s)) {
      throw new VmgenError('VMG_KEY_PATH', `'${text}' is not a key path`, { hint: 'write section.subsection.key, with letters, digits, _ and - in each name' });
    }
  }
  return segments;
}

// ---- the logical view of the physical tree --------------------------------------------------

/**
 * Containers that the file never opened: only their flat items exist (`[[hdd0]]` right under
 * [hardware], no `[[hdds]]`). normalize reads such items into the container all the same, so the
 * editor stands in a section for it; it is in no parent's entries and has no line of its own.
 */
const virtualContainers = new WeakSet<IniSection>();

function scalars(section: IniSection): IniScalar[] {
  return [...section.entries.values()].filter((e): e is IniScalar => e.kind === 'scalar');
}

function subsections(section: IniSection): IniSection[] {
  return [...section.entries.values()].filter((e): e is IniSection => e.kind === 'section');
}

/** The rule that moves `section` out of its physical parent into a container, if it is a flat item. */
function itemRule(section: IniSection): ContainerRule | undefined {
  if (!section.parent || virtualContainers.has(section)) return undefined;
  return flatItemRule(section.parent, logicalPath(section.parent), section.name);
}

/** Where the model sees a section: flat items sit inside their container. */
function logicalPath(section: IniSection): string[] {
  if (!section.parent) return [];
  const parentPath = logicalPath(section.parent);
  const rule = itemRule(section);
  return rule ? [...parentPath, rule.container, section.name] : [...parentPath, section.name];
}

/** The container rule a section is, if the model treats it as one at this place. */
function containerRule(section: IniSection): ContainerRule | undefined {
  if (!section.parent) return undefined;
  const at = logicalPath(section.parent);
  return CONTAINER_RULES.find((r) => r.container === section.name && pathMatches(r.at, at));
}

/** Items that the flat form writes beside `container` (in its physical parent) instead of inside it. */
function flatItems(container: IniSection): IniSection[] {
  const rule = containerRule(container);
  const host = container.parent;
  if (!rule || !host) return [];
  return subsections(host).filter(
    (e) => e !== container && itemRule(e)?.container === rule.container && !container.entries.has(e.name),
  );
}

function child(section: IniSection, name: string): IniEntry | undefined {
  const direct = section.entries.get(name);
  if (direct) {
    // A flat item is logically inside its container, not here.
    return direct.kind === 'section' && itemRule(direct) ? undefined : direct;
  }
  const item = flatItems(section).find((s) => s.name === name);
  if (item) return item;
  const at = logicalPath(section);
  if (CONTAINER_RULES.some((r) => r.container === name && pathMatches(r.at, at))) {
    const items = subsections(section).filter((s) => itemRule(s)?.container === name);
    if (items.length > 0) {
      const stand = newSection(name, section.depth + 1, section, items[0]!.line, items[0]!.nameColumn);
      virtualContainers.add(stand);
      return stand;
    }
  }
  return undefined;
}

/** A copy of `section` with the model's entries: flat items moved into their containers. */
function logicalSection(section: IniSection): IniSection {
  const out = newSection(section.name, section.depth, section.parent, section.line, section.nameColumn);
  for (const entry of section.entries.values()) {
    if (entry.kind === 'scalar') {
      out.entries.set(entry.key, entry);
      continue;
    }
    const rule = itemRule(entry);
    if (!rule) out.entries.set(entry.name, logicalSection(entry));
    else if (!section.entries.has(rule.container) && !out.entries.has(rule.container)) {
      // A container the file never opened appears where its first item does.
      const stand = child(section, rule.container);
      if (stand?.kind === 'section') out.entries.set(rule.container, logicalSection(stand));
    }
  }
  for (const item of flatItems(section)) {
    if (!out.entries.has(item.name)) out.entries.set(item.name, logicalSection(item));
  }
  return out;
}

export interface Resolved {
  /** The deepest existing section along the path. */
  section: IniSection;
  /** Path segments below `section` that do not exist yet (the last one may be a key). */
  missing: string[];
  entry?: IniEntry;
}

export function resolve(doc: IniDocument, path: readonly string[]): Resolved {
  let section = doc.root;
  for (let i = 0; i < path.length; i++) {
    const next = child(section, path[i]!);
    if (!next) return { section, missing: path.slice(i) };
    if (next.kind === 'scalar') {
      if (i === path.length - 1) return { section, missing: [], entry: next };
      throw new VmgenError('VMG_KEY_PATH', `'${path.slice(0, i + 1).join('.')}' is a value, not a section`, {
        hint: `'${path.join('.')}' cannot be below it`,
      });
    }
    section = next;
  }
  return { section, missing: [], entry: section };
}

/** A value, or a section as the model sees it (flat items inside their containers). */
export function getValue(doc: IniDocument, path: readonly string[]): IniValue | IniSection | undefined {
  const r = resolve(doc, path);
  if (!r.entry) return undefined;
  return r.entry.kind === 'scalar' ? r.entry.value : logicalSection(r.entry);
}

// ---- line surgery -------------------------------------------------------------------------

function indentOf(line: string): string {
  return /^[ \t]*/.exec(line)![0];
}

/**
 * The file's indentation step, from the first indented line. A file that has keys in sections but
 * indents nothing does not indent; an empty one gets four spaces.
 */
function indentUnit(doc: IniDocument): string {
  let content = false;
  for (const line of doc.lines) {
    const ind = indentOf(line);
    if (!line.trim() || line.trim().startsWith('#')) continue;
    if (ind) return ind;
    if (!line.trim().startsWith('[')) content = true;
  }
  return content && subsections(doc.root).length > 0 ? '' : '    ';
}

function eolFor(doc: IniDocument, index: number): string {
  return doc.eols[index] || doc.eols.find((e) => e) || '\n';
}

function insertLines(doc: IniDocument, at: number, lines: string[]): void {
  const eol = eolFor(doc, Math.max(0, at - 1));
  // A last line without a terminator gets one, or the new lines would join it; the new last line
  // goes without one, as the file did.
  const atUnterminatedEnd = at > 0 && at === doc.lines.length && !doc.eols[at - 1];
  doc.lines.splice(at, 0, ...lines);
  doc.eols.splice(at, 0, ...lines.map(() => eol));
  if (atUnterminatedEnd) {
    doc.eols[at - 1] = eol;
    doc.eols[at + lines.length - 1] = '';
  }
}

function removeLines(doc: IniDocument, from: number, to: number): void {
  // Removing the unterminated last line leaves the line before it as the unterminated last one.
  const unterminatedEnd = to === doc.lines.length - 1 && !doc.eols[to];
  doc.lines.splice(from, to - from + 1);
  doc.eols.splice(from, to - from + 1);
  if (unterminatedEnd && from > 0) doc.eols[from - 1] = '';
}

const brackets = (name: string, depth: number): string => `${'['.repeat(depth)}${quoteKey(name)}${']'.repeat(depth)}`;

/** The first entry that is written inside `section` (flat items of other containers are not). */
function firstInner(section: IniSection): IniEntry | undefined {
  return scalars(section)[0] ?? subsections(section).find((s) => !itemRule(s));
}

/** How much deeper than its header a section's keys and subsections are written. */
function offsetOf(doc: IniDocument, section: IniSection): string | undefined {
  const first = firstInner(section);
  if (!first || section.line < 0 || virtualContainers.has(section)) return undefined;
  const header = indentOf(doc.lines[section.line]!);
  const inner = indentOf(doc.lines[first.line]!);
  return inner.startsWith(header) ? inner.slice(header.length) : undefined;
}

/** A logical path with item names replaced by '*': hardware.hdds.*.partitions.* */
function patternOf(path: readonly string[]): string {
  return path
    .map((seg, i) => (i > 0 && CONTAINER_RULES.some((r) => r.container === path[i - 1] && pathMatches(r.at, path.slice(0, i - 1)) && r.item.test(seg)) ? '*' : seg))
    .join('\u0000');
}

/**
 * The offset an existing section of the same kind (same logical pattern and depth) uses, so a new
 * `[[hdd1]]` is indented like `[[hdd0]]` and a new `[[[[partition0]]]]` like the file's others.
 */
function analogOffset(doc: IniDocument, path: readonly string[], depth: number): string | undefined {
  const pattern = patternOf(path);
  for (const s of walkSections(doc.root)) {
    if (s.depth !== depth || patternOf(logicalPath(s)) !== pattern) continue;
    const offset = offsetOf(doc, s);
    if (offset !== undefined) return offset;
  }
  return undefined;
}

/** Indentation of a line written inside an existing (physical) section. */
function contentIndent(doc: IniDocument, section: IniSection): string {
  if (section.line < 0) return '';
  const first = firstInner(section);
  if (first) return indentOf(doc.lines[first.line]!);
  return indentOf(doc.lines[section.line]!) + (analogOffset(doc, logicalPath(section), section.depth) ?? indentUnit(doc));
}

function replaceValue(doc: IniDocument, scalar: IniScalar, quoted: string): void {
  const first = doc.lines[scalar.line]!;
  const rest = KEYWORD.exec(first)![3]!;
  const prefix = first.slice(0, first.length - rest.length);
  // Keep the inline comment and the blanks before it.
  const last = doc.lines[scalar.endLine]!;
  const triple = rest.startsWith("'''") ? "'''" : rest.startsWith('"""') ? '"""' : undefined;
  let comment: string | undefined;
  if (!triple) comment = VALUE.exec(rest)?.[4];
  else if (scalar.endLine === scalar.line) comment = TRIPLE_QUOTES[triple].singleLine.exec(rest)?.[2];
  else comment = TRIPLE_QUOTES[triple].lastLine.exec(last)?.[2];
  let tail = '';
  if (comment) {
    const before = last.slice(0, last.length - comment.length);
    tail = /[ \t]*$/.exec(before)![0] + comment;
  }
  // A triple-quoted value may span lines: each gets the file's line terminator.
  const parts = `${prefix}${quoted}${tail}`.split('\n');
  const keyEol = eolFor(doc, scalar.line);
  const lastEol = doc.eols[scalar.endLine]!;
  const count = scalar.endLine - scalar.line + 1;
  doc.lines.splice(scalar.line, count, ...parts);
  doc.eols.splice(scalar.line, count, ...parts.map((_, i) => (i === parts.length - 1 ? lastEol : keyEol)));
}

/** Where a new key line goes in `section`: after its own values, before its first subsection. */
function keyInsertionLine(section: IniSection): number {
  const own = scalars(section);
  if (own.length > 0) return Math.max(...own.map((s) => s.endLine)) + 1;
  return section.line + 1;
}

/** Where the first missing section (or key) below `section` is written. */
interface Plan {
  /** Line index the new lines are inserted at. */
  at: number;
  /** Lines that come before the new section (a container header the file never wrote). */
  lines: string[];
  /** Brackets of the first new header. */
  depth: number;
  /** Indentation of the first new header (or of the key, when only a key is missing). */
  indent: string;
  /** Physical parent of the first new entry, to refuse a name that is already taken. */
  parent: IniSection;
}

function sectionPlan(doc: IniDocument, section: IniSection, name: string | undefined): Plan {
  const rule = containerRule(section);
  const flat = name !== undefined && rule?.item.test(name) ? flatItems(section) : [];
  if (flat.length > 0 && subsections(section).length === 0) {
    // The flat form: the new item is one more sibling after the last one.
    const last = flat[flat.length - 1]!;
    return { at: lastLineOf(last) + 1, lines: [], depth: last.depth, indent: indentOf(doc.lines[last.line]!), parent: section.parent! };
  }
  if (virtualContainers.has(section)) {
    // Open the container the file never wrote, right before its first item.
    const first = flatItems(section)[0]!;
    const header = indentOf(doc.lines[first.line]!);
    const inner = header + (analogOffset(doc, logicalPath(section), section.depth) ?? indentUnit(doc));
    return { at: first.line, lines: [`${header}${brackets(section.name, section.depth)}`], depth: section.depth + 1, indent: inner, parent: section };
  }
  if (name === undefined) {
    return { at: keyInsertionLine(section), lines: [], depth: section.depth + 1, indent: contentIndent(doc, section), parent: section };
  }
  const siblings = subsections(section).filter((s) => !itemRule(s));
  const sibling = siblings[siblings.length - 1];
  return {
    at: lastLineOf(section) + 1,
    lines: [],
    depth: section.depth + 1,
    indent: sibling ? indentOf(doc.lines[sibling.line]!) : contentIndent(doc, section),
    parent: section,
  };
}

function refuseTaken(parent: IniSection, name: string, path: readonly string[]): void {
  const taken = parent.entries.get(name);
  if (!taken) return;
  const where = `line ${taken.line + 1}`;
  const hint = taken.kind === 'section' && itemRule(taken)
    ? `[${name}] on ${where} is read as ${logicalPath(taken).join('.')}; use that path`
    : `'${name}' is already used on ${where}`;
  throw new VmgenError('VMG_KEY_PATH', `cannot set '${path.join('.')}': '${name}' is already taken in that section`, { hint });
}

export function setValue(doc: IniDocument, path: readonly string[], value: IniValue): void {
  const r = resolve(doc, path);
  if (r.entry?.kind === 'section') {
    throw new VmgenError('VMG_KEY_PATH', `'${path.join('.')}' is a section, not a value`, { hint: `set one of its keys: ${path.join('.')}.KEY=VALUE` });
  }
  let quoted: string;
  try {
    quoted = quoteValue(value);
  } catch (e) {
    if (e instanceof UnquotableError) throw new VmgenError('VMG_KEY_PATH', e.message, { hint: 'a value on several lines cannot hold both \'\'\' and """' });
    throw e;
  }
  if (r.entry) {
    replaceValue(doc, r.entry, quoted);
    return;
  }
  const names = r.missing.slice(0, -1);
  const key = r.missing[r.missing.length - 1]!;
  const plan = sectionPlan(doc, r.section, names[0]);
  refuseTaken(plan.parent, names[0] ?? key, path);
  const lines = [...plan.lines];
  let indent = plan.indent;
  let depth = plan.depth;
  const logical = logicalPath(r.section);
  for (const name of names) {
    lines.push(`${indent}${brackets(name, depth)}`);
    logical.push(name);
    indent += analogOffset(doc, logical, depth) ?? indentUnit(doc);
    depth += 1;
  }
  lines.push(`${indent}${quoteKey(key)} = ${quoted}`);
  insertLines(doc, plan.at, lines.flatMap((l) => l.split('\n')));
}

/** Removes a key, or a section with everything in it (and its flat-form items). */
export function unsetValue(doc: IniDocument, path: readonly string[]): boolean {
  const r = resolve(doc, path);
  if (!r.entry || r.entry === doc.root) return false;
  if (r.entry.kind === 'scalar') {
    removeLines(doc, r.entry.line, r.entry.endLine);
    return true;
  }
  const own: Array<[number, number]> = virtualContainers.has(r.entry) ? [] : [[r.entry.line, lastLineOf(r.entry)]];
  const ranges = [...own, ...flatItems(r.entry).map((s): [number, number] => [s.line, lastLineOf(s)])];
  for (const [from, to] of ranges.sort((a, b) => b[0] - a[0])) removeLines(doc, from, to);
  return true;
}

export { serializeDocument };
