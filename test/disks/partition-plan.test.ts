import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { findOs, loadCatalogs } from '../../src/catalog/load.js';
import { loadConfig } from '../../src/validate/load.js';
import { findTool } from '../../src/exec/tools.js';
import { run } from '../../src/exec/run.js';
import { resolveVmLayout, type VmDisk, type VmPartition } from '../../src/disks/layout.js';
import { GPT_TYPES, partitionDevices, planPartitions, sfdiskScript } from '../../src/disks/partition-plan.js';

const catalogs = loadCatalogs();

function disk(table: VmDisk['table'], sizeMiB: number, partitions: VmPartition[], boot = true): VmDisk {
  return { name: 'hdd0', file: 'm-hdd0', sizeMiB, controller: 'sata', bus: 0, unit: 0, table, partitions, boot };
}

const part = (name: string, fs: VmPartition['fs'], sizeMiB: number | undefined, extra: Partial<VmPartition> = {}): VmPartition =>
  ({ name, kind: 'primary', fs, ...(sizeMiB === undefined ? {} : { sizeMiB }), ...extra });

/** The spec: two disks, four partitions, one of them swap and one logical. */
const TWO_DISKS = `[hardware]
    vm_id = m1
    os = debian12-64
    firmware = bios
    [[hdds]]
        [[[hdd0]]]
            size = 64
            table = mbr
            [[[[partitions]]]]
                [[[[[root]]]]]
                    fs = ext4
                    size = 32
                    mount = /
                [[[[[swap]]]]]
                    type = logical
                    fs = swap
                    size = 8
                [[[[[home]]]]]
                    type = logical
                    fs = ext4
                    mount = /home
        [[[hdd1]]]
            size = 48
            table = gpt
            [[[[partitions]]]]
                [[[[[data]]]]]
                    fs = xfs
                    mount = /srv
`;

function twoDiskLayout() {
  const r = loadConfig(TWO_DISKS, { catalogs });
  assert.ok(r.config, JSON.stringify(r.diagnostics));
  return resolveVmLayout(r.config, findOs(catalogs, 'debian12-64')!, 'm1');
}

describe('planPartitions', () => {
  it('puts MBR primaries first, then an extended partition holding the logical ones from number 5', () => {
    const d = disk('mbr', 100, [
      part('root', 'ext4', 40, { mount: '/' }), part('swap', 'swap', 10, { kind: 'logical' }),
      part('win', 'ntfs', 20), part('data', 'ext3', undefined, { kind: 'logical', mount: '/data' }),
    ]);
    assert.deepEqual(planPartitions(d).map((p) => [p.number, p.partition?.name, p.startMiB, p.sizeMiB, p.type, p.bootable]), [
      [1, 'root', 1, 40, '83', true],
      [2, 'win', 41, 20, '7', false],
      [3, undefined, 61, 39, '5', false],
      [5, 'swap', 62, 10, '82', false],
      // 100 MiB - 1 (alignment) - 40 - 20 - 10 - 2 EBRs
      [6, 'data', 73, 27, '83', false],
    ]);
  });

  it('gives GPT partitions type GUIDs in config order and keeps the last MiB for the backup table', () => {
    const d = disk('gpt', 600, [
      part('esp', 'vfat', 256, { mount: '/boot/efi', esp: true }), part('root', 'xfs', undefined, { mount: '/' }),
      part('swap', 'swap', 64), part('share', 'vfat', 8, { mount: '/share' }),
    ]);
    assert.deepEqual(planPartitions(d, 'efi').map((p) => [p.number, p.startMiB, p.sizeMiB, p.type, p.bootable]), [
      [1, 1, 256, GPT_TYPES.esp, false],
      [2, 257, 270, GPT_TYPES.linux, false],
      [3, 527, 64, GPT_TYPES.swap, false],
      [4, 591, 8, GPT_TYPES.msdata, false],
    ]);
    assert.equal(planPartitions(d, 'bios')[1]!.bootable, true, 'BIOS marks the root partition for gptmbr.bin');
  });

  it('marks the partition holding /boot, not /, when /boot has its own', () => {
    const d = disk('mbr', 100, [part('root', 'ext4', 50, { mount: '/' }), part('boot', 'ext2', undefined, { mount: '/boot' })]);
    assert.deepEqual(planPartitions(d).map((p) => p.bootable), [false, true]);
    assert.deepEqual(planPartitions({ ...d, boot: false }).map((p) => p.bootable), [false, false]);
  });

  it('uses c for FAT data and ef for an ESP on MBR', () => {
    const d = disk('mbr', 100, [part('esp', 'vfat', 40, { mount: '/boot/efi', esp: true }), part('fat', 'vfat', undefined)]);
    assert.deepEqual(planPartitions(d, 'efi').map((p) => p.type), ['ef', 'c']);
  });

  it('rejects what cannot be partitioned, saying which disk', () => {
    const five = [1, 2, 3, 4, 5].map((i) => part(`p${i}`, 'ext4', 10));
    assert.throws(() => planPartitions(disk('mbr', 100, five)), /disk hdd0: \[hdd0\] has 5 primary partitions; MBR holds 4/);
    assert.throws(() => planPartitions(disk('mbr', 100, [part('a', 'ext4', undefined), part('b', 'ext4', undefined)])), /only one partition may fill/);
    assert.throws(() => planPartitions(disk('gpt', 100, [part('a', 'ext4', 98), part('b', 'ext4', undefined)])), /need 101 MiB but the disk has 100 MiB/);
    assert.throws(() => planPartitions(disk('gpt', 100, [part('a', 'ext4', 10), part('a', 'swap', 10)])), /two partitions are named a/);
  });
});

describe('partitionDevices', () => {
  it('numbers the issue spec as the kernel will: sda1, sda5, sda6 and sdb1', () => {
    const layout = twoDiskLayout();
    assert.deepEqual(layout.disks.map((d) => partitionDevices(d)), [{ root: 1, swap: 5, home: 6 }, { data: 1 }]);
  });
});

describe('sfdiskScript', () => {
  it('writes sectors, types, names and the boot mark', () => {
    const d = disk('gpt', 64, [part('root', 'ext4', 32, { mount: '/' }), part('swap', 'swap', undefined)]);
    assert.equal(sfdiskScript(d), [
      'label: gpt', 'unit: sectors', 'sector-size: 512', '',
      `start=2048, size=65536, type=${GPT_TYPES.linux}, name="root", attrs="LegacyBIOSBootable"`,
      `start=67584, size=61440, type=${GPT_TYPES.swap}, name="swap"`, '',
    ].join('\n'));
  });

  it('keeps quotes and line breaks in names from reaching sfdisk', () => {
    const d = disk('gpt', 64, [part('a"b\nc', 'ext4', undefined)]);
    assert.match(sfdiskScript(d), /name="a_b_c"/);
  });

  describe('against the real sfdisk', { skip: findTool('sfdisk') === undefined ? 'sfdisk is not installed' : false }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmgen-sfdisk-'));
    after(() => rmSync(dir, { recursive: true, force: true }));

    interface SfdiskJson { partitiontable: { label: string; partitions?: Array<{ node: string; start: number; size: number; type: string; bootable?: boolean; name?: string; attrs?: string }> } }

    async function partitionFile(d: VmDisk, firmware: 'bios' | 'efi'): Promise<SfdiskJson['partitiontable']> {
      const image = join(dir, `${d.name}.raw`);
      writeFileSync(image, '');
      truncateSync(image, d.sizeMiB * 1024 * 1024);
      await run(['sfdisk', '--quiet', '--no-reread', '--no-tell-kernel', image], { input: sfdiskScript(d, firmware) });
      const table = (JSON.parse((await run(['sfdisk', '--json', image])).stdout) as SfdiskJson).partitiontable;
      return { ...table, partitions: table.partitions?.map((p) => ({ ...p, node: p.node.slice(image.length) })) };
    }

    it('writes exactly the planned layout of the issue spec: 2 disks, 4 partitions, one swap, one logical', async () => {
      const [hdd0, hdd1] = twoDiskLayout().disks;
      const t0 = await partitionFile(hdd0!, 'bios');
      assert.equal(t0.label, 'dos');
      assert.deepEqual(t0.partitions, [
        { node: '1', start: 2048, size: 32 * 2048, type: '83', bootable: true },
        { node: '2', start: 33 * 2048, size: 31 * 2048, type: '5' },
        { node: '5', start: 34 * 2048, size: 8 * 2048, type: '82' },
        { node: '6', start: 43 * 2048, size: 21 * 2048, type: '83' },
      ]);
      const t1 = await partitionFile(hdd1!, 'bios');
      assert.equal(t1.label, 'gpt');
      assert.deepEqual(t1.partitions?.map(({ node, start, size, type, name }) => ({ node, start, size, type, name })), [
        { node: '1', start: 2048, size: 46 * 2048, type: GPT_TYPES.linux, name: 'data' },
      ]);
    });

    it('writes a UEFI boot disk: ESP first, no BIOS boot mark', async () => {
      const d = disk('gpt', 300, [part('esp', 'vfat', 256, { mount: '/boot/efi', esp: true }), part('root', 'ext4', undefined, { mount: '/' })]);
      const t = await partitionFile(d, 'efi');
      assert.deepEqual(t.partitions?.map(({ node, start, size, type, attrs }) => ({ node, start, size, type, attrs })), [
        { node: '1', start: 2048, size: 256 * 2048, type: GPT_TYPES.esp, attrs: undefined },
        { node: '2', start: 257 * 2048, size: 42 * 2048, type: GPT_TYPES.linux, attrs: undefined },
      ]);
    });
  });
});
