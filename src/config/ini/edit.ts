import { VmgenError } from '../../errors.js';
import { CONTAINER_RULES, pathMatches } from '../normalize.js';
import { lastLineOf, sectionPath, serializeDocument, type IniDocument, type IniEntry, type IniScalar, type IniSection, type IniValue } from './document.js';
import { KEYWORD, TRIPLE_QUOTES, VALUE } from './regex.js';
import { quoteKey, quoteValue, UnquotableError } from './write.js';

/**
 * In-place edits of a config file (vmgctl, vmgen set/unset). Only the lines that change are
 * touched: comments, order, indentation and line endings of everything else stay byte for byte.
 * Paths are logical (`hardware.hdds.hdd1.size`), and resolve through both nesting forms.
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

/** The container a section is, if the model treats it as one at this place. */
function containerRule(section: IniSection) {
  const path = sectionPath(section);
  return CONTAINER_RULES.find((r) => r.container === section.name && pathMatches(r.at, path.slice(0, -1)));
}

/** Items that the flat form writes beside `container` instead of inside it. */
function flatItems(container: IniSection): IniSection[] {
  const rule = containerRule(container);
  if (!rule || !container.parent) return [];
  return [...container.parent.entries.values()].filter(
    (e): e is IniSection => e.kind === 'section' && rule.item.test(e.name) && !container.entries.has(e.name),
  );
}

function child(section: IniSection, name: string): IniEntry | undefined {
  const direct = section.entries.get(name);
  if (direct) return direct;
  return flatItems(section).find((s) => s.name === name);
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
      throw new VmgenError('VMG_KEY_PATH', `'${path.slice(0, i + 1).join('.')}' is a value, not a section`);
    }
    section = next;
  }
  return { section, missing: [], entry: section };
}

export function getValue(doc: IniDocument, path: readonly string[]): IniValue | IniSection | undefined {
  const r = resolve(doc, path);
  if (!r.entry) return undefined;
  return r.entry.kind === 'scalar' ? r.entry.value : r.entry;
}

// ---- line surgery -------------------------------------------------------------------------

function indentOf(line: string): string {
  return /^[ \t]*/.exec(line)![0];
}

/** The file's indentation step, from the first indented line; four spaces if none. */
function indentUnit(doc: IniDocument): string {
  for (const line of doc.lines) {
    const ind = indentOf(line);
    if (ind && line.trim() && !line.trim().startsWith('#')) return ind;
  }
  return '    ';
}

function eolFor(doc: IniDocument, index: number): string {
  return doc.eols[index] || doc.eols.find((e) => e) || '\n';
}

function insertLines(doc: IniDocument, at: number, lines: string[]): void {
  // A last line without a terminator gets one, or the new lines would join it.
  if (at > 0 && at === doc.lines.length && !doc.eols[at - 1]) doc.eols[at - 1] = eolFor(doc, at - 1);
  const eol = eolFor(doc, Math.max(0, at - 1));
  doc.lines.splice(at, 0, ...lines);
  doc.eols.splice(at, 0, ...lines.map(() => eol));
}

function removeLines(doc: IniDocument, from: number, to: number): void {
  doc.lines.splice(from, to - from + 1);
  doc.eols.splice(from, to - from + 1);
}

function scalars(section: IniSection): IniScalar[] {
  return [...section.entries.values()].filter((e): e is IniScalar => e.kind === 'scalar');
}

function subsections(section: IniSection): IniSection[] {
  return [...section.entries.values()].filter((e): e is IniSection => e.kind === 'section');
}

/** Indentation for a `key = value` line in `section`. */
function keyIndent(doc: IniDocument, section: IniSection): string {
  const sibling = scalars(section)[0];
  if (sibling) return indentOf(doc.lines[sibling.line]!);
  if (section.line < 0) return '';
  return indentOf(doc.lines[section.line]!) + indentUnit(doc);
}

/** Indentation for a new section header of `depth` under `parent`. */
function headerIndent(doc: IniDocument, parent: IniSection, depth: number): string {
  const sibling = subsections(parent).find((s) => s.depth === depth);
  if (sibling) return indentOf(doc.lines[sibling.line]!);
  if (parent.line < 0) return '';
  return keyIndent(doc, parent);
}

function replaceValue(doc: IniDocument, scalar: IniScalar, value: IniValue): void {
  const first = doc.lines[scalar.line]!;
  const rest = KEYWORD.exec(first)![3]!;
  const prefix = first.slice(0, first.length - rest.length);
  // Keep the inline comment and the spaces before it.
  let tail = '';
  if (scalar.endLine === scalar.line) {
    const comment = VALUE.exec(rest)?.[4];
    if (comment) tail = /\s*$/.exec(rest.slice(0, rest.length - comment.length))![0] + comment;
  } else {
    const last = doc.lines[scalar.endLine]!;
    const quote = rest.startsWith("'''") ? "'''" : '"""';
    const comment = TRIPLE_QUOTES[quote].lastLine.exec(last)?.[2];
    if (comment) tail = ` ${comment}`;
  }
  removeLines(doc, scalar.line + 1, scalar.endLine);
  doc.lines[scalar.line] = `${prefix}${quoteValue(value)}${tail}`;
}

/** Where a new key line goes in `section`: after its own values, before its first subsection. */
function keyInsertionLine(section: IniSection): number {
  const own = scalars(section);
  if (own.length > 0) return Math.max(...own.map((s) => s.endLine)) + 1;
  return section.line + 1;
}

interface Plan {
  /** Physical parent section for a new section at this level. */
  parent: IniSection;
  depth: number;
  /** Line after which the new header goes. */
  after: number;
}

/** Where a missing section `name` under the logical `section` is created. */
function sectionPlan(section: IniSection, name: string): Plan {
  const rule = containerRule(section);
  const flat = rule?.item.test(name) ? flatItems(section) : [];
  if (flat.length > 0 && subsections(section).length === 0) {
    return { parent: section.parent!, depth: section.depth, after: lastLineOf(flat[flat.length - 1]!) };
  }
  return { parent: section, depth: section.depth + 1, after: lastLineOf(section) };
}

export function setValue(doc: IniDocument, path: readonly string[], value: IniValue): void {
  const r = resolve(doc, path);
  try {
    if (r.entry?.kind === 'section') {
      throw new VmgenError('VMG_KEY_PATH', `'${path.join('.')}' is a section, not a value`, { hint: `set one of its keys: ${path.join('.')}.KEY=VALUE` });
    }
    if (r.entry) {
      replaceValue(doc, r.entry, value);
      return;
    }
    // Create the missing sections, each after the end of its parent's block, then the key.
    const lines: string[] = [];
    let section = r.section;
    let plan: Plan | undefined;
    let depth = section.depth;
    for (const name of r.missing.slice(0, -1)) {
      if (!plan) {
        plan = sectionPlan(section, name);
        depth = plan.depth;
        lines.push(`${headerIndent(doc, plan.parent, depth)}${'['.repeat(depth)}${quoteKey(name)}${']'.repeat(depth)}`);
      } else {
        depth += 1;
        lines.push(`${indentOf(lines[lines.length - 1]!)}${indentUnit(doc)}${'['.repeat(depth)}${quoteKey(name)}${']'.repeat(depth)}`);
      }
    }
    const key = r.missing[r.missing.length - 1]!;
    if (!plan) {
      insertLines(doc, keyInsertionLine(section), [`${keyIndent(doc, section)}${quoteKey(key)} = ${quoteValue(value)}`]);
      return;
    }
    lines.push(`${indentOf(lines[lines.length - 1]!)}${indentUnit(doc)}${quoteKey(key)} = ${quoteValue(value)}`);
    insertLines(doc, plan.after + 1, lines);
  } catch (e) {
    if (e instanceof UnquotableError) throw new VmgenError('VMG_KEY_PATH', e.message, { hint: 'a value cannot hold both \'\'\' and """' });
    throw e;
  }
}

/** Removes a key, or a section with everything in it (and its flat-form items). */
export function unsetValue(doc: IniDocument, path: readonly string[]): boolean {
  const r = resolve(doc, path);
  if (!r.entry || r.entry === doc.root) return false;
  if (r.entry.kind === 'scalar') {
    removeLines(doc, r.entry.line, r.entry.endLine);
    return true;
  }
  const ranges: Array<[number, number]> = [[r.entry.line, lastLineOf(r.entry)], ...flatItems(r.entry).map((s): [number, number] => [s.line, lastLineOf(s)])];
  for (const [from, to] of ranges.sort((a, b) => b[0] - a[0])) removeLines(doc, from, to);
  return true;
}

export { serializeDocument };
