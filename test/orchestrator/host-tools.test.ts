import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from '../../src/orchestrator/build.js';
import { buildHostTools, checkHostTools, findTool, type ToolPlan } from '../../src/orchestrator/host-tools.js';
import { loadCatalogs } from '../../src/catalog/load.js';
import { loadConfig } from '../../src/validate/load.js';
import { VmgenError } from '../../src/errors.js';
import { HOST_TOOLS, isHostTool } from '../../src/exec/tools.js';
import { aptInstaller } from '../../src/installers/apt/index.js';
import { dnfInstaller } from '../../src/installers/dnf/index.js';
import { TARGETS } from '../../src/targets/registry.js';
import type { StepEvent } from '../../src/steps/run-steps.js';
import { filesystem, FILESYSTEM_NAMES } from '../../src/catalog/filesystems.js';
import { mkfsArgv } from '../../src/disks/disk-image.js';
import type { Filesystem, VmLayout, VmPartition } from '../../src/disks/layout.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function target(id: string) {
  const t = TARGETS.find((x) => x.id === id);
  assert.ok(t?.commander, `target ${id} is buildable`);
  return { kind: t.kind, commander: t.commander };
}

function layout(firmware: VmLayout['firmware'], ...fss: Filesystem[]): VmLayout {
  const partitions: VmPartition[] = [
    { name: 'root', kind: 'primary', fs: 'ext4', mount: '/' },
    ...fss.map((fs, i): VmPartition => ({ name: `p${i}`, kind: 'primary', fs, sizeMiB: 512, mount: `/srv/p${i}` })),
  ];
  return {
    firmware, cdDrives: [],
    disks: [{ name: 'hdd0', file: 'm-hdd0', sizeMiB: 4096, controller: 'sata', bus: 0, unit: 0, table: 'gpt', partitions, boot: true }],
  };
}

function plan(targetId: string, format: ToolPlan['format'], extra: Partial<ToolPlan> = {}): ToolPlan {
  return { installer: aptInstaller, ...target(targetId), format, ...extra };
}

describe('buildHostTools: the tools a build will run, from what it does', () => {
  it('an xfs partition needs mkfs.xfs; ntfs needs mkfs.ntfs and ntfslabel; swap mkswap', () => {
    const tools = buildHostTools(plan('qemu', 'tar.zst', { layout: layout('bios', 'xfs', 'ntfs', 'swap') }));
    for (const t of ['mkfs.xfs', 'mkfs.ntfs', 'ntfslabel', 'mkswap', 'mkfs.ext4']) assert.ok(tools.includes(t), `${t} in ${tools.join(' ')}`);
    const ext4Only = buildHostTools(plan('qemu', 'tar.zst', { layout: layout('bios') }));
    for (const t of ['mkfs.xfs', 'mkfs.ntfs', 'ntfslabel', 'mkswap']) assert.ok(!ext4Only.includes(t), `an ext4-only layout does not need ${t}`);
  });

  it('each firmware brings its boot loader: extlinux for BIOS, mtools and mkfs.vfat for the UEFI ESP', () => {
    const bios = buildHostTools(plan('qemu', 'tar.zst', { layout: layout('bios') }));
    assert.ok(bios.includes('extlinux') && !bios.includes('mcopy'), `bios: ${bios.join(' ')}`);
    const efi = buildHostTools(plan('qemu', 'tar.zst', { layout: { ...layout('efi', 'vfat') } }));
    assert.ok(efi.includes('mcopy') && efi.includes('mkfs.vfat') && !efi.includes('extlinux'), `efi: ${efi.join(' ')}`);
  });

  it('VM builds partition, attach and convert; container builds do none of that', () => {
    const vm = buildHostTools(plan('vmware', 'tar.zst', { layout: layout('bios') }));
    for (const t of ['sfdisk', 'losetup', 'partx', 'qemu-img', 'qemu-storage-daemon']) assert.ok(vm.includes(t), `vm needs ${t}`);
    const lxc = buildHostTools(plan('lxc', 'tar.zst'));
    for (const t of ['sfdisk', 'losetup', 'qemu-img', 'extlinux']) assert.ok(!lxc.includes(t), `lxc does not need ${t}`);
    for (const t of ['mmdebstrap', 'unshare', 'chroot', 'mount', 'tar', 'zstd']) assert.ok(lxc.includes(t), `lxc needs ${t}`);
  });

  it('the archive format brings its compressor; an LXC image needs xz', () => {
    assert.ok(buildHostTools(plan('lxc', 'tar.gz')).includes('gzip'), 'tar.gz needs gzip');
    assert.ok(!buildHostTools(plan('lxc', 'tar.gz')).includes('zstd'), 'tar.gz does not need zstd');
    assert.ok(buildHostTools(plan('lxc', 'image.tar')).includes('xz'), 'image.tar needs xz');
    assert.ok(buildHostTools(plan('oci', 'tar')).includes('gzip'), 'oci compresses its layer with gzip');
    assert.ok(buildHostTools(plan('openvz', 'tar')).includes('gzip'), 'an openvz template is a tar.gz in any outer format');
    assert.ok(buildHostTools(plan('openvz', 'tar.zst')).includes('zstd'), 'openvz tar.zst needs zstd too');
  });

  it('the installer brings its own: dnf and rpm for RedHat guests', () => {
    const tools = buildHostTools({ ...plan('lxc', 'tar.zst'), installer: dnfInstaller });
    assert.ok(tools.includes('dnf') && tools.includes('rpm') && !tools.includes('mmdebstrap'), tools.join(' '));
  });

  it('every tool any plan can name is in the tool table, so its package is known', () => {
    for (const t of TARGETS.filter((x) => x.commander)) {
      for (const format of t.commander!.formats) {
        for (const installer of [aptInstaller, dnfInstaller]) {
          const lay = t.kind === 'vm' ? { layout: layout('efi', ...FILESYSTEM_NAMES) } : {};
          for (const tool of buildHostTools({ installer, kind: t.kind, commander: t.commander!, format, ...lay })) {
            assert.ok(isHostTool(tool), `${t.id} ${format}: ${tool} is declared in src/exec/tools.ts`);
          }
        }
      }
    }
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

describe('a build whose host lacks one of its tools', () => {
  const catalogs = loadCatalogs({ env: {} });
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
