import type { Catalogs } from '../../catalog/schema.js';
import type { ConfigSources } from '../../config/sources.js';
import { loadConfig } from '../../validate/load.js';
import { normalize } from '../../config/normalize.js';
import { hasErrors, sortDiagnostics, type Diagnostic } from '../../diagnostics.js';
import { findTarget } from '../../targets/registry.js';
import { sourceDiagnostics, type SourcePolicy } from '../source-policy.js';
import { fieldPath } from './field-path.js';

export interface ParsedConfig {
  /** The logical tree (flat-form items inside their containers); null when the text does not parse. */
  tree: unknown;
  diagnostics: Diagnostic[];
  valid: boolean;
}

/**
 * Diagnostics of a config text, each with the key path it is about. With a policy (the service's),
 * its refusals of `mirror`, `repos` and build scripts are among them, so the page shows them before
 * a submit does; with sources (the files the page keeps), a `source` that names none is an error.
 */
export function parseConfigText(text: string, catalogs: Catalogs, target?: string, policy?: SourcePolicy, sources?: ConfigSources): ParsedConfig {
  const limits = target === undefined ? undefined : findTarget(target);
  const result = loadConfig(text, { catalogs, ...(limits ? { target: limits } : {}), ...(sources ? { sources } : {}) });
  const places = result.places;
  // loadConfig stops before normalizing a text that does not parse: no tree to show then.
  const tree = places && result.doc ? normalize(result.doc.root).tree : null;
  const all = tree && places && policy ? sortDiagnostics([...result.diagnostics, ...sourceDiagnostics(tree, places, policy)]) : result.diagnostics;
  const diagnostics = all.map((d) => {
    // A check names the key it is about; the parser's own messages are placed by line and column only.
    const path = d.path ?? (places ? fieldPath(places, d.line, d.column) : undefined);
    return path ? { ...d, path } : { ...d };
  });
  return { tree, diagnostics, valid: !hasErrors(all) };
}
