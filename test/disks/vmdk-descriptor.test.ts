import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, readSync, closeSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { VmgenError } from '../../src/errors.js';
import { convertImages } from '../../src/targets/vm/common.js';
import type { VmDisk, VmLayout } from '../../src/disks/layout.js';
import { embeddedDescriptor, extentFiles, nameSparseExtent, rewriteDescriptor } from '../../src/disks/vmdk-descriptor.js';

/*
 * The rules: VMware Virtual Disk Format 1.1 (https://www.vmware.com/app/vmdk/?src=vmdk), "Hosted
 * Sparse Extent Header": a sparse extent starts with the magic "KDMV" and records where its
 * embedded descriptor lies (descriptorOffset, descriptorSize, in sectors); "Extent Descriptions":
 * `RW <sectors> SPARSE "<file name>"`, the file name relative to the descriptor. qemu's reader
 * (block/vmdk.c, vmdk_parse_extents) opens the extent by that name; for a monolithicSparse file it
 * must be the file itself. The images here are made by the real qemu-img.
 */

const hasQemuImg = spawnSync('qemu-img', ['--version']).status === 0;
const SKIP = hasQemuImg ? false : 'qemu-img is not installed';

function qemuImg(...args: string[]): string {
  const r = spawnSync('qemu-img', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `qemu-img ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** The embedded descriptor's text, read the way a consumer does: header, then the area it points at. */
function descriptorOf(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const header = Buffer.alloc(512);
    readSync(fd, header, 0, 512, 0);
    const where = embeddedDescriptor(header);
    assert.ok(where, `${path} has no embedded descriptor`);
    const area = Buffer.alloc(where.size * 512);
    readSync(fd, area, 0, area.length, where.offset * 512);
    const end = area.indexOf(0);
    return area.subarray(0, end < 0 ? area.length : end).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function disk(file: string, controller: VmDisk['controller']): VmDisk {
  return { name: 'hdd0', file, sizeMiB: 8, controller, bus: 0, unit: 0, table: 'mbr', boot: true, partitions: [] };
}

describe('VMDK descriptors name the file they are in', { skip: SKIP }, () => {
  let dir = '';
  let raw = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vmgen-vmdk-'));
    raw = join(dir, 'disk.raw');
    // A recognisable pattern in the first MiB, so a damaged image shows in the comparison.
    const data = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < 1024 * 1024; i += 4096) data.write(`vmgen ${i}`, i);
    writeFileSync(raw, data);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('shows the problem: a renamed qemu-img VMDK names its old file', () => {
    const made = join(dir, 'hdd0.vmdk');
    qemuImg('convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=monolithicSparse', raw, made);
    renameSync(made, join(dir, 'renamed.vmdk'));
    assert.deepEqual(extentFiles(descriptorOf(join(dir, 'renamed.vmdk'))), ['hdd0.vmdk']);
  });

  it('a cached monolithicSparse disk moved into the archive names its archive name and its controller', async () => {
    // What the disk cache hands a build: hdd0.vmdk, made for the layer, not for this machine.
    const cached = join(dir, 'cache-hdd0.vmdk');
    qemuImg('convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=monolithicSparse,adapter_type=lsilogic', raw, cached);
    const layout: VmLayout = { firmware: 'bios', cdDrives: [], disks: [disk('web1-hdd0', 'ide')] };
    const out = join(dir, 'vm');
    const files = await convertImages([{ disk: 'hdd0', path: cached, format: 'vmdk' }], layout, out, 'vmdk', new AbortController().signal);
    assert.deepEqual(files, { hdd0: 'web1-hdd0.vmdk' });
    const vmdk = join(out, 'web1-hdd0.vmdk');
    const text = descriptorOf(vmdk);
    assert.deepEqual(extentFiles(text), ['web1-hdd0.vmdk']);
    assert.match(text, /^RW 16384 SPARSE "web1-hdd0\.vmdk"$/m);
    assert.match(text, /^ddb\.adapterType = "ide"$/m, 'the adapter type follows the .vmx controller');
    assert.match(text, /^createType="monolithicSparse"$/m);
    // The image still reads the same: qemu-img parses the new descriptor and finds every block.
    qemuImg('check', '-f', 'vmdk', vmdk);
    assert.match(qemuImg('compare', '-f', 'raw', '-F', 'vmdk', raw, vmdk), /Images are identical/);
  });

  it('a streamOptimized disk converted into the archive keeps its own name', async () => {
    const layout: VmLayout = { firmware: 'efi', cdDrives: [], disks: [disk('box-hdd0', 'sata')] };
    const out = join(dir, 'ova');
    const files = await convertImages([{ disk: 'hdd0', path: raw, format: 'raw' }], layout, out, 'vmdk', new AbortController().signal, { subformat: 'streamOptimized' });
    const vmdk = join(out, files.hdd0!);
    const text = descriptorOf(vmdk);
    assert.deepEqual(extentFiles(text), ['box-hdd0.vmdk']);
    assert.match(text, /^createType="streamOptimized"$/m);
    assert.match(qemuImg('compare', '-f', 'raw', '-F', 'vmdk', raw, vmdk), /Images are identical/);
  });

  it('refuses a file that is no sparse VMDK, and a name a descriptor cannot quote', async () => {
    const flat = join(dir, 'flat.vmdk');
    writeFileSync(flat, '# Disk DescriptorFile\nRW 16384 FLAT "flat-flat.vmdk" 0\n');
    await assert.rejects(nameSparseExtent(flat, 'x.vmdk'), (e: unknown) => e instanceof VmgenError && e.code === 'VMG_BUILD' && /no sparse VMDK/.test(e.message));
    assert.equal(readFileSync(flat, 'utf8').includes('flat-flat.vmdk'), true, 'the file is left as it was');
    const sparse = join(dir, 'q.vmdk');
    qemuImg('convert', '-f', 'raw', '-O', 'vmdk', raw, sparse);
    await assert.rejects(nameSparseExtent(sparse, 'a"b.vmdk'), (e: unknown) => e instanceof VmgenError && e.code === 'VMG_UNSUPPORTED');
    assert.deepEqual(extentFiles(descriptorOf(sparse)), ['q.vmdk']);
  });
});

describe('rewriteDescriptor', () => {
  const descriptor = [
    '# Disk DescriptorFile', 'version=1', 'CID=cd7e55e0', 'parentCID=ffffffff', 'createType="monolithicSparse"',
    '', '# Extent description', 'RW 20480 SPARSE "hdd0.vmdk"', '', '#DDB', 'ddb.virtualHWVersion = "4"', 'ddb.adapterType = "lsilogic"', '',
  ].join('\n');

  it('renames the one extent and sets the adapter type, leaving every other line', () => {
    const out = rewriteDescriptor(descriptor, 'web1-hdd0.vmdk', 'buslogic');
    assert.deepEqual(extentFiles(out), ['web1-hdd0.vmdk']);
    assert.match(out, /^ddb\.adapterType = "buslogic"$/m);
    assert.equal(out.split('\n').filter((l) => !/^RW |^ddb\.adapterType/.test(l)).join('\n'),
      descriptor.split('\n').filter((l) => !/^RW |^ddb\.adapterType/.test(l)).join('\n'));
    assert.match(rewriteDescriptor(descriptor, 'x.vmdk'), /^ddb\.adapterType = "lsilogic"$/m, 'no adapter given: the line stays');
  });

  it('refuses descriptors with other than one extent, and names with quotes or folders', () => {
    assert.throws(() => rewriteDescriptor(`${descriptor}RW 10 SPARSE "b.vmdk"\n`, 'x.vmdk'), /one extent, this one 2/);
    assert.throws(() => rewriteDescriptor('# Disk DescriptorFile\n', 'x.vmdk'), /one extent, this one 0/);
    for (const bad of ['a"b.vmdk', 'dir/x.vmdk', 'a\\b.vmdk', 'line\nbreak.vmdk', '']) {
      assert.throws(() => rewriteDescriptor(descriptor, bad), /cannot be a VMDK extent name/, JSON.stringify(bad));
    }
  });

  it('finds the descriptor only behind the sparse magic', () => {
    const header = Buffer.alloc(512);
    assert.equal(embeddedDescriptor(header), undefined);
    header.write('KDMV', 0, 'latin1');
    header.writeBigUInt64LE(1n, 28);
    header.writeBigUInt64LE(20n, 36);
    assert.deepEqual(embeddedDescriptor(header), { offset: 1, size: 20 });
    header.writeBigUInt64LE(0n, 36);
    assert.equal(embeddedDescriptor(header), undefined, 'a descriptor of no sectors is no descriptor');
  });
});
