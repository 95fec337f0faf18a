import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCatalogs } from '../../src/catalog/load.js';
import { resolveSpec } from '../../src/config/resolve.js';
import type { VmConfig } from '../../src/config/model.js';
import { resolveVmLayout } from '../../src/disks/layout.js';
import { planBuild } from '../../src/orchestrator/plan.js';
import {
  BOX_IMAGE, VAGRANT_INSECURE_KEY, VAGRANT_SUDOERS, VAGRANT_USER, boxConfig, boxDisks, renderBoxMetadata, renderBoxVagrantfile,
} from '../../src/targets/qemu/box.js';
import { qemuTarget } from '../../src/targets/qemu/index.js';
import { loadConfig } from '../../src/validate/load.js';
import { assertGolden } from '../helpers/golden.js';
import { show } from '../helpers/assert-values.js';

/*
 * The Vagrant box (-f box) of the qemu target, checked against what vagrant-libvirt 0.11.2 (Debian
 * 12's) reads: lib/vagrant-libvirt/action/handle_box_image.rb takes a box without "disks" as
 * version 1 (metadata "format" must be "qcow2", "virtual_size" in GiB is required, the image is
 * box.img) and one with "disks" as version 2 (each entry's "path" required, relative to the box,
 * attached in order). test/integration/vms.test.ts builds one and adds it with `vagrant box add`.
 */
const catalogs = loadCatalogs({ env: {} });
const WEB = readFileSync(fileURLToPath(new URL('../../examples/debian-web.conf', import.meta.url)), 'utf8');
const STATIC_ETH0 = '            type = static\n            address = 192.168.1.2\n            network = 255.255.255.0\n';
/** The README's machine as a box can be: BIOS, and eth0 by DHCP. */
export const WEB_BOX = WEB.replace('    os = debian12-64\n', '    os = debian12-64\n    firmware = bios\n').replace(STATIC_ETH0, '            type = dhcp\n');
/** Debian 12's vagrant package ships the key where every gem of its Ruby lives. */
const INSTALLED_KEY = '/usr/share/rubygems-integration/all/gems/vagrant-2.3.4/keys/vagrant.pub';
const DEVICES = readFileSync(fileURLToPath(new URL('../fixtures/vm/devices.conf', import.meta.url)), 'utf8');

function load(text: string, format?: 'box') {
  return loadConfig(text, { catalogs, target: qemuTarget, ...(format ? { format } : {}) });
}

function config(text: string): VmConfig {
  const loaded = load(text, 'box');
  assert.ok(loaded.config, `the config loads for a box: ${show(loaded.diagnostics)}`);
  return loaded.config;
}

/** Line of the first line of `text` that holds `needle`, 1-based. */
function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  assert.ok(i >= 0, `"${needle}" is in the config`);
  return i + 1;
}

function errorsOf(text: string): Array<{ code: string; line: number }> {
  return load(text, 'box').diagnostics.filter((d) => d.severity === 'error').map((d) => ({ code: d.code, line: d.line }));
}

describe('Vagrant box: the generated files', () => {
  it('metadata.json and the Vagrantfile of the README machine (golden)', () => {
    const boxed = boxConfig(config(WEB_BOX));
    const spec = resolveSpec(boxed, catalogs, { target: 'qemu', defaultMirror: 'http://mirror.example/debian' });
    const layout = resolveVmLayout(boxed, spec.os, spec.name);
    const disks = boxDisks(layout);
    assert.deepEqual(disks.map((d) => d.path), [BOX_IMAGE]);
    const metadata = renderBoxMetadata(disks.map(({ disk, path }) => ({ path, sizeMiB: disk.sizeMiB })));
    assertGolden('qemu/box/metadata.json', metadata);
    assertGolden('qemu/box/Vagrantfile', renderBoxVagrantfile(spec));
    // What handle_box_image.rb requires of a version 1 box: no "disks", qcow2, a whole number of GiB.
    const parsed = JSON.parse(metadata) as Record<string, unknown>;
    assert.deepEqual(parsed, { provider: 'libvirt', format: 'qcow2', virtual_size: 4 });
  });

  it('several disks: a version 2 box, the boot disk first, every path relative to the box (golden)', () => {
    const loaded = loadConfig(DEVICES, { catalogs });
    assert.ok(loaded.config, show(loaded.diagnostics));
    const spec = resolveSpec(loaded.config, catalogs, { target: 'qemu', defaultMirror: 'http://mirror.example/debian' });
    const layout = resolveVmLayout(loaded.config, spec.os, spec.name);
    assert.ok(layout.disks.length > 1, 'devices.conf has several disks');
    const disks = boxDisks(layout);
    assert.equal(disks[0]!.disk.boot, true, 'the boot disk comes first: vagrant-libvirt boots the first box volume');
    const metadata = renderBoxMetadata(disks.map(({ disk, path }) => ({ path, sizeMiB: disk.sizeMiB })));
    assertGolden('qemu/box/devices-metadata.json', metadata);
    const parsed = JSON.parse(metadata) as { provider: string; disks: Array<{ path: string }> };
    assert.equal(parsed.provider, 'libvirt');
    assert.deepEqual(parsed.disks.map((d) => d.path), disks.map((d) => d.path));
    assert.equal(new Set(parsed.disks.map((d) => d.path.replace(/\.img$/, ''))).size, parsed.disks.length, 'volume names (path without extension) do not clash');
  });

  it('the Vagrantfile takes memory and CPUs from the config and turns the NFS share off', () => {
    const spec = resolveSpec(boxConfig(config(WEB_BOX.replace('    ram = 1GB\n', '    ram = 3GB\n').replace('    num_cpu = 2\n', '    num_cpu = 3\n'))), catalogs, { target: 'qemu', defaultMirror: 'http://mirror.example/debian' });
    const vagrantfile = renderBoxVagrantfile(spec);
    assert.match(vagrantfile, /^ {4}libvirt\.memory = 3072$/m);
    assert.match(vagrantfile, /^ {4}libvirt\.cpus = 3$/m);
    assert.match(vagrantfile, /^ {2}config\.vm\.synced_folder "\.", "\/vagrant", disabled: true$/m);
  });
});

describe('Vagrant box: what the guest gets', () => {
  it('a vagrant account with the insecure key, sudo without a password, and sshd, in the plan the build applies', () => {
    const plan = planBuild(config(WEB_BOX), catalogs, 'qemu', { format: 'box', defaultMirror: 'http://mirror.example/debian' });
    const vagrant = plan.spec.users.find((u) => u.name === VAGRANT_USER);
    assert.ok(vagrant, `the spec has a ${VAGRANT_USER} user: ${show(plan.spec.users.map((u) => u.name))}`);
    assert.deepEqual(vagrant.sshKeys, [VAGRANT_INSECURE_KEY]);
    assert.ok(plan.root.kind === 'layer', 'a Debian root is a layer');
    const argvs = plan.root.guestPlan.commands.map((c) => c.argv.join(' '));
    assert.ok(argvs.some((a) => a.startsWith('useradd ') && a.endsWith(` ${VAGRANT_USER}`)), `useradd vagrant in ${show(argvs)}`);
    const sudoers = plan.spec.provision.files.find((c) => c.guestPath === VAGRANT_SUDOERS.path);
    assert.ok(sudoers, `${VAGRANT_SUDOERS.path} is placed: ${show(plan.spec.provision.files.map((c) => c.guestPath))}`);
    assert.equal(sudoers.mode, 0o440);
    assert.deepEqual([sudoers.owner, sudoers.group], ['root', 'root']);
    assert.deepEqual(sudoers.from, { kind: 'inline', content: 'vagrant ALL=(ALL) NOPASSWD: ALL\n' });
    assert.ok(plan.spec.appServices.includes('ssh'), `sshd's unit is enabled: ${show(plan.spec.appServices)}`);
    assert.equal(plan.format, 'box');
  });

  it('the same config as a plain qemu archive gets none of it', () => {
    const plan = planBuild(config(WEB_BOX), catalogs, 'qemu', { defaultMirror: 'http://mirror.example/debian' });
    assert.equal(plan.spec.users.find((u) => u.name === VAGRANT_USER), undefined);
    assert.equal(plan.spec.provision.files.find((c) => c.guestPath === VAGRANT_SUDOERS.path), undefined);
  });

  it('a vagrant account of the config is kept as written, and sshd is added where the config has none', () => {
    const own = WEB_BOX.replace('        [[[user1]]]\n', '        [[[mine]]]\n            name = vagrant\n            ssh_keys = ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb9ECHdAMRAJxS7mKD+Ctq4u5Qe8gvmQjBEF6h2sKgb me@example\n        [[[user1]]]\n')
      .replace('    sshd = 1\n', '');
    const boxed = boxConfig(config(own));
    const vagrants = Object.values(boxed.users.users).filter((u) => u.name === VAGRANT_USER);
    assert.equal(vagrants.length, 1);
    assert.deepEqual(vagrants[0]!.ssh_keys, ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb9ECHdAMRAJxS7mKD+Ctq4u5Qe8gvmQjBEF6h2sKgb me@example']);
    assert.equal(boxed.services.sshd, true);
  });

  it('the insecure key is the one the installed Vagrant ships', { skip: !existsSync(INSTALLED_KEY) && 'vagrant is not installed (scripts/test.sh installs it)' }, () => {
    assert.equal(VAGRANT_INSECURE_KEY, readFileSync(INSTALLED_KEY, 'utf8').trim());
  });
});

describe('Vagrant box: what would make it unusable is refused at its line', () => {
  it('the box machine validates', () => {
    assert.deepEqual(errorsOf(WEB_BOX), []);
  });

  it('a static first NIC: vagrant-libvirt finds the guest by its DHCP lease', () => {
    const text = WEB_BOX.replace('            type = dhcp\n', STATIC_ETH0);
    assert.deepEqual(errorsOf(text), [{ code: 'CFG_BOX_NIC', line: lineOf(text, 'type = static') }]);
  });

  it('UEFI, from the OS default or from firmware =', () => {
    const byDefault = WEB_BOX.replace('    firmware = bios\n', '');
    assert.deepEqual(errorsOf(byDefault), [{ code: 'CFG_BOX_FIRMWARE', line: lineOf(byDefault, 'os = debian12-64') }]);
    const explicit = WEB_BOX.replace('    firmware = bios\n', '    firmware = efi\n');
    assert.deepEqual(errorsOf(explicit), [{ code: 'CFG_BOX_FIRMWARE', line: lineOf(explicit, 'firmware = efi') }]);
  });

  it('sshd turned off', () => {
    const text = WEB_BOX.replace('    sshd = 1\n', '    sshd = 0\n');
    assert.deepEqual(errorsOf(text), [{ code: 'CFG_BOX_SSH', line: lineOf(text, 'sshd = 0') }]);
  });

  it('no NIC at all', () => {
    const text = WEB_BOX.replace(/ {4}\[\[eths\]\]\n {8}\[\[\[eth0\]\]\]\n {12}type = nat\n {12}hw_addr = [0-9a-f:]+\n/, '')
      .replace('    [[eths]]\n        [[[eth0]]]\n            type = dhcp\n', '');
    // The gateway's own check fails too, with no NIC on its subnet.
    assert.deepEqual(errorsOf(text).map((e) => e.code).filter((c) => c.startsWith('CFG_BOX_')), ['CFG_BOX_NIC']);
  });

  it('a Windows guest', () => {
    const windows = readFileSync(fileURLToPath(new URL('../fixtures/windows/win10.conf', import.meta.url)), 'utf8');
    assert.ok(errorsOf(windows).some((e) => e.code === 'CFG_BOX_OS' && e.line === lineOf(windows, 'os = ')), show(errorsOf(windows)));
  });

  it('without -f box, none of these checks run', () => {
    const loaded = load(WEB);
    assert.deepEqual(loaded.diagnostics.filter((d) => d.code.startsWith('CFG_BOX_')), []);
  });
});
