import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Catalogs } from '../catalog/schema.js';
import { hasErrors, type Diagnostic } from '../diagnostics.js';
import { VmgenError } from '../errors.js';
import { issuesToDiagnostics } from '../config/diagnose.js';
import { decodeConfigBytes } from '../config/ini/decode.js';
import { parseIni } from '../config/ini/parse.js';
import { normalize } from '../config/normalize.js';
import { dirSources, normalRelative, type ConfigSources } from '../config/sources.js';
import type { TargetLimits } from '../targets/limits.js';
import { loadConfig } from '../validate/load.js';
import { applyCopy, type AppliedCopy } from './machine.js';
import { labSchema } from './model.js';
import { checkDhcp, checkMachineKeys, dhcpServed, LabPlaces, labNetworks, planCopies, type PlannedCopy } from './validate.js';
import type { Lab, LabDiagnostic, LabLoadResult, LabMachine } from './types.js';

/*
 * loadLab: a lab file's text → every machine as it will be built, or every problem at once.
 * Parse and type the lab file, expand each [machines] entry into its copies, apply each copy's
 * set entries and NICs to its config through the vmgctl editor, and load the result with
 * loadConfig as `vmgen validate` would. A machine's problem is reported where it can be fixed:
 * at the lab file's line when the lab made that line of the config, else at the config's own
 * line, once for all the copies that share it.
 */

export interface LoadLabOptions {
  catalogs: Catalogs;
  /** Also check each machine against this target's limits. */
  target?: TargetLimits;
  /** The lab file's directory: the machine configs and rosters it names, and the files beside them. */
  sources: ConfigSources;
  /** How diagnostics name the lab file (as the user gave it); other files are named beside it. Default lab.conf. */
  file?: string;
}

const posixDir = (file: string): string => {
  const i = file.lastIndexOf('/');
  return i === -1 ? '' : file.slice(0, i);
};
const beside = (dir: string, rel: string): string => (dir === '' ? rel : `${dir}/${rel}`);

/** The files beside one machine's config: the lab's sources seen from the config's directory. */
export function subSources(sources: ConfigSources, dir: string): ConfigSources {
  if (dir === '') return sources;
  const inside = (rel: string): string | undefined => {
    const n = normalRelative(rel);
    return n === undefined ? undefined : n === '' ? dir : `${dir}/${n}`;
  };
  const host = sources.hostPath;
  return {
    stat: (rel) => {
      const p = inside(rel);
      return p === undefined ? undefined : sources.stat(p);
    },
    readFile: (rel) => {
      const p = inside(rel);
      if (p === undefined) throw new Error(`no file ${rel} beside the config`);
      return sources.readFile(p);
    },
    list: (rel) => {
      const p = inside(rel);
      return p === undefined ? [] : sources.list(p);
    },
    ...(host ? { hostPath: (rel: string) => { const p = inside(rel); return p === undefined ? undefined : host.call(sources, p); } } : {}),
  };
}

/** 'pc01', 'pc01, pc02' or 'pc01 … pc06 (6 machines)': who a shared problem is about. */
function whoOf(names: readonly string[]): string {
  return names.length <= 3 ? names.join(', ') : `${names[0]} … ${names[names.length - 1]} (${names.length} machines)`;
}

interface Found {
  file: string;
  d: Diagnostic;
  copy: string;
}

const foundKey = (f: Found): string => [f.file, f.d.line, f.d.column, f.d.severity, f.d.code, f.d.message].join('\u0000');

/**
 * The copies' problems, grouped: one that every copy of a config has is reported once at the
 * config's line; one that only some have, or one at a lab line, names the copies it is about.
 */
function groupFound(found: readonly Found[], copiesOf: ReadonlyMap<string, number>, labFile: string): LabDiagnostic[] {
  const groups = new Map<string, Found[]>();
  for (const f of found) groups.set(foundKey(f), [...(groups.get(foundKey(f)) ?? []), f]);
  const out: LabDiagnostic[] = [];
  for (const group of groups.values()) {
    const { file, d } = group[0]!;
    const names = [...new Set(group.map((g) => g.copy))];
    const everyCopy = file !== labFile && names.length === (copiesOf.get(file) ?? 0);
    out.push({ ...d, file, message: everyCopy ? d.message : `${whoOf(names)}: ${d.message}` });
  }
  return out;
}

export function loadLab(text: string, opts: LoadLabOptions): LabLoadResult {
  const file = opts.file ?? 'lab.conf';
  const displayDir = posixDir(file);
  const diagnostics: LabDiagnostic[] = [];
  const report = (d: Diagnostic, where = file): void => { diagnostics.push({ ...d, file: where }); };
  const done = (lab?: Lab): LabLoadResult => {
    const sorted = sortLab(diagnostics, file);
    return lab && !hasErrors(sorted) ? { lab, diagnostics: sorted } : { diagnostics: sorted };
  };

  const parsed = parseIni(text);
  for (const d of parsed.diagnostics) report(d);
  if (parsed.diagnostics.length > 0) return done();
  const { tree, places, diagnostics: structural } = normalize(parsed.doc.root);
  for (const d of structural) report(d);
  const lab = new LabPlaces(parsed.doc, places);
  checkMachineKeys(tree, lab, report);
  const typed = labSchema.safeParse(tree);
  if (!typed.success) {
    for (const d of issuesToDiagnostics(labSchema, typed.error.issues, places, tree)) report(d);
    return done();
  }
  const model = typed.data;
  const networks = labNetworks(model, lab, report);
  const planned = planCopies(model, networks, lab, { sources: opts.sources, displayDir }, report);

  // Each config is read and parsed once, however many entries and copies use it.
  const configs = new Map<string, { text: string } | undefined>();
  const readConfig = (rel: string): { text: string } | undefined => {
    if (configs.has(rel)) return configs.get(rel);
    let result: { text: string } | undefined;
    if (opts.sources.stat(rel)?.kind === 'file') {
      const shown = beside(displayDir, rel);
      try {
        const configText = decodeConfigBytes(opts.sources.readFile(rel)).text;
        const syntax = parseIni(configText).diagnostics;
        for (const d of syntax) report(d, shown);
        if (syntax.length === 0) result = { text: configText };
      } catch {
        report({ code: 'INI_ENCODING', severity: 'error', line: 1, column: 1, message: 'the config is not UTF-8 (or UTF-16) text', hint: 'save the config as UTF-8' }, shown);
      }
    }
    configs.set(rel, result);
    return result;
  };

  const found: Found[] = [];
  const copiesOf = new Map<string, number>();
  const takenMacs = new Set<string>();
  const built: Array<{ copy: PlannedCopy; applied: AppliedCopy; machine?: LabMachine; served: string[] }> = [];
  for (const copy of planned) {
    const config = readConfig(copy.configPath);
    if (!config) continue;
    const shown = beside(displayDir, copy.configPath);
    copiesOf.set(shown, (copiesOf.get(shown) ?? 0) + 1);
    const applied = applyCopy(config.text, copy.plan, model.lab.name, takenMacs);
    for (const d of applied.diagnostics) {
      const { at: _at, ...rest } = d;
      report(rest);
    }
    const sources = subSources(opts.sources, posixDir(copy.configPath));
    const result = loadConfig(applied.text, { catalogs: opts.catalogs, ...(opts.target ? { target: opts.target } : {}), sources });
    for (const d of result.diagnostics) {
      const origin = d.line > 0 ? applied.origins[d.line - 1] : undefined;
      if (origin?.kind === 'lab') found.push({ file, d: { ...d, line: origin.at.line, column: origin.at.column }, copy: copy.plan.name });
      else found.push({ file: shown, d: origin ? { ...d, line: origin.line + 1 } : d, copy: copy.plan.name });
    }
    const machine: LabMachine | undefined = result.config && {
      name: copy.plan.name,
      group: copy.group,
      ...(copy.index !== undefined ? { index: copy.index } : {}),
      configPath: copy.configPath,
      text: applied.text,
      config: result.config,
      sources,
      nics: copy.plan.nics.map((n) => ({ nic: n.nic, network: n.network.name, address: n.address, mac: applied.macs.get(n.nic)! })),
    };
    built.push({ copy, applied, ...(machine ? { machine } : {}), served: dhcpServed(applied.doc, copy.plan) });
  }
  diagnostics.push(...groupFound(found, copiesOf, file));
  checkDhcp(built.map((b) => ({ plan: b.copy.plan, served: b.served })), report);

  const machines = built.flatMap((b) => (b.machine ? [b.machine] : []));
  return done({
    name: model.lab.name,
    ...(model.lab.description !== undefined ? { description: model.lab.description } : {}),
    networks,
    machines,
  });
}

/** The lab file's problems first, then each other file's, each in line order. */
function sortLab(diagnostics: readonly LabDiagnostic[], labFile: string): LabDiagnostic[] {
  const rank = (d: LabDiagnostic): number => (d.file === labFile ? 0 : 1);
  return [...diagnostics].sort((a, b) => rank(a) - rank(b) || a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}

/** A lab file on this machine: its directory is the lab's sources. Throws VMG_FILE_READ when it cannot be read. */
export function loadLabFile(path: string, opts: { catalogs: Catalogs; target?: TargetLimits; cwd?: string }): LabLoadResult {
  const full = resolve(opts.cwd ?? process.cwd(), path);
  let text: string;
  try {
    text = decodeConfigBytes(readFileSync(full)).text;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new VmgenError('VMG_FILE_READ', `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? 'not UTF-8 text'}`, { cause: err });
  }
  return loadLab(text, { catalogs: opts.catalogs, ...(opts.target ? { target: opts.target } : {}), sources: dirSources(dirname(full)), file: path });
}
