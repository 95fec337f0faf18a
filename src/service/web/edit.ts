import { serializeDocument, type IniDocument, type IniEntry, type IniSection, type IniValue, lastLineOf } from '../../config/ini/document.js';
import { resolve, setValue, unsetValue } from '../../config/ini/edit.js';
import { parseIni } from '../../config/ini/parse.js';
import { VmgenError } from '../../errors.js';

/**
 * The page's form edits a config through the same in-place editor as vmgctl (src/config/ini/edit.ts),
 * so a user's comments and layout survive every change made in the form. What the editor does not
 * know is where a new key or section belongs: it appends. A config written from an empty form
 * would then be in the order the user happened to fill the fields; here each new entry is moved
 * before the first sibling that the model lists after it, which gives the order of the examples
 * (the model's order: [hardware], [config], [users], …; vm_id, os, num_cpu, ram, …).
 */

export type ConfigEdit = { path: string[]; value: IniValue } | { path: string[]; unset: true };

/** The model's order of a section's keys, by logical path; undefined where the keys are items (hdd0, user1), kept in the user's order. */
export type KeyOrder = (sectionPath: readonly string[]) => readonly string[] | undefined;

interface JsonSchemaNode {
  properties?: Record<string, JsonSchemaNode>;
  additionalProperties?: JsonSchemaNode | boolean;
}

/** Key order from the config's JSON Schema: `properties` in declaration order, records have none. */
export function keyOrderFromSchema(schema: object): KeyOrder {
  return (path) => {
    let node: JsonSchemaNode | undefined = schema as JsonSchemaNode;
    for (const seg of path) {
      if (node?.properties && Object.hasOwn(node.properties, seg)) node = node.properties[seg];
      else if (node && typeof node.additionalProperties === 'object') node = node.additionalProperties;
      else return undefined;
    }
    return node?.properties ? Object.keys(node.properties) : undefined;
  };
}

/** Parses text the editor is to change; a file that does not parse is the user's to fix in the text. */
function parseForEdit(text: string): IniDocument {
  const parsed = parseIni(text);
  if (parsed.diagnostics.length > 0) {
    throw new VmgenError('VMG_CONFIG_INVALID', 'the config text does not parse, so the form cannot change it', {
      hint: 'fix the syntax errors in the text first',
      diagnostics: { file: 'config', items: parsed.diagnostics },
    });
  }
  return parsed.doc;
}

function reparse(doc: IniDocument, edit: ConfigEdit): IniDocument {
  const again = parseIni(serializeDocument(doc));
  if (again.diagnostics.length > 0) {
    throw new VmgenError('VMG_KEY_PATH', `${'unset' in edit ? 'removing' : 'setting'} '${edit.path.join('.')}' would break the file's structure`, {
      hint: 'the key path may cross a value',
    });
  }
  return again.doc;
}

/** Applies the edits in order; unsetting something that is not there is no change. */
export function applyEdits(text: string, edits: readonly ConfigEdit[], order: KeyOrder): string {
  let doc = parseForEdit(text);
  for (const edit of edits) {
    if ('unset' in edit) {
      if (!unsetValue(doc, edit.path)) continue;
      doc = reparse(doc, edit);
      continue;
    }
    const before = resolve(doc, edit.path);
    setValue(doc, edit.path, edit.value);
    doc = reparse(doc, edit);
    if (before.missing.length > 0) {
      const created = edit.path.slice(0, edit.path.length - before.missing.length + 1);
      if (placeInOrder(doc, created, order)) doc = reparse(doc, edit);
    }
  }
  return serializeDocument(doc);
}

const nameOf = (e: IniEntry): string => (e.kind === 'scalar' ? e.key : e.name);
const endOf = (e: IniEntry): number => (e.kind === 'scalar' ? e.endLine : lastLineOf(e));
const isBlank = (line: string | undefined): boolean => line !== undefined && line.trim() === '';
const isComment = (line: string | undefined): boolean => line !== undefined && line.trim().startsWith('#');

/**
 * Moves the entry just created at `path` before its first sibling that the model orders after it,
 * with the comment lines that sit on that sibling. Flat-form items (the seed's `[[hdd0]]` beside
 * `[[hdds]]`) are left where the editor put them: their physical parent is not their logical one.
 * Returns whether the document changed.
 */
function placeInOrder(doc: IniDocument, path: readonly string[], order: KeyOrder): boolean {
  const names = order(path.slice(0, -1));
  const rank = names?.indexOf(path[path.length - 1]!) ?? -1;
  const found = resolve(doc, path);
  const entry = found.entry;
  if (!names || rank < 0 || !entry) return false;
  const parent: IniSection | null = entry.kind === 'scalar' ? found.section : entry.parent;
  if (!parent || resolve(doc, path.slice(0, -1)).entry !== parent) return false;

  const next = [...parent.entries.values()]
    .filter((e) => e !== entry && e.kind === entry.kind && e.line < entry.line && names.indexOf(nameOf(e)) > rank)
    .sort((a, b) => a.line - b.line)[0];
  const topLevel = entry.kind === 'section' && parent.parent === null;
  const lines = new LineEditor(doc);
  if (next) {
    let at = next.line;
    while (at > 0 && isComment(doc.lines[at - 1])) at -= 1;
    // Blank lines between top-level sections stay as the file has them.
    const blank = topLevel && (at > 0 ? isBlank(doc.lines[at - 1]) : separatesTopLevel(doc, parent, entry));
    const block = lines.cut(entry.line, endOf(entry));
    lines.insert(at, blank ? [...block, ''] : block);
  } else if (topLevel && entry.line > 0 && !isBlank(doc.lines[entry.line - 1]) && separatesTopLevel(doc, parent, entry)) {
    lines.insert(entry.line, ['']);
  } else {
    return false;
  }
  lines.done();
  return true;
}

/** Whether the file puts a blank line before its top-level sections (the examples do; so does a new file). */
function separatesTopLevel(doc: IniDocument, root: IniSection, added: IniEntry): boolean {
  const headers = [...root.entries.values()].filter((e) => e.kind === 'section' && e !== added && e.line > 0);
  return headers.length === 0 || headers.some((e) => isBlank(doc.lines[e.line - 1]));
}

/**
 * Line moves on a document. Every line gets a terminator while lines move, so a last line without
 * one cannot end up joined to the next; at the end the file's last line is left as it was.
 */
class LineEditor {
  private readonly eol: string;
  private readonly unterminated: boolean;

  constructor(private readonly doc: IniDocument) {
    this.eol = doc.eols.find((e) => e !== '') ?? '\n';
    this.unterminated = doc.lines.length > 0 && doc.eols[doc.eols.length - 1] === '';
    doc.eols = doc.eols.map((e) => e || this.eol);
  }

  cut(from: number, to: number): string[] {
    this.doc.eols.splice(from, to - from + 1);
    return this.doc.lines.splice(from, to - from + 1);
  }

  insert(at: number, lines: string[]): void {
    this.doc.lines.splice(at, 0, ...lines);
    this.doc.eols.splice(at, 0, ...lines.map(() => this.eol));
  }

  done(): void {
    if (this.unterminated && this.doc.eols.length > 0) this.doc.eols[this.doc.eols.length - 1] = '';
  }
}
