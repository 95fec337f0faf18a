import assert from 'node:assert/strict';
import { show } from '../helpers/assert-values.js';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { build } from '../../src/orchestrator/build.js';
import { loadCatalogs } from '../../src/catalog/load.js';
import { loadConfig } from '../../src/validate/load.js';
import type { StepEvent } from '../../src/steps/run-steps.js';
import { VmgenError } from '../../src/errors.js';
import { WINDOWS_RELEASES } from '../../src/families/windows/releases.js';
import type { VmDisk, VmLayout } from '../../src/disks/layout.js';
import { RUNNER_BAT, buildFromBaseDisk, findBasePartition } from '../../src/families/windows/base-disk.js';

/*
 * The base-disk method on a synthetic base disk made here: an MBR disk whose one NTFS partition
 * (mkntfs) holds the folder tree of an installed Windows XP's All Users Startup folder, with a
 * recognizable boot code pattern. The result is read back without mounting: sfdisk --json after
 * converting the vmdk back, ntfscat for the files, the raw bytes for the boot code.
 */

const MIB = 1024 * 1024;
const XP = WINDOWS_RELEASES.xp!;
const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const bootCode = Buffer.from(Array.from({ length: 446 }, (_, i) => (i * 7 + 3) & 0xff));

function readRange(file: string, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, length, offset);
  } finally {
    closeSync(fd);
  }
  return buf;
}

/** A raw base disk: 96 MiB, one NTFS partition at 2 MiB (not where the clone goes); `dirs` are made inside it. */
function makeBase(dir: string, name: string, opts: { dirs: string[] }): string {
  const raw = join(dir, `${name}.raw`);
  const part = join(dir, `${name}.part`);
  writeFileSync(raw, '');
  execFileSync('truncate', ['-s', `${96 * MIB}`, raw]);
  execFileSync('sfdisk', ['--quiet', raw], { input: 'label: dos\nstart=4096, size=147456, type=7, bootable\n' });
  const fd = openSync(raw, 'r+');
  writeSync(fd, bootCode, 0, 446, 0);
  closeSync(fd);
  writeFileSync(part, '');
  execFileSync('truncate', ['-s', `${72 * MIB}`, part]);
  sh('mkntfs', ['-F', '-Q', '-q', '-p', '4096', '-H', '16', '-S', '63', '-L', 'BASE', part]);
  if (opts.dirs.length > 0) {
    // Only the test mounts (ntfs-3g through FUSE), to give the base the folders an installed
    // Windows has; vmgen itself never mounts NTFS.
    const mnt = join(dir, `${name}.mnt`);
    mkdirSync(mnt);
    sh('ntfs-3g', [part, mnt]);
    try {
      for (const d of opts.dirs) mkdirSync(join(mnt, d), { recursive: true });
      writeFileSync(join(mnt, 'ntldr'), 'not really a loader\n');
    } finally {
      sh('umount', [mnt]);
    }
  }
  sh('dd', [`if=${part}`, `of=${raw}`, 'bs=1M', 'seek=2', 'conv=notrunc,sparse', 'status=none']);
  rmSync(part);
  return raw;
}

const disk = (over: Partial<VmDisk> & Pick<VmDisk, 'name' | 'partitions'>): VmDisk => ({
  file: `m-${over.name}`, sizeMiB: 160, controller: 'ide', bus: 0, unit: 0, table: 'mbr', boot: false, ...over,
});

describe('Windows base-disk cloning', () => {
  let dir: string;
  let baseVmdk: string;
  const files = { config: '@echo off\r\nrem config\r\nnet user Administrator "pw"\r\n', setup: '@echo off\r\nrem setup\r\n' };
  const kit = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31 + 11) & 0xff));

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vmgen-win-base-'));
    const raw = makeBase(dir, 'base', { dirs: [XP.startupDir] });
    baseVmdk = join(dir, 'base.vmdk');
    sh('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', raw, baseVmdk]);
    rmSync(raw);
    writeFileSync(join(dir, 'kit.msi'), kit);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('clones the NTFS partition into the requested layout, with the boot code and the scripts', async () => {
    const layout: VmLayout = {
      firmware: 'bios',
      cdDrives: [],
      disks: [
        disk({
          name: 'hdd0', boot: true, sizeMiB: 200,
          partitions: [{ name: 'system', kind: 'primary', fs: 'ntfs', sizeMiB: 120 }, { name: 'data', kind: 'primary', fs: 'ntfs' }],
        }),
        disk({ name: 'hdd1', sizeMiB: 40, unit: 1, partitions: [{ name: 'extra', kind: 'primary', fs: 'ntfs', label: 'EXTRA' }] }),
      ],
    };
    const work = join(dir, 'work');
    mkdirSync(work);
    const outputs = [join(dir, 'out-hdd0.vmdk'), join(dir, 'out-hdd1.vmdk')];
    const result = await buildFromBaseDisk({
      baseDisk: baseVmdk, layout, release: XP, workDir: work, format: 'vmdk', outputs,
      files: [
        { path: '/vmgen/config.bat', content: files.config },
        { path: '/vmgen/setup.bat', content: files.setup },
        { path: '/vmgen/kits/kit.msi', source: join(dir, 'kit.msi') },
      ],
    });
    assert.deepEqual(result.outputs, outputs);
    assert.match(sh('qemu-img', ['info', outputs[0]!]), /file format: vmdk/);

    const back = join(dir, 'back.raw');
    sh('qemu-img', ['convert', '-O', 'raw', outputs[0]!, back]);
    const table = JSON.parse(sh('sfdisk', ['--json', back])) as { partitiontable: { label: string; partitions: Array<{ start: number; size: number; type: string; bootable?: boolean }> } };
    assert.equal(table.partitiontable.label, 'dos');
    assert.deepEqual(table.partitiontable.partitions.map((p) => [p.start, p.size, p.type, p.bootable === true]), [
      [2048, 120 * 2048, '7', true],
      [2048 + 120 * 2048, 200 * 2048 - 2048 - 120 * 2048, '7', false],
    ]);
    assert.deepEqual(readRange(back, 0, 446), bootCode, 'the MBR boot code is the base disk\'s');

    const system = join(dir, 'system.ntfs');
    writeFileSync(system, readRange(back, MIB, 120 * MIB));
    const info = sh('ntfsinfo', ['-m', '-f', system]);
    const clusters = Number(/Volume Size in Clusters: (\d+)/.exec(info)?.[1]);
    assert.ok(clusters * 4096 > 110 * MIB, `the volume was grown to the partition (${clusters} clusters)`);
    assert.equal(readRange(system, 0x1c, 4).readUInt32LE(), 2048, 'hidden sectors = the partition start');
    sh('ntfsresize', ['--info', '--force', '--no-progress-bar', system]); // fails on an inconsistent volume
    assert.equal(sh('ntfscat', ['-f', system, '/ntldr']), 'not really a loader\n', 'the base\'s files are there');
    assert.equal(sh('ntfscat', ['-f', system, '/vmgen-stage-1']), files.config);
    assert.equal(sh('ntfscat', ['-f', system, '/vmgen-stage-2']), files.setup);
    assert.deepEqual(execFileSync('ntfscat', ['-f', system, '/vmgen-stage-3']), kit);
    const runner = sh('ntfscat', ['-f', system, `/${XP.startupDir}/${RUNNER_BAT}`]);
    assert.match(runner, /move \/y "%SystemDrive%\\vmgen-stage-1" "%SystemDrive%\\vmgen\\config\.bat"/);
    assert.match(runner, /move \/y "%SystemDrive%\\vmgen-stage-3" "%SystemDrive%\\vmgen\\kits\\kit\.msi"/);
    assert.match(runner, /if not exist "%SystemDrive%\\vmgen\\kits" mkdir/);
    assert.match(runner, /call "%SystemDrive%\\vmgen\\config\.bat"/);
    assert.ok(runner.endsWith('(goto) 2>nul & del "%~f0"\r\n'), show(runner.slice(-60)));

    const data = join(dir, 'data.ntfs');
    writeFileSync(data, readRange(back, 121 * MIB, 79 * MIB));
    assert.match(sh('ntfsinfo', ['-m', '-f', data]), /Volume Size in Clusters/);

    const back1 = join(dir, 'back1.raw');
    sh('qemu-img', ['convert', '-O', 'raw', outputs[1]!, back1]);
    const t1 = JSON.parse(sh('sfdisk', ['--json', back1])) as { partitiontable: { partitions: Array<{ start: number; type: string }> } };
    assert.deepEqual(t1.partitiontable.partitions.map((p) => [p.start, p.type]), [[2048, '7']]);
    const extra = join(dir, 'extra.ntfs');
    writeFileSync(extra, readRange(back1, MIB, 39 * MIB));
    assert.match(sh('ntfslabel', ['-f', extra]), /EXTRA/);
  });

  it('shrinks the base volume into a smaller partition', async () => {
    const layout: VmLayout = { firmware: 'bios', cdDrives: [], disks: [disk({ name: 'hdd0', boot: true, sizeMiB: 48, partitions: [{ name: 's', kind: 'primary', fs: 'ntfs' }] })] };
    const work = join(dir, 'work-small');
    mkdirSync(work);
    const out = join(dir, 'small.raw');
    await buildFromBaseDisk({ baseDisk: baseVmdk, layout, release: XP, workDir: work, format: 'raw', outputs: [out], files: [{ path: '/vmgen/config.bat', content: files.config }] });
    const table = JSON.parse(sh('sfdisk', ['--json', out])) as { partitiontable: { partitions: Array<{ start: number; size: number }> } };
    assert.deepEqual(table.partitiontable.partitions.map((p) => [p.start, p.size]), [[2048, 47 * 2048]]);
    const vol = join(dir, 'small.ntfs');
    writeFileSync(vol, readRange(out, MIB, 47 * MIB));
    const clusters = Number(/Volume Size in Clusters: (\d+)/.exec(sh('ntfsinfo', ['-m', '-f', vol]))?.[1]);
    assert.ok(clusters * 4096 <= 47 * MIB && clusters * 4096 > 40 * MIB, `volume of ${clusters} clusters fits the 47 MiB partition`);
    sh('ntfsresize', ['--info', '--force', '--no-progress-bar', vol]);
    assert.equal(sh('ntfscat', ['-f', vol, '/ntldr']), 'not really a loader\n');
    assert.equal(sh('ntfscat', ['-f', vol, '/vmgen-stage-1']), files.config);
  });

  it('refuses a base disk without the Startup folder of the release, and one with two NTFS partitions', async () => {
    const bare = makeBase(dir, 'bare', { dirs: [] });
    const layout: VmLayout = { firmware: 'bios', cdDrives: [], disks: [disk({ name: 'hdd0', boot: true, partitions: [{ name: 's', kind: 'primary', fs: 'ntfs' }] })] };
    const work = join(dir, 'work-bare');
    mkdirSync(work);
    await assert.rejects(
      buildFromBaseDisk({ baseDisk: bare, layout, release: XP, workDir: work, format: 'raw', outputs: [join(dir, 'x.raw')], files: [] }),
      (err: unknown) => err instanceof VmgenError && err.code === 'VMG_UNSUPPORTED' && /Startup/.test(err.message),
    );
    const two = '{"partitiontable":{"label":"dos","partitions":[{"node":"a1","start":63,"size":100,"type":"7"},{"node":"a2","start":200,"size":100,"type":"7"}]}}';
    assert.throws(() => findBasePartition(two), /2 NTFS partitions/);
    assert.equal(findBasePartition('{"partitiontable":{"label":"dos","partitions":[{"node":"a1","start":63,"size":100,"type":"7"},{"node":"a2","start":200,"size":100,"type":"83"}]}}').start, 63);
  });

  it('refuses UEFI layouts: only BIOS installations are cloned', async () => {
    const layout: VmLayout = { firmware: 'efi', cdDrives: [], disks: [disk({ name: 'hdd0', boot: true, table: 'gpt', partitions: [{ name: 's', kind: 'primary', fs: 'ntfs' }] })] };
    await assert.rejects(
      buildFromBaseDisk({ baseDisk: baseVmdk, layout, release: XP, workDir: dir, format: 'raw', outputs: [join(dir, 'y.raw')], files: [] }),
      /UEFI/,
    );
  });
});

describe('vmgen build of a Windows guest from a base disk (vmware)', () => {
  const catalogs = loadCatalogs({ env: {} });
  const loaded = loadConfig(readFileSync(fileURLToPath(new URL('../fixtures/windows/winxp-seed.conf', import.meta.url)), 'utf8'), { catalogs });
  const config = loaded.config!;
  const KITS = ['python-setup.msi', 'emacs.zip', 'FileZilla_Server-setup.exe', 'TortoiseSVN-setup.msi', 'Git-setup.exe', 'ThunderbirdSetup.exe'];
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vmgen-win-build-'));
    mkdirSync(join(dir, 'base-disks'));
    mkdirSync(join(dir, 'kits'));
    const raw = makeBase(dir, 'xp', { dirs: [XP.startupDir] });
    sh('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, join(dir, 'base-disks', 'winxppro.qcow2')]);
    rmSync(raw);
    for (const k of KITS) writeFileSync(join(dir, 'kits', k), `kit ${k}\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing kit fails before any build step, naming the kit', async () => {
    rmSync(join(dir, 'kits', 'Git-setup.exe'));
    const events: StepEvent[] = [];
    try {
      await assert.rejects(
        build({
          config, catalogs, target: 'vmware', outDir: join(dir, 'out-missing'), cacheRoot: join(dir, 'cache'), onEvent: (e) => events.push(e),
          targetOptions: { kitsDir: join(dir, 'kits'), baseDisksDir: join(dir, 'base-disks') },
        }),
        (err: unknown) => err instanceof VmgenError && err.code === 'VMG_KIT_MISSING' && /Git-setup\.exe \(for git\)/.test(err.message),
      );
      assert.deepEqual(events, [], 'no step started');
    } finally {
      writeFileSync(join(dir, 'kits', 'Git-setup.exe'), 'kit Git-setup.exe\n');
    }
    await assert.rejects(
      build({ config, catalogs, target: 'vmware', outDir: join(dir, 'o'), cacheRoot: join(dir, 'cache'), targetOptions: { kitsDir: join(dir, 'kits'), baseDisksDir: join(dir, 'kits') } }),
      /no base disk for winxppro/,
    );
    await assert.rejects(
      build({ config, catalogs, target: 'lxc', outDir: join(dir, 'o'), cacheRoot: join(dir, 'cache'), targetOptions: { kitsDir: join(dir, 'kits'), baseDisksDir: join(dir, 'base-disks') } }),
      /virtual machines/,
    );
  });

  it('builds the seed sample: vmx and vmdk in the archive, the scripts and kits in the cloned volume', async () => {
    const events: StepEvent[] = [];
    const result = await build({
      config, catalogs, target: 'vmware', format: 'tar', outDir: join(dir, 'out'), cacheRoot: join(dir, 'cache'), onEvent: (e) => events.push(e),
      targetOptions: { kitsDir: join(dir, 'kits'), baseDisksDir: join(dir, 'base-disks') },
    });
    assert.equal(result.archive, join(dir, 'out', 'TestMachine-vmware.tar'));
    assert.deepEqual(events.filter((e) => e.kind === 'done').map((e) => e.step), [
      'check host tools', 'hardware: target configuration', 'start: work directory', 'partitions: clone the base disk, write the scripts and kits', 'stop and archive', 'publish',
    ]);
    assert.deepEqual(events.filter((e) => e.kind === 'skip').map((e) => e.step), ['partitions: blank disks and the answer media for Windows Setup']);
    const x = join(dir, 'x');
    mkdirSync(x);
    sh('tar', ['-xf', result.archive, '-C', x]);
    const vmx = readFileSync(join(x, 'TestMachine.vmx'), 'utf8');
    assert.match(vmx, /guestOS = "winxppro"/);
    assert.match(vmx, /ide0:0.fileName = "TestMachine-hdd0.vmdk"/);
    // The clone of the admin's base disk names itself in its descriptor, not the file it was made as.
    assert.match(readFileSync(join(x, 'TestMachine-hdd0.vmdk')).subarray(0, 64 * 512).toString('latin1'), /^RW \d+ SPARSE "TestMachine-hdd0\.vmdk"$/m);
    const back = join(dir, 'built.raw');
    sh('qemu-img', ['convert', '-O', 'raw', join(x, 'TestMachine-hdd0.vmdk'), back]);
    const t = JSON.parse(sh('sfdisk', ['--json', back])) as { partitiontable: { partitions: Array<{ start: number; size: number; type: string; bootable?: boolean }> } };
    assert.deepEqual(t.partitiontable.partitions.map((p) => [p.start, p.size, p.type, p.bootable === true]), [[2048, 5000 * 2048, '7', true]]);
    assert.deepEqual(readRange(back, 0, 446), bootCode);
    const vol = join(dir, 'built.ntfs');
    writeFileSync(vol, '');
    sh('dd', [`if=${back}`, `of=${vol}`, 'bs=1M', 'skip=1', 'count=5000', 'conv=sparse', 'status=none']);
    const runner = sh('ntfscat', ['-f', vol, `/${XP.startupDir}/${RUNNER_BAT}`]);
    const moves = [...runner.matchAll(/move \/y "%SystemDrive%\\(vmgen-stage-\d+)" "%SystemDrive%\\(.+?)" >nul/g)].map((m) => [m[1]!, m[2]!]);
    const byTarget = Object.fromEntries(moves.map(([stage, target]) => [target, stage]));
    assert.match(sh('ntfscat', ['-f', vol, `/${byTarget['vmgen\\config.bat']!}`]), /wmic computersystem where name="%COMPUTERNAME%" call rename "xp-gen"/);
    assert.match(sh('ntfscat', ['-f', vol, `/${byTarget['vmgen\\setup.bat']!}`]), /"%KITS%\\ThunderbirdSetup\.exe" -ms/);
    for (const k of KITS) assert.equal(sh('ntfscat', ['-f', vol, `/${byTarget[`vmgen\\kits\\${k}`]!}`]), `kit ${k}\n`);
  });
});
