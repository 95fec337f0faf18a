import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from '../../src/orchestrator/build.js';
import { checkHostTools, findTool } from '../../src/orchestrator/host-tools.js';
import { planBuild } from '../../src/orchestrator/plan.js';
import { loadCatalogs } from '../../src/catalog/load.js';
import type { VmConfig } from '../../src/config/model.js';
import { loadConfig } from '../../src/validate/load.js';
import { VmgenError } from '../../src/errors.js';
import { HOST_TOOLS, isHostTool } from '../../src/exec/tools.js';
import { BUILDABLE_TARGETS } from '../../src/targets/commanders.js';
import type { ArchiveFormat } from '../../src/targets/types.js';
import type { StepEvent } from '../../src/steps/run-steps.js';
import { filesystem, FILESYSTEM_NAMES, type Filesystem } from '../../src/catalog/filesystems.js';
import { mkfsArgv } from '../../src/disks/disk-image.js';
import { includesAll, includesNone, isInstance } from '../helpers/assert-values.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const catalogs = loadCatalogs({ env: {} });

/** A config for `os` with one disk: an ext4 root and one partition of each file system in `fss`. */
function configWith(os: string, firmware: 'bios' | 'efi', ...fss: Filesystem[]): VmConfig {
  const partition = (fs: Filesystem, i: number): string[] => [
    `                [[[[[p${i}]]]]]`, `                    fs = ${fs}`, '                    size = 256MB',
    ...(filesystem(fs).mountable ? [`                    mount = /srv/p${i}`] : []),
  ];
  const text = [
    '[hardware]', '    vm_id = tools1', `    os = ${os}`, `    firmware = ${firmware}`,
    '    [[hdds]]', '        [[[hdd0]]]', '            size = 8GB', '            type = sata', '            table = gpt',
    '            [[[[partitions]]]]', '                [[[[[root]]]]]', '                    fs = ext4', '                    size = 4GB', '                    mount = /',
    ...fss.flatMap(partition),
    '[config]', '    root_passwd = change-me', '    hostname = tools1', '    mirror = http://mirror.example/repo', '',
  ].join('\n');
  const loaded = loadConfig(text, { catalogs });
  if (!loaded.config) throw new Error(`${os} ${fss.join(' ')}: ${JSON.stringify(loaded.diagnostics)}`);
  return loaded.config;
}

/** The tools the plan's first step checks. */
function tools(target: string, format: ArchiveFormat, config: VmConfig = configWith('debian12-64', 'bios')): readonly string[] {
  return planBuild(config, catalogs, target, { format }).tools;
}

describe('planBuild(...).tools: the tools a build will run, from the steps that run them', () => {
  it('an xfs partition needs mkfs.xfs; ntfs needs mkfs.ntfs and ntfslabel; swap mkswap', () => {
    includesAll(tools('qemu', 'tar.zst', configWith('debian12-64', 'bios', 'xfs', 'ntfs', 'swap')), ['mkfs.xfs', 'mkfs.ntfs', 'ntfslabel', 'mkswap', 'mkfs.ext4']);
    includesNone(tools('qemu', 'tar.zst', configWith('debian12-64', 'bios')), ['mkfs.xfs', 'mkfs.ntfs', 'ntfslabel', 'mkswap']);
  });

  it('each firmware brings its boot loader: extlinux for BIOS, mtools and mkfs.vfat for the UEFI ESP', () => {
    const bios = tools('qemu', 'tar.zst', configWith('debian12-64', 'bios'));
    includesAll(bios, ['extlinux']);
    includesNone(bios, ['mcopy']);
    const efi = tools('qemu', 'tar.zst', configWith('debian12-64', 'efi', 'vfat'));
    includesAll(efi, ['mcopy', 'mkfs.vfat']);
    includesNone(efi, ['extlinux']);
  });

  it('VM builds partition, attach and convert; container builds do none of that', () => {
    includesAll(tools('vmware', 'tar.zst'), ['sfdisk', 'losetup', 'partx', 'qemu-img', 'qemu-storage-daemon']);
    const lxc = tools('lxc', 'tar.zst');
    includesNone(lxc, ['sfdisk', 'losetup', 'qemu-img', 'extlinux']);
    includesAll(lxc, ['mmdebstrap', 'unshare', 'chroot', 'mount', 'tar', 'zstd']);
  });

  it('the archive format brings its compressor; an LXC image needs xz', () => {
    includesAll(tools('lxc', 'tar.gz'), ['gzip']);
    includesNone(tools('lxc', 'tar.gz'), ['zstd']);
    includesAll(tools('lxc', 'image.tar'), ['xz']);
    includesAll(tools('oci', 'tar'), ['gzip']);
    // An openvz template is a tar.gz in any outer format.
    includesAll(tools('openvz', 'tar'), ['gzip']);
    includesAll(tools('openvz', 'tar.zst'), ['gzip', 'zstd']);
  });

  it('the installer brings its own: dnf and rpm for RedHat guests', () => {
    const rpm = tools('lxc', 'tar.zst', configWith('fedora42-64', 'bios'));
    includesAll(rpm, ['dnf', 'rpm']);
    includesNone(rpm, ['mmdebstrap']);
  });

  it('every tool any plan can name is in the tool table, so its package is known', () => {
    const undeclared: string[] = [];
    for (const os of ['debian12-64', 'fedora42-64']) {
      const config = configWith(os, 'efi', ...FILESYSTEM_NAMES);
      for (const target of BUILDABLE_TARGETS) {
        for (const format of target.commander.formats) {
          for (const tool of tools(target.id, format, config)) if (!isHostTool(tool)) undeclared.push(`${os} ${target.id} ${format}: ${tool}`);
        }
      }
    }
    assert.deepEqual(undeclared, [], 'declare these in HOST_TOOLS (src/exec/tools.ts) with their Debian package');
  });

  it('each file system\'s mkfs commands are declared tools (mkfs.ext* is built from the name)', () => {
    for (const fs of FILESYSTEM_NAMES) {
      for (const argv of mkfsArgv({ name: 'p', kind: 'primary', fs }, '00000000-0000-4000-8000-000000000000', '/dev/loop0p1', 512)) {
        assert.ok(isHostTool(argv[0]), `${fs}: ${argv[0]} is declared`);
      }
    }
  });
});

/** Source files below src/, recursively. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/**
 * The programs src/ hands to the exec runner as a literal argv[0], in the files that use it: arrays
 * passed straight to run, spawnStream, runLogged or disk-image's tool; arrays a function typed as
 * returning argvs (`[string, ...string[]]`: archiveArgv, mkfsArgv, ChrootCommunicator.argv…)
 * returns; and both arms of `findTool(…) ? [...] : [...]`.
 */
function literalArgv0(text: string): string[] {
  if (!/from '[./]*(?:\.\.\/)*exec\/(?:run|stream)\.js'|from '\.\/(?:run|stream)\.js'/.test(text)) return [];
  const found: string[] = [];
  for (const m of text.matchAll(/\b(?:run|spawnStream|runLogged|tool)\(\s*(?:[\w.{}: ]+,\s*)?\[\s*'([^']+)'/g)) found.push(m[1]!);
  for (const m of text.matchAll(/findTool\([^)]*\)\s*\?\s*\[\s*'([^']+)'[^:]*:\s*\[\s*'([^']+)'/g)) found.push(m[1]!, m[2]!);
  for (const sig of text.matchAll(/\): (?:Array<)?\[string, \.\.\.string\[\]\]>? \{\n/g)) {
    const start = sig.index + sig[0].length;
    const ends = ['\n}\n', '\n  }\n'].map((e) => text.indexOf(e, start)).filter((i) => i >= 0);
    const body = text.slice(start, Math.min(...ends));
    for (const m of body.matchAll(/(?:\breturn \[|\],)\s*\[?\s*'([^']+)'/g)) found.push(m[1]!);
  }
  return found;
}

describe('the tool table cannot drift from the code', () => {
  const found = new Map<string, string[]>();
  for (const file of sources(SRC)) {
    for (const tool of literalArgv0(readFileSync(file, 'utf8'))) found.set(tool, [...(found.get(tool) ?? []), file.slice(SRC.length)]);
  }
  // mkfsArgv runs each file system's mkfs program from the file-system table, not from a literal.
  for (const fs of FILESYSTEM_NAMES) found.set(filesystem(fs).mkfs, [...(found.get(filesystem(fs).mkfs) ?? []), 'catalog/filesystems.ts']);

  it('the scan finds the programs known to be run (so it is looking in the right places)', () => {
    for (const t of ['tar', 'zip', 'sfdisk', 'losetup', 'mkfs.xfs', 'mkfs.ntfs', 'ntfslabel', 'qemu-storage-daemon', 'qemu-img', 'unshare', 'lxc-start', 'lxc-create', 'podman', 'cp', 'umount']) {
      assert.ok(found.has(t), `the scan of src/ finds ${t}; it found ${[...found.keys()].sort().join(' ')}`);
    }
  });

  it('every literal argv[0] handed to the exec runner is declared in src/exec/tools.ts', () => {
    const undeclared = [...found].filter(([tool]) => !isHostTool(tool)).map(([tool, files]) => `${tool} (${files.join(', ')})`);
    assert.deepEqual(undeclared, [], 'declare these in HOST_TOOLS with their Debian package');
  });

  it('the table names a package for each tool', () => {
    for (const [tool, pkg] of Object.entries(HOST_TOOLS)) assert.match(pkg, /^[a-z0-9][a-z0-9.+-]+$/, `${tool}: ${pkg}`);
  });
});

describe('checkHostTools', () => {
  it('looks on PATH only, as spawn does: a tool outside PATH is missing', () => {
    assert.equal(findTool('sh', '/nonexistent-vmgen'), undefined);
    assert.ok(findTool('sh', '/usr/bin:/bin')?.endsWith('/sh'), 'sh is on /usr/bin:/bin');
  });

  it('names the missing tools and the packages to install', () => {
    assert.throws(() => checkHostTools(['sh', 'mkfs.xfs', 'ntfslabel'], { path: '/usr/bin:/bin-vmgen-none', needRoot: false }), (e: unknown) => {
      assert.ok(e instanceof VmgenError && e.code === 'VMG_TOOL_MISSING', 'a VMG_TOOL_MISSING error');
      assert.match(e.message, /mkfs\.xfs, ntfslabel/);
      assert.match(e.hint ?? '', /apt-get install xfsprogs ntfs-3g/);
      return true;
    });
  });
});

describe('checkHostTools with an installer\'s tools', () => {
  it('names dnf and rpm, and the packages that have them, when a RedHat build\'s host lacks them', () => {
    const rpmTools = tools('lxc', 'tar.zst', configWith('fedora42-64', 'bios'));
    assert.throws(() => checkHostTools(rpmTools, { path: '/nonexistent-vmgen-path' }), (e: unknown) => {
      isInstance(e, VmgenError);
      assert.equal(e.code, 'VMG_TOOL_MISSING');
      assert.match(e.message, /\bdnf\b.*\brpm\b/);
      assert.match(e.hint ?? '', /apt-get install .*\bdnf\b.*\brpm\b/);
      return true;
    });
  });
});

describe('a build whose host lacks one of its tools', () => {
  const text = readFileSync(fileURLToPath(new URL('../fixtures/vm/two-disks.conf', import.meta.url)), 'utf8');

  it('fails in the first step, naming mkfs.xfs, before any other step starts', async () => {
    const loaded = loadConfig(text, { catalogs });
    assert.ok(loaded.config, JSON.stringify(loaded.diagnostics));
    // Every declared tool that this host has, but mkfs.xfs: the xfs partition is the only user of it.
    const bin = mkdtempSync(join(tmpdir(), 'vmgen-path-'));
    const saved = process.env.PATH;
    const events: StepEvent[] = [];
    const stop = new AbortController();
    try {
      for (const tool of Object.keys(HOST_TOOLS).filter((t) => t !== 'mkfs.xfs')) {
        const at = findTool(tool);
        if (at !== undefined) symlinkSync(at, join(bin, tool));
      }
      process.env.PATH = bin;
      const failure = await build({
        config: loaded.config, catalogs, target: 'qemu', outDir: join(bin, 'out'), cacheRoot: join(bin, 'cache'), signal: stop.signal,
        onEvent: (e) => {
          events.push(e);
          // Should the check let the build through, it stops here rather than bootstrap a guest.
          if (e.kind === 'start' && e.index > 0) stop.abort();
        },
      }).then(() => undefined, (err: unknown) => err);
      assert.ok(failure instanceof VmgenError && failure.code === 'VMG_TOOL_MISSING', `VMG_TOOL_MISSING, got ${String(failure)}`);
      assert.match(failure.message, /\bmkfs\.xfs\b/);
      assert.match(failure.hint ?? '', /\bxfsprogs\b/);
      assert.deepEqual(events.filter((e) => e.kind === 'start').map((e) => (e as { step: string }).step), ['check host tools']);
    } finally {
      process.env.PATH = saved;
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
