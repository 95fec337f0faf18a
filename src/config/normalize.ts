import type { Diagnostic } from '../diagnostics.js';
import { setOwn, type IniScalar, type IniSection, type IniValue } from './ini/document.js';

/**
 * The seed writes list-like sections two ways: nested (`[[eths]]` holding `[[[eth0]]]`, Listing 2.5)
 * and flat (`[[hdds]]` followed by a sibling `[[hdd0]]`, Listing 2.2). Both describe the same
 * machine, so the logical tree moves flat items into their container before the model sees them.
 * This table is the single description of those containers; `vmgctl` uses it too.
 */
export interface ContainerRule {
  /** Path of the section that holds the container; '*' matches any one name. */
  at: readonly string[];
  container: string;
  item: RegExp;
}

export const CONTAINER_RULES: readonly ContainerRule[] = [
  { at: ['hardware'], container: 'hdds', item: /^hdd\d+$/ },
  { at: ['hardware'], container: 'cd_drives', item: /^cd_?drive\d+$/ },
  { at: ['hardware'], container: 'eths', item: /^eth\d+$/ },
  { at: ['hardware', 'hdds', '*'], container: 'partitions', item: /^partition\d+$/ },
  { at: ['users'], container: 'users', item: /^user\d+$/ },
  { at: ['network'], container: 'eths', item: /^eth\d+$/ },
  { at: ['network'], container: 'open_ports', item: /^port\d+$/ },
  { at: ['network'], container: 'routes', item: /^route\d+$/ },
];

export function pathMatches(pattern: readonly string[], path: readonly string[]): boolean {
  return pattern.length === path.length && pattern.every((p, i) => p === '*' || p === path[i]);
}

/** The rule whose container would hold an item called `name` placed in the section at `path`. */
export function ruleForItem(path: readonly string[], name: string): ContainerRule | undefined {
  return CONTAINER_RULES.find((r) => pathMatches(r.at, path) && r.item.test(name));
}

/**
 * The rule that reads a subsection `name` of `section` (at logical `path`) as a flat item of a
 * container. A scalar with the container's name keeps the items where they are: that file is
 * wrong in another way, and moving items into a value would hide it.
 */
export function flatItemRule(section: IniSection, path: readonly string[], name: string): ContainerRule | undefined {
  const rule = ruleForItem(path, name);
  if (!rule) return undefined;
  const container = section.entries.get(rule.container);
  return container && container.kind !== 'section' ? undefined : rule;
}

export interface Place {
  line: number;
  column: number;
  /** For values, the column of the key (`column` is the value's). */
  keyColumn?: number;
  /** For lists, the column of each item. */
  itemColumns?: number[];
  section: boolean;
}

/** Places in the file by logical path (path segments joined by NUL). */
export type PlaceIndex = Map<string, Place>;

export const pathKey = (path: readonly (string | number)[]): string => path.join('\u0000');

export type LogicalTree = { [key: string]: IniValue | LogicalTree };

export interface Normalized {
  tree: LogicalTree;
  places: PlaceIndex;
  /** Warnings for the flat form, and errors for an item defined in both forms. */
  diagnostics: Diagnostic[];
}

/**
 * Names that JavaScript objects treat specially. No setting has them, and the model's records
 * would lose them on the way (`{}['__proto__'] = …` sets a prototype), so they are refused at their
 * line rather than vanish from a config that validated.
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export function normalize(root: IniSection): Normalized {
  const places: PlaceIndex = new Map();
  const warnings: Diagnostic[] = [];
  places.set(pathKey([]), { line: 1, column: 1, section: true });
  const tree = logical(root, [], places, warnings);
  return { tree, places, diagnostics: warnings };
}

function logical(section: IniSection, path: string[], places: PlaceIndex, warnings: Diagnostic[]): LogicalTree {
  // Flat items go into their container: collect them first, keeping file order.
  const moved = new Map<string, IniSection[]>();
  for (const entry of section.entries.values()) {
    if (entry.kind !== 'section') continue;
    const rule = flatItemRule(section, path, entry.name);
    if (!rule) continue;
    moved.set(rule.container, [...(moved.get(rule.container) ?? []), entry]);
  }
  const movedNames = new Set([...moved.values()].flat());

  const out: LogicalTree = {};
  const emit = (name: string, entry: IniSection | IniScalar): void => {
    const p = [...path, name];
    if (entry.kind === 'scalar') {
      places.set(pathKey(p), { line: entry.line + 1, column: entry.valueColumn, keyColumn: entry.keyColumn, itemColumns: entry.itemColumns, section: false });
      setOwn(out, name, entry.value);
    } else {
      places.set(pathKey(p), { line: entry.line + 1, column: entry.nameColumn, section: true });
      setOwn(out, name, logical(entry, p, places, warnings));
    }
  };

  for (const entry of section.entries.values()) {
    const name = entry.kind === 'scalar' ? entry.key : entry.name;
    if (RESERVED_NAMES.has(name)) {
      warnings.push({
        code: 'CFG_RESERVED_NAME', severity: 'error', line: entry.line + 1, column: entry.kind === 'scalar' ? entry.keyColumn : entry.nameColumn,
        message: `'${name}' cannot name a ${entry.kind === 'scalar' ? 'key' : 'section'}`,
        hint: 'no setting has this name; rename it',
      });
      continue;
    }
    if (entry.kind === 'section' && movedNames.has(entry)) {
      // A container that the file never opened: it appears where its first item does.
      const rule = ruleForItem(path, entry.name)!;
      if (!section.entries.has(rule.container) && !(rule.container in out)) {
        emitContainer(rule.container, undefined, moved.get(rule.container)!);
      }
      continue;
    }
    const items = entry.kind === 'section' ? moved.get(entry.name) : undefined;
    if (entry.kind === 'section' && items && CONTAINER_RULES.some((r) => r.container === entry.name && pathMatches(r.at, path))) {
      emitContainer(entry.name, entry, items);
    } else {
      emit(entry.kind === 'scalar' ? entry.key : entry.name, entry);
    }
  }
  return out;

  function emitContainer(name: string, own: IniSection | undefined, items: IniSection[]): void {
    const p = [...path, name];
    const first = own ?? items[0]!;
    places.set(pathKey(p), { line: first.line + 1, column: first.nameColumn, section: true });
    const inner: LogicalTree = own ? logical(own, p, places, warnings) : {};
    for (const item of items) {
      if (item.name in inner) continue; // the nested one wins; a duplicate item is reported below
      places.set(pathKey([...p, item.name]), { line: item.line + 1, column: item.nameColumn, section: true });
      setOwn(inner, item.name, logical(item, [...p, item.name], places, warnings));
    }
    setOwn(out, name, inner);
    const depth = items[0]!.depth;
    const names = items.map((i) => i.name);
    warnings.push({
      code: 'CFG_FLAT_LIST',
      severity: 'warning',
      line: items[0]!.line + 1,
      column: items[0]!.nameColumn,
      message: `${names.map((n) => `[${n}]`).join(', ')} ${names.length > 1 ? 'are siblings' : 'is a sibling'} of [${name}]; read as ${names.length > 1 ? 'items' : 'an item'} of ${name}`,
      hint: `nest ${names.length > 1 ? 'them' : 'it'} one level deeper: ${'['.repeat(depth + 1)}${names[0]}${']'.repeat(depth + 1)} under ${'['.repeat(depth)}${name}${']'.repeat(depth)}`,
    });
    for (const item of items) {
      if (own?.entries.has(item.name)) {
        warnings.push({
          code: 'CFG_DUPLICATE_ITEM', severity: 'error', line: item.line + 1, column: item.nameColumn,
          message: `[${item.name}] is defined both inside [${name}] and beside it`, hint: 'keep one of the two',
        });
      }
    }
  }
}
