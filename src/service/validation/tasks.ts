import type { Catalogs } from '../../catalog/schema.js';
import { configJsonSchema } from '../../config/json-schema.js';
import { loadConfig } from '../../validate/load.js';
import { normalize } from '../../config/normalize.js';
import { machineNameOf } from '../../config/resolve.js';
import { hasErrors, sortDiagnostics, type Diagnostic } from '../../diagnostics.js';
import { VmgenError } from '../../errors.js';
import { planBuild, type BuildPlan } from '../../orchestrator/plan.js';
import { ARCHIVE_PLACEHOLDER } from '../../targets/run-commands.js';
import { findTarget } from '../../targets/registry.js';
import type { ArchiveFormat, RunCommand } from '../../targets/types.js';
import { requestSources, type RequestFiles } from '../request-files.js';
import { sourceDiagnostics, type SourcePolicy } from '../source-policy.js';
import { applyEdits, keyOrderFromSchema, type ConfigEdit, type KeyOrder } from '../web/edit.js';
import { parseConfigText, type ParsedConfig } from '../web/parse.js';
import type { LabTopology } from '../web/shared-types.js';
import type { LabDiagnostic } from '../../lab/types.js';
import type { CheckedLabMachine } from '../labs/lab-jobs.js';
import { LAB_FILE, loadLab } from '../labs/lab-api.js';
import { labTopology } from '../labs/topology.js';

/**
 * Everything the service does with a config text that a user sent: reading it costs time that
 * depends on the text, so these run in a worker thread under a time budget (see checker.ts), and
 * take and return only plain data.
 */
export type CheckTask =
  | { kind: 'submit'; text: string; target: string; format?: ArchiveFormat; files?: RequestFiles }
  | { kind: 'parse'; text: string; target?: string; files?: RequestFiles }
  | { kind: 'edit'; text: string; edits: ConfigEdit[]; target?: string; files?: RequestFiles }
  | { kind: 'lab'; text: string; target: string; files?: RequestFiles };

export interface SubmitCheck {
  valid: boolean;
  /** Errors and warnings, sorted; the policy's refusals among them. */
  diagnostics: Diagnostic[];
  /** What the build will be called: vm_id, else hostname. */
  name: string;
  /** The build plan's step names, in order; empty when the config is not valid. */
  steps: string[];
  /** The commands that will start its archive (ARCHIVE_PLACEHOLDER for it), run where the download was saved; empty when the config is not valid. */
  run: RunCommand[];
}

/** A lab file as `vmgen lab validate --target` reads it, plus what the service needs to queue its machines. */
export interface LabCheck {
  valid: boolean;
  /** Errors and warnings, each with the file it is about (the lab file is lab.conf), sorted by file and line. */
  diagnostics: LabDiagnostic[];
  name: string;
  /** Present when valid. */
  topology?: LabTopology;
  /** Each machine's config as it will be built and its plan's step names; empty when not valid. */
  machines: CheckedLabMachine[];
}

export type CheckResult<T extends CheckTask> = T extends { kind: 'submit' } ? SubmitCheck : T extends { kind: 'lab' } ? LabCheck
  : T extends { kind: 'edit' } ? ParsedConfig & { text: string } : ParsedConfig;

/** What a checker needs besides the task: made once per worker. */
export interface CheckContext {
  catalogs: Catalogs;
  policy: SourcePolicy | undefined;
  order: KeyOrder;
}

export function checkContext(catalogs: Catalogs, policy?: SourcePolicy): CheckContext {
  return { catalogs, policy, order: keyOrderFromSchema(configJsonSchema(catalogs)) };
}

function submitCheck(ctx: CheckContext, text: string, targetId: string, files: RequestFiles | undefined, format?: ArchiveFormat): SubmitCheck {
  const target = findTarget(targetId);
  if (!target) throw new VmgenError('VMG_USAGE', `unknown target "${targetId}"`);
  // The same check `vmgen validate --target` makes, so the API and the CLI agree line for line;
  // the request's files stand where the CLI has the directory beside the config.
  const loaded = loadConfig(text, { catalogs: ctx.catalogs, target, sources: requestSources(files), ...(format ? { format } : {}) });
  const policy = ctx.policy && loaded.places && loaded.doc ? sourceDiagnostics(normalize(loaded.doc.root).tree, loaded.places, ctx.policy) : [];
  const diagnostics = policy.length ? sortDiagnostics([...loaded.diagnostics, ...policy]) : loaded.diagnostics;
  const c = loaded.config;
  const name = c === undefined ? 'vmgen' : machineNameOf(c);
  if (c === undefined || hasErrors(diagnostics)) return { valid: false, diagnostics, name, steps: [], run: [] };
  // A request is accepted only when the build can be planned, as `vmgen build` would plan it;
  // the mirror is the worker's to choose, so a placeholder stands for it here.
  try {
    const plan = planBuild(c, ctx.catalogs, target.id, { defaultMirror: PLAN_MIRROR, ...(format ? { format } : {}) });
    return { valid: true, diagnostics, name, steps: plan.steps.map((s) => s.name), run: downloadRunSteps(plan) };
  } catch (err) {
    if (!(err instanceof VmgenError)) throw err;
    const refusal: Diagnostic = { code: err.code, severity: 'error', message: err.message, line: 0, column: 0, ...(err.hint ? { hint: err.hint } : {}) };
    return { valid: false, diagnostics: sortDiagnostics([...diagnostics, refusal]), name, steps: [], run: [] };
  }
}

const PLAN_MIRROR = 'http://mirror.invalid/debian';

/**
 * The run commands for the archive as a download offers it, in the folder it was saved to (its name
 * goes in once it exists); the machine's own folders under ~/.
 */
function downloadRunSteps(plan: BuildPlan): RunCommand[] {
  return plan.target.commander.run({ spec: plan.spec, archive: ARCHIVE_PLACEHOLDER, format: plan.format, options: plan.options, dir: '~' });
}


function labCheck(ctx: CheckContext, text: string, targetId: string, files: RequestFiles | undefined): LabCheck {
  const target = findTarget(targetId);
  if (!target) throw new VmgenError('VMG_USAGE', `unknown target "${targetId}"`);
  const loaded = loadLab(text, { sources: requestSources(files), catalogs: ctx.catalogs, target, file: LAB_FILE });
  const diagnostics: LabDiagnostic[] = [...loaded.diagnostics];
  const lab = loaded.lab;
  const machines: CheckedLabMachine[] = [];
  for (const m of lab?.machines ?? []) {
    // Each machine as `vmgen build` would take it: the server's mirror policy, and a plan.
    const one = loadConfig(m.text, { catalogs: ctx.catalogs, target, sources: m.sources });
    const policy = ctx.policy && one.places && one.doc ? sourceDiagnostics(normalize(one.doc.root).tree, one.places, ctx.policy) : [];
    diagnostics.push(...policy.map((d) => ({ ...d, file: m.configPath })));
    try {
      const plan = planBuild(m.config, ctx.catalogs, target.id, { defaultMirror: PLAN_MIRROR });
      machines.push({ name: m.name, text: m.text, steps: plan.steps.map((s) => s.name) });
    } catch (err) {
      if (!(err instanceof VmgenError)) throw err;
      diagnostics.push({ file: m.configPath, code: err.code, severity: 'error', message: `${m.name}: ${err.message}`, line: 0, column: 0, ...(err.hint ? { hint: err.hint } : {}) });
    }
  }
  const sorted = diagnostics.sort((a, b) => (a.file === b.file ? 0 : a.file === LAB_FILE ? -1 : b.file === LAB_FILE ? 1 : a.file < b.file ? -1 : 1) || a.line - b.line || a.column - b.column);
  const valid = lab !== undefined && !hasErrors(sorted);
  return {
    valid, diagnostics: sorted, name: lab?.name ?? 'lab',
    ...(valid ? { topology: labTopology(lab) } : {}),
    machines: valid ? machines : [],
  };
}

export function runCheck<T extends CheckTask>(ctx: CheckContext, task: T): CheckResult<T> {
  switch (task.kind) {
    case 'submit':
      return submitCheck(ctx, task.text, task.target, task.files, task.format) as CheckResult<T>;
    case 'lab':
      return labCheck(ctx, task.text, task.target, task.files) as CheckResult<T>;
    case 'parse':
      return parseConfigText(task.text, ctx.catalogs, task.target, ctx.policy, requestSources(task.files)) as CheckResult<T>;
    case 'edit': {
      const out = applyEdits(task.text, task.edits, ctx.order);
      return { text: out, ...parseConfigText(out, ctx.catalogs, task.target, ctx.policy, requestSources(task.files)) } as CheckResult<T>;
    }
  }
  throw new VmgenError('VMG_INTERNAL', `unknown check ${(task as { kind: string }).kind}`);
}
