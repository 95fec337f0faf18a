import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { VmgenError } from '../../errors.js';
import { dirSources } from '../../config/sources.js';
import { loadLab } from '../../lab/load.js';
import { labFiles } from '../../lab/render.js';
import type { Lab } from '../../lab/types.js';
import type { Target } from '../../targets/types.js';
import { TARGET_IDS } from '../../targets/registry.js';
import { formatDiagnostic } from '../../diagnostics.js';
import { catalogsFor, collect, readConfigText, targetFor } from '../shared.js';
import type { RegisterLabCommand } from './types.js';

/** Every file `vmgen lab render` writes, by its path under the output directory. */
export function renderedLabFiles(lab: Lab, _target: Target | undefined): Map<string, string> {
  return new Map([...labFiles(lab)]);
}

export const registerLabRender: RegisterLabCommand = (lab, io) => {
  lab
    .command('render')
    .description('write each machine\'s config as it will be built (DIR/machines/NAME.conf) and DIR/lab.json, without building')
    .argument('<labfile>', 'lab file')
    .requiredOption('-o, --out <dir>', 'directory to write into (created; must not exist or be empty)')
    .option('-t, --target <target>', `check each machine against a target's limits (${TARGET_IDS.join(', ')})`)
    .option('--catalog <path>', 'an extra catalog file (repeatable)', collect)
    .action(async (file: string, opts: { out: string; target?: string; catalog?: string[] }) => {
      const target = targetFor(opts.target);
      const text = readConfigText(io, file);
      const result = loadLab(text, {
        catalogs: catalogsFor(io, opts.catalog), ...(target ? { target } : {}), sources: dirSources(dirname(resolve(io.cwd, file))), file,
      });
      if (!result.lab) {
        for (const d of result.diagnostics) io.stderr.write(`${formatDiagnostic(d.file, d)}\n`);
        throw new VmgenError('VMG_CONFIG_INVALID', `${file} does not validate`);
      }
      for (const d of result.diagnostics) io.stderr.write(`${formatDiagnostic(d.file, d)}\n`);
      const files = renderedLabFiles(result.lab, target);
      const out = resolve(io.cwd, opts.out);
      const tmp = `${out}.partial-${process.pid}`;
      await rm(tmp, { recursive: true, force: true });
      try {
        for (const [path, content] of files) {
          await mkdir(dirname(join(tmp, path)), { recursive: true });
          await writeFile(join(tmp, path), content);
        }
        await rm(out, { recursive: false, force: true }).catch(() => {});
        await rename(tmp, out);
      } catch (err) {
        await rm(tmp, { recursive: true, force: true });
        throw new VmgenError('VMG_FILE_WRITE', `cannot write ${opts.out}: ${(err as Error).message}`, { hint: 'the output directory must not exist or be empty' });
      }
      for (const path of [...files.keys()].sort()) io.stdout.write(`${join(opts.out, path)}\n`);
    });
};
