import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Option } from 'commander';
import { resolveSpec } from '../../config/resolve.js';
import { VmgenError } from '../../errors.js';
import { configuratorFor } from '../../families/registry.js';
import { renderCommands } from '../../families/render-commands.js';
import { BUILDABLE_TARGET_IDS } from '../../targets/registry.js';
import { resolveVmLayout } from '../../disks/layout.js';
import { layerInputs, layerPackages } from '../../layers/inputs.js';
import { renderLinuxVmFstab } from '../../targets/vm/common.js';
import { windowsReviewFiles } from '../../families/windows/review-files.js';
import { targetOptionsFrom, withTargetOptions } from '../target-options.js';
import { catalogsFor, collect, loadValidConfig, targetFor } from '../shared.js';
import type { RegisterCommand } from './types.js';

/** Files an OS family adds beyond its configurator's plan (Windows: setup.bat, the answer media). */
const FAMILY_FILES: Partial<Record<string, typeof windowsReviewFiles>> = { windows: windowsReviewFiles };

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
      const commander = target.commander;
      if (!commander) throw new VmgenError('VMG_UNSUPPORTED', `target ${target.id} cannot be rendered yet`);
      const catalogs = catalogsFor(io, flags.catalog);
      const config = loadValidConfig(io, file, catalogs, target);
      // Rendering reads no host state: the mirror is a placeholder unless one is given.
      const spec = resolveSpec(config, catalogs, { target: target.id, defaultMirror: flags.mirror ?? 'http://mirror.invalid/debian' });
      const configurator = configuratorFor(spec.os.configurator);
      if (!configurator) throw new VmgenError('VMG_UNSUPPORTED', `${spec.os.label} guests cannot be rendered yet`);
      const guest = { spec, nicOwner: commander.nicOwner };
      const plan = configurator.plan(guest);
      const layout = target.kind === 'vm' ? resolveVmLayout(config, spec.os, spec.name) : undefined;
      // Windows VMs are not made from a layer: their family's files stand for it.
      const inputs = FAMILY_FILES[spec.os.family] ? undefined : layerInputs(configurator, guest, layout);
      const layer = inputs?.prepare;
      const targetRender = commander.render(spec, targetOptionsFrom(flags), layout);
      const files = new Map<string, string>();
      for (const f of FAMILY_FILES[spec.os.family]?.(spec, catalogs, layout, commander.platformSecurity) ?? []) files.set(f.path, f.content);
      for (const f of targetRender.archiveFiles) files.set(join('target', f.path), f.content);
      // A VM made from a layer is a Linux guest, whose disks the build lists in its fstab.
      if (inputs && layout) files.set(join('target', 'partitions', 'fstab'), renderLinuxVmFstab(layout));
      for (const f of [...(inputs?.setupFiles ?? []), ...(layer?.plan.files ?? []), ...plan.files, ...targetRender.guestFiles]) files.set(join('guest', f.path), f.content);
      files.set('guest-commands.txt', renderCommands([...(layer?.plan.commands ?? []), ...plan.commands], [...(layer?.plan.links ?? []), ...plan.links]));
      files.set('packages.txt', `${(inputs ? layerPackages(inputs) : [...new Set([...configurator.packages(guest), ...spec.appPackages])].sort()).join('\n')}\n`);

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
