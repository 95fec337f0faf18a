import type { Diagnostic } from '../diagnostics.js';
import { diagnosticAt } from '../config/diagnose.js';
import type { VmConfig } from '../config/model.js';
import type { PlaceIndex } from '../config/normalize.js';
import { normalRelative, walkSource, type ConfigSources } from '../config/sources.js';

/*
 * What a config names beside itself must be there when it is built: checked at load time, at the
 * value's line, so `vmgen validate` (and the service, with a request's files) says so before a
 * build gets as far as copying. Sizes are bounded: the files travel in a request and into every
 * archive, and an inline text belongs in the config only while it is small.
 */

/** All [files] sources together. */
export const MAX_SOURCE_BYTES = 64 * 1024 * 1024;
/** One inline content or run text. */
export const MAX_INLINE_BYTES = 64 * 1024;

const mib = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MiB`;

export function sourceDiagnostics(config: VmConfig, sources: ConfigSources | undefined, places: PlaceIndex): Diagnostic[] {
  const out: Diagnostic[] = [];
  const report = (path: string[], code: string, message: string, hint?: string): void => {
    out.push(diagnosticAt(places, path, 'error', code, message, hint));
  };
  for (const [id, f] of Object.entries(config.files)) {
    if (f.content !== undefined && Buffer.byteLength(f.content) > MAX_INLINE_BYTES) {
      report(['files', id, 'content'], 'CFG_INLINE_SIZE', `inline content is ${Buffer.byteLength(f.content)} bytes; at most ${MAX_INLINE_BYTES}`, 'put the file beside the config and name it with source =');
    }
  }
  for (const [id, s] of Object.entries(config.scripts)) {
    if (s.run !== undefined && Buffer.byteLength(s.run) > MAX_INLINE_BYTES) {
      report(['scripts', id, 'run'], 'CFG_INLINE_SIZE', `the script is ${Buffer.byteLength(s.run)} bytes; at most ${MAX_INLINE_BYTES}`, 'put it beside the config and name it with source =');
    }
  }
  if (sources === undefined) return out;

  let total = 0;
  let totalAt: string[] | undefined;
  const named = [
    ...Object.entries(config.files).map(([id, f]) => ({ path: ['files', id, 'source'], source: f.source, script: false })),
    ...Object.entries(config.scripts).map(([id, s]) => ({ path: ['scripts', id, 'source'], source: s.source, script: true })),
  ];
  for (const { path, source, script } of named) {
    if (source === undefined) continue;
    const problem = placeProblem(sources, source);
    if (problem) {
      report(path, problem.code, problem.message, problem.hint);
      continue;
    }
    const tree = walkSource(sources, source)!;
    if (tree.refused) {
      const what = tree.refused.kind === 'link' ? 'a symbolic link' : 'neither a file nor a directory';
      report(path, tree.refused.kind === 'link' ? 'CFG_SOURCE_LINK' : 'CFG_SOURCE_KIND', `${source}/${tree.refused.rel} is ${what}`, 'copy the real file into the source directory');
      continue;
    }
    if (script && tree.files[0]?.rel !== '') {
      report(path, 'CFG_SOURCE_KIND', `${source} is a directory; a script source is a file`);
      continue;
    }
    total += tree.files.reduce((n, f) => n + f.bytes, 0);
    if (total > MAX_SOURCE_BYTES && totalAt === undefined) totalAt = path;
  }
  if (totalAt !== undefined) {
    report(totalAt, 'CFG_SOURCE_SIZE', `the sources come to ${mib(total)}; at most ${mib(MAX_SOURCE_BYTES)} together`, 'install large content from a package or a first-boot script instead');
  }
  return out;
}

function placeProblem(sources: ConfigSources, source: string): { code: string; message: string; hint?: string } | undefined {
  if (normalRelative(source) === undefined || normalRelative(source) === '') {
    return { code: 'CFG_SOURCE_OUTSIDE', message: `'${source}' is not a path inside the config's directory`, hint: 'name a file or directory beside the config with a relative path, without ..' };
  }
  const st = sources.stat(source);
  if (st === undefined) return { code: 'CFG_SOURCE_MISSING', message: `no file or directory '${source}' beside the config`, hint: 'source paths are relative to the config file\'s directory' };
  if (st.kind === 'link') return { code: 'CFG_SOURCE_LINK', message: `'${source}' is or goes through a symbolic link; links are refused`, hint: 'copy the real file beside the config' };
  if (st.kind === 'special') return { code: 'CFG_SOURCE_KIND', message: `'${source}' is neither a file nor a directory` };
  return undefined;
}
