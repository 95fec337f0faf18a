import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Option } from 'commander';
import { VmgenError } from '../../errors.js';
import { planBuild } from '../../orchestrator/plan.js';
import { planFiles } from '../../orchestrator/plan-files.js';
import { BUILDABLE_TARGET_IDS, findBuildable } from '../../targets/commanders.js';
import { targetOptionsFrom, withTargetOptions } from '../target-options.js';
import { catalogsFor, collect, loadValidConfig, targetFor } from '../shared.js';
import type { RegisterCommand } from './types.js';

export const registerRender: RegisterCommand = (program, io) => {
  const command = program
    .command('render')
    .description('write every file a build would generate (target config or VM description, partition tables, guest /etc files, firewall rules, commands) without building')
    .argument('<file>', 'config file')
    .addOption(new Option('-t, --target <target>', 'target').choices(BUILDABLE_TARGET_IDS).makeOptionMandatory())
    .requiredOption('-o, --out <dir>', 'directory to write into (created; must not exist or be empty)')
    .option('--mirror <url>', 'mirror to show in the files (default: the config\'s, else http://mirror.invalid/)')
    .option('--catalog <path>', 'an extra catalog file (repeatable)', collect);
  withTargetOptions(command)
    .action(async (file: string, flags: { target: string; out: string; mirror?: string; catalog?: string[]; lxcPath?: string; ctid?: string }) => {
      const target = targetFor(flags.target)!;
      if (!findBuildable(target.id)) throw new VmgenError('VMG_UNSUPPORTED', `target ${target.id} cannot be rendered yet`);
      const catalogs = catalogsFor(io, flags.catalog);
      const config = loadValidConfig(io, file, catalogs, target);
      // Rendering reads no host state: the mirror is a placeholder unless one is given, and a
      // Windows root is planned without the base disks and kits a build would look for.
      const plan = planBuild(config, catalogs, target.id, { defaultMirror: flags.mirror ?? 'http://mirror.invalid/debian', targetOptions: targetOptionsFrom(flags) });
      const files = planFiles(plan);

      const out = resolve(io.cwd, flags.out);
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
        throw new VmgenError('VMG_FILE_WRITE', `cannot write ${flags.out}: ${(err as Error).message}`, { hint: 'the output directory must not exist or be empty' });
      }
      for (const path of [...files.keys()].sort()) io.stdout.write(`${join(flags.out, path)}\n`);
    });
};
