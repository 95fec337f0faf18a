import type { Catalogs } from '../../catalog/schema.js';
import { formatDiagnostic, hasErrors } from '../../diagnostics.js';
import { VmgenError } from '../../errors.js';
import type { Lab } from '../../lab/types.js';
import type { StepEvent } from '../../steps/run-steps.js';
import type { Target } from '../../targets/types.js';
import { assembleLab, buildLabMember, LAB_FILE, loadLab } from '../labs/lab-api.js';
import { requestSources, type RequestFiles } from '../request-files.js';
import type { LabStart } from './protocol.js';

export interface LabJobContext {
  catalogs: Catalogs;
  target: Target;
  files: RequestFiles | undefined;
  cacheRoot: string;
  outDir: string;
  signal: AbortSignal;
  onEvent(e: StepEvent): void;
  log(line: string): void;
}

/** The lab again from its text and files, as the service validated it; catalogs or the code may have changed since. */
function reload(text: string, ctx: LabJobContext): Lab {
  const loaded = loadLab(text, { sources: requestSources(ctx.files), catalogs: ctx.catalogs, target: ctx.target, file: LAB_FILE });
  if (!loaded.lab || hasErrors(loaded.diagnostics)) {
    const lines = loaded.diagnostics.filter((d) => d.severity === 'error').map((d) => formatDiagnostic(d.file, d));
    throw new VmgenError('VMG_CONFIG_INVALID', `the lab does not validate: ${lines.join('; ')}`);
  }
  return loaded.lab;
}

/** A lab job in the build process: one machine's member output, or the lab's archive; returns the file made. */
export async function runLabJob(job: LabStart, ctx: LabJobContext): Promise<string> {
  const lab = reload(job.text, ctx);
  if (job.role === 'member') {
    if (!lab.machines.some((m) => m.name === job.machine)) throw new VmgenError('VMG_CONFIG_INVALID', `the lab has no machine ${job.machine}`);
    // The base goes into the member: the assembly may run on a host whose cache never held it.
    const out = await buildLabMember(lab, job.machine, ctx.target.id, ctx.outDir, {
      catalogs: ctx.catalogs, cacheRoot: ctx.cacheRoot, includeBase: true, signal: ctx.signal, onEvent: ctx.onEvent, log: ctx.log,
    });
    return out.file;
  }
  return assembleLab(lab, ctx.target.id, job.members.map((m) => m.file), ctx.outDir, { signal: ctx.signal, inputs: labInputs(job.text, ctx.files) });
}

/** The lab's own files for the archive's lab/ folder: the lab file and each text file it came with. */
function labInputs(text: string, files: RequestFiles | undefined): Array<[string, string]> {
  const out: Array<[string, string]> = [[LAB_FILE, text]];
  for (const [path, b64] of Object.entries(files ?? {})) {
    const bytes = Buffer.from(b64, 'base64');
    const asText = bytes.toString('utf8');
    // Binary sources (a site's images) stay in the machines; lab/ holds what a reader can read.
    if (Buffer.from(asText, 'utf8').equals(bytes)) out.push([path, asText]);
  }
  return out;
}
