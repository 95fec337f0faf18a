import type { Catalogs } from '../catalog/schema.js';
import { findOs } from '../catalog/load.js';
import { hasErrors, sortDiagnostics, type Diagnostic } from '../diagnostics.js';
import type { z } from 'zod';
import type { TargetLimits } from '../targets/limits.js';
import type { ArchiveFormat } from '../archive/formats.js';
import { targetIdsOf } from '../targets/registry.js';
import { diagnosticAt, issuesToDiagnostics } from '../config/diagnose.js';
import { parseIni } from '../config/ini/parse.js';
import type { IniDocument } from '../config/ini/document.js';
import type { ConfigSchema, VmConfig } from '../config/model.js';
import { schemaFor } from '../config/schema-for.js';
import { normalize, pathKey, type LogicalTree, type PlaceIndex } from '../config/normalize.js';
import type { ConfigSources } from '../config/sources.js';
import { semanticDiagnostics } from './semantic.js';
import { sourceDiagnostics } from './sources.js';

export interface LoadOptions {
  catalogs: Catalogs;
  target?: TargetLimits;
  /** The archive format the config is built into, when it asks more of the machine (TargetLimits.formatChecks). */
  format?: ArchiveFormat;
  /** The files beside the config ([files] source, [scripts] source); without them only inline sizes are checked. */
  sources?: ConfigSources;
}

export interface LoadResult {
  /** Present when the file has no errors (warnings allowed). */
  config?: VmConfig;
  doc?: IniDocument;
  places?: PlaceIndex;
  diagnostics: Diagnostic[];
}

/** Text in, a typed config or every diagnostic out: parse, normalize, model, semantics, target. */
export function loadConfig(text: string, opts: LoadOptions): LoadResult {
  const parsed = parseIni(text);
  if (parsed.diagnostics.length > 0) return { doc: parsed.doc, diagnostics: sortDiagnostics(parsed.diagnostics) };
  const { tree, places, diagnostics: structural } = normalize(parsed.doc.root);
  const schema = schemaFor(opts.catalogs);
  const first = schema.safeParse(tree);
  const diagnostics = [...structural];
  if (!first.success) diagnostics.push(...issuesToDiagnostics(schema, first.error.issues, places, tree));
  // Semantic checks need a typed config; with bad fields dropped, the rest can still be checked,
  // so one typo does not hide every other problem.
  const repaired = first.success ? { config: first.data, removed: [] } : withoutBadFields(schema, tree, first.error.issues);
  if (repaired) {
    const typed = repaired.config;
    const os = findOs(opts.catalogs, typed.hardware.os)!;
    const later: Diagnostic[] = semanticDiagnostics(typed, os, opts.catalogs, places, { hardware: opts.target?.kind !== 'container' });
    later.push(...sourceDiagnostics(typed, opts.sources, places));
    const report = (path: readonly (string | number)[], severity: Diagnostic['severity'], code: string, message: string, hint?: string): void => {
      later.push(diagnosticAt(places, path, severity, code, message, hint));
    };
    opts.target?.check(typed, os, report, { idsOf: targetIdsOf });
    if (opts.format !== undefined) opts.target?.formatChecks?.[opts.format]?.(typed, os, report);
    // A section that lost a bad value already has its error; what follows from the loss is noise.
    const damaged = new Set<number | undefined>();
    for (const p of repaired.removed) if (p.length > 1) damaged.add(places.get(pathKey(p.slice(0, -1)))?.line);
    damaged.delete(undefined);
    diagnostics.push(...later.filter((d) => d.severity !== 'error' || !damaged.has(sectionLineOf(places, d.line))));
  }
  const config = first.success ? first.data : undefined;
  const sorted = sortDiagnostics(diagnostics);
  return { ...(config && !hasErrors(sorted) ? { config } : {}), doc: parsed.doc, places, diagnostics: sorted };
}

/** The tree with every value zod rejected removed, parsed again; undefined if that is not enough. */
function withoutBadFields(
  schema: ConfigSchema, tree: LogicalTree, issues: readonly z.core.$ZodIssue[],
): { config: VmConfig; removed: string[][] } | undefined {
  let current = structuredClone(tree);
  let pending = issues;
  const removed: string[][] = [];
  for (let round = 0; round < 4; round++) {
    const before = removed.length;
    for (const issue of pending) {
      const paths = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k]) : [issue.path];
      for (const path of paths) {
        const gone = removeAt(current, path);
        if (gone) removed.push(gone);
      }
    }
    if (removed.length === before) return undefined;
    const again = schema.safeParse(current);
    if (again.success) return { config: again.data, removed };
    pending = again.error.issues;
    current = structuredClone(current);
  }
  return undefined;
}

function removeAt(tree: LogicalTree, path: readonly PropertyKey[]): string[] | undefined {
  // A bad list item takes its whole list with it; a missing required value cannot be removed.
  const end = path.findIndex((seg) => typeof seg === 'number');
  const keyPath = (end === -1 ? path : path.slice(0, end)).map(String);
  let node: unknown = tree;
  for (const seg of keyPath.slice(0, -1)) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = (node as LogicalTree)[seg];
  }
  const last = keyPath[keyPath.length - 1];
  if (last === undefined || node === null || typeof node !== 'object' || !(last in (node as object))) return undefined;
  delete (node as LogicalTree)[last];
  return keyPath;
}

/** The header line of the section that holds `line`. */
function sectionLineOf(places: PlaceIndex, line: number): number | undefined {
  let best: number | undefined;
  for (const place of places.values()) {
    if (place.section && place.line <= line && (best === undefined || place.line > best)) best = place.line;
  }
  return best;
}
