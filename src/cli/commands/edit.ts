import type { Command } from 'commander';
import { realpathSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { getValue, parseKeyPath, setValue, unsetValue } from '../../config/ini/edit.js';
import { serializeDocument, toOrderedJson } from '../../config/ini/document.js';
import { parseIni, parseValueText } from '../../config/ini/parse.js';
import { VALUE } from '../../config/ini/grammar.js';
import { loadConfig } from '../../validate/load.js';
import { loadLab } from '../../lab/load.js';
import { dirSources } from '../../config/sources.js';
import type { Catalogs } from '../../catalog/schema.js';
import type { IniDocument } from '../../config/ini/document.js';
import { formatDiagnostic, hasErrors, type Diagnostic } from '../../diagnostics.js';
import { VmgenError } from '../../errors.js';
import { writeFileAtomic } from '../../fsutil/atomic-write.js';
import type { CliIo } from '../io.js';
import { catalogsFor, collect, readParsedConfig } from '../shared.js';
import type { RegisterCommand } from './types.js';

interface EditOptions {
  force?: boolean;
  catalog?: string[];
}

type Edit = { kind: 'set'; path: string[]; value: string | string[] } | { kind: 'unset'; path: string[] };

function parseAssignment(text: string): Edit {
  const eq = text.indexOf('=');
  if (eq <= 0) {
    throw new VmgenError('VMG_USAGE', `'${text}' is not an assignment`, { hint: 'write key.path=value, e.g. hardware.num_cpu=2' });
  }
  const path = parseKeyPath(text.slice(0, eq));
  const raw = text.slice(eq + 1);
  // On the command line '#' starts no comment: `root_passwd=pa#ss` means that password, not 'pa'.
  if (VALUE.exec(raw.trim())?.[4] !== undefined) return { kind: 'set', path, value: raw.trim() };
  const parsed = parseValueText(raw);
  if (!parsed.ok) {
    throw new VmgenError('VMG_USAGE', `cannot read the value in '${text}': ${parsed.message}`, { hint: 'quote a value holding a comma: key="a, b"' });
  }
  return { kind: 'set', path, value: parsed.value };
}

/** A lab file (issue 16) is edited like a config, and checked as a lab: it has a [lab] section. */
const isLabFile = (doc: IniDocument): boolean => doc.root.entries.get('lab')?.kind === 'section';

/**
 * In a lab file, everything after `machines.NAME.set.` is one key: a set entry's key is itself a
 * key path into the machine's config (machines.pc.set.config.hostname sets `config.hostname`).
 */
function labKeyPath(path: string[]): string[] {
  return path.length > 4 && path[0] === 'machines' && path[2] === 'set' ? [...path.slice(0, 3), path.slice(3).join('.')] : path;
}

function inLab(edit: Edit): Edit {
  return { ...edit, path: labKeyPath(edit.path) };
}

/** The problems of a config, or of a lab and every machine it makes, each with its file. */
function problems(io: CliIo, file: string, text: string, catalogs: Catalogs, lab: boolean): Array<Diagnostic & { file: string }> {
  if (!lab) return loadConfig(text, { catalogs }).diagnostics.map((d) => ({ ...d, file }));
  return loadLab(text, { catalogs, sources: dirSources(dirname(resolvePath(io.cwd, file))), file }).diagnostics;
}

function printProblems(io: CliIo, diags: ReadonlyArray<Diagnostic & { file: string }>): void {
  for (const d of diags) io.stderr.write(`${formatDiagnostic(d.file, d)}\n`);
}

/** An error's identity across an edit, which moves the lines below it. */
const errorKey = (d: Diagnostic & { file?: string }): string => `${d.file ?? ''}\u0000${d.code}\u0000${d.message}`;

/** The errors of `after` that `before` did not have (as many of each as were added). */
function addedErrors<D extends Diagnostic>(before: readonly D[], after: readonly D[]): D[] {
  const old = new Map<string, number>();
  for (const d of before) if (d.severity === 'error') old.set(errorKey(d), (old.get(errorKey(d)) ?? 0) + 1);
  return after.filter((d) => {
    if (d.severity !== 'error') return false;
    const left = old.get(errorKey(d)) ?? 0;
    if (left > 0) old.set(errorKey(d), left - 1);
    return left === 0;
  });
}

/**
 * Applies edits to a file in place. The edit may add no error (unless forced), so a typo on the
 * command line never leaves a broken config behind; errors the file had already do not block an
 * edit, which may be the one that fixes them, and are named so nobody takes the file for valid.
 */
function applyEdits(io: CliIo, file: string, given: Edit[], opts: EditOptions): number {
  const { text: original, doc: first } = readParsedConfig(io, file, `${file} does not parse; fix it by hand first`);
  let doc = first;
  const lab = isLabFile(first);
  const edits = lab ? given.map(inLab) : given;
  for (const edit of edits) {
    if (edit.kind === 'set') setValue(doc, edit.path, edit.value);
    else if (!unsetValue(doc, edit.path)) {
      throw new VmgenError('VMG_NOT_FOUND', `${file} has no '${edit.path.join('.')}'`);
    }
    // Re-read after each edit: line numbers of everything below it have moved.
    const again = parseIni(serializeDocument(doc));
    if (again.diagnostics.length > 0) {
      throw new VmgenError('VMG_KEY_PATH', `${edit.kind === 'set' ? 'setting' : 'removing'} '${edit.path.join('.')}' would break the file's structure`, { hint: 'the key path may cross a value' });
    }
    doc = again.doc;
  }
  const text = serializeDocument(doc);
  const catalogs = catalogsFor(io, opts.catalog);
  const after = problems(io, file, text, catalogs, lab);
  if (hasErrors(after)) {
    const added = addedErrors(problems(io, file, original, catalogs, lab), after);
    const kept = after.filter((d) => d.severity === 'error' && !added.includes(d));
    if (added.length > 0) {
      printProblems(io, added);
      if (!opts.force) {
        io.stderr.write(`${file}: not written: the edit would add ${added.length === 1 ? 'this error' : `these ${added.length} errors`} (use --force to write it anyway)\n`);
        if (kept.length > 0) io.stderr.write(`${file}: it has ${kept.length} error${kept.length === 1 ? '' : 's'} already, which vmgen validate ${file} lists\n`);
        return 1;
      }
      io.stderr.write(`${file}: written with ${added.length === 1 ? 'this error' : 'these errors'} (--force)\n`);
    }
    if (kept.length > 0) {
      io.stderr.write(`${file}: written; ${kept.length === 1 ? 'this error was' : `these ${kept.length} errors were`} there before the edit and remain${kept.length === 1 ? 's' : ''}:\n`);
      printProblems(io, kept);
    }
  }
  if (text !== original) writeConfig(io, file, text);
  return 0;
}

/** Replaces the file atomically; through a symlink, the file it points to (the link stays a link). */
function writeConfig(io: CliIo, file: string, text: string): void {
  const target = resolvePath(io.cwd, file);
  let real = target;
  try {
    real = realpathSync(target);
  } catch {
    // write to the path as given; the error, if any, comes from the write
  }
  try {
    writeFileAtomic(real, text);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new VmgenError('VMG_FILE_WRITE', `cannot write ${file}: ${code ?? (err as Error).message}`, {
      cause: err,
      hint: code === 'EACCES' || code === 'EPERM' ? 'the file and its directory must be writable (a new copy replaces the file)' : undefined,
    });
  }
}

function addEditOptions(cmd: Command): Command {
  return cmd
    .option('-f, --force', 'write even if the result does not validate')
    .option('--catalog <path>', 'an extra catalog file (repeatable)', collect);
}

export const registerSet: RegisterCommand = (program, io, setExit) => {
  addEditOptions(
    program
      .command('set')
      .description('set values in a config file in place, keeping comments and layout (same as vmgctl)')
      .argument('<file>', 'config file')
      .argument('<assignments...>', 'key.path=value, e.g. hardware.num_cpu=2'),
  ).action((file: string, assignments: string[], opts: EditOptions) => {
    setExit(applyEdits(io, file, assignments.map(parseAssignment), opts));
  });
};

export const registerUnset: RegisterCommand = (program, io, setExit) => {
  addEditOptions(
    program
      .command('unset')
      .description('remove keys or whole sections from a config file in place')
      .argument('<file>', 'config file')
      .argument('<keys...>', 'key.path, e.g. gui.google-chrome or hardware.cd_drives'),
  ).action((file: string, keys: string[], opts: EditOptions) => {
    setExit(applyEdits(io, file, keys.map((k) => ({ kind: 'unset', path: parseKeyPath(k) })), opts));
  });
};

export const registerGet: RegisterCommand = (program, io) => {
  program
    .command('get')
    .description('print a value (or a section, as JSON) of a config file')
    .argument('<file>', 'config file')
    .argument('<key>', 'key.path, e.g. hardware.num_cpu')
    .option('--json', 'print the value as JSON')
    .action((file: string, key: string, opts: { json?: boolean }) => {
      const { doc } = readParsedConfig(io, file, `${file} does not parse`);
      const path = parseKeyPath(key);
      const value = getValue(doc, isLabFile(doc) ? labKeyPath(path) : path);
      if (value === undefined) throw new VmgenError('VMG_NOT_FOUND', `${file} has no '${key}'`);
      if (typeof value === 'object' && !Array.isArray(value)) io.stdout.write(`${toOrderedJson(value)}\n`);
      else if (opts.json) io.stdout.write(`${JSON.stringify(value)}\n`);
      else io.stdout.write(`${Array.isArray(value) ? value.join('\n') : value}\n`);
    });
};

/** vmgctl FILE key=value…: the seed's vmgCtl.py (Listing 2.1). */
export const registerVmgctl: RegisterCommand = (program, io, setExit) => {
  addEditOptions(
    program
      .description('edit values of a vmgen config file in place (vmgctl web.conf hardware.num_cpu=2)')
      .addHelpText('after', `
A lab file (one with a [lab] section) is edited the same way and checked as a lab (vmgen lab
validate): vmgctl lab.conf machines.pc.count=8. In a lab file everything after
machines.NAME.set. is one key, the key path the set entry applies to the machine's config:
  vmgctl lab.conf machines.pc.set.config.timezone=Europe/Bucharest
writes 'config.timezone = Europe/Bucharest' under [machines] [[pc]] [[[set]]].`)
      .argument('<file>', 'config file')
      .argument('[assignments...]', 'key.path=value, e.g. hardware.num_cpu=2')
      .option('--unset <key>', 'remove a key or section (repeatable)', collect),
  ).action((file: string, assignments: string[], opts: EditOptions & { unset?: string[] }) => {
    const edits: Edit[] = [...assignments.map(parseAssignment), ...(opts.unset ?? []).map((k): Edit => ({ kind: 'unset', path: parseKeyPath(k) }))];
    if (edits.length === 0) {
      throw new VmgenError('VMG_USAGE', 'nothing to change', { hint: 'vmgctl FILE key.path=value… [--unset key.path]' });
    }
    setExit(applyEdits(io, file, edits, opts));
  });
};
