import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { includesNone, noItem } from '../helpers/assert-values.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { layerInputs, layerPackages } from '../../src/layers/inputs.js';
import { loadCatalogs } from '../../src/catalog/load.js';
import { loadConfig } from '../../src/validate/load.js';
import { resolveSpec } from '../../src/config/resolve.js';
import { VmgenError } from '../../src/errors.js';
import { debianConfigurator } from '../../src/families/debian/configure.js';
import { debianVmKernel } from '../../src/families/debian/vm-kernel.js';
import { redhatConfigurator } from '../../src/families/redhat/configure.js';
import { DRACUT_CONF, KERNEL_FINISH_SCRIPT, redhatVmKernel } from '../../src/families/redhat/vm-kernel.js';
import { windowsConfigurator } from '../../src/families/windows/configure.js';
import { resolveVmLayout } from '../../src/disks/layout.js';

const catalogs = loadCatalogs({ env: {} });

function load(path: string) {
  const loaded = loadConfig(readFileSync(fileURLToPath(new URL(path, import.meta.url)), 'utf8'), { catalogs });
  if (!loaded.config) throw new Error(JSON.stringify(loaded.diagnostics));
  const spec = resolveSpec(loaded.config, catalogs, { target: 'qemu', defaultMirror: 'http://mirror.example/x' });
  return { spec, layout: resolveVmLayout(loaded.config, spec.os, spec.name) };
}

const debian = load('../../examples/debian-web.conf');
const redhat = load('../fixtures/rpm/redhat-web.conf');

describe('layerInputs', () => {
  it('a container gets the family\'s and the apps\' packages, no kernel and no setup files', () => {
    const inputs = layerInputs(redhatConfigurator, redhatVmKernel, { spec: redhat.spec, nicOwner: 'target' }, undefined);
    includesNone(inputs.basePackages, ['kernel-core']);
    assert.deepEqual(inputs.setupFiles, []);
    assert.equal(inputs.prepare, undefined);
    assert.deepEqual(inputs.appPackages, redhat.spec.appPackages);
  });

  it('a Debian VM gets linux-image and initramfs-tools settings, and its layer keeps the key it had', () => {
    const guest = { spec: debian.spec, nicOwner: 'guest' as const };
    const inputs = layerInputs(debianConfigurator, debianVmKernel, guest, debian.layout);
    for (const p of ['linux-image-amd64', 'initramfs-tools', 'udev', 'dosfstools']) assert.ok(inputs.basePackages.includes(p), p);
    assert.deepEqual(inputs.setupFiles.map((f) => f.path), ['/etc/initramfs-tools/conf.d/vmgen.conf', '/etc/initramfs-tools/modules']);
    // No finish step: the prepare key is the configurator's own, so cached Debian layers stay valid.
    assert.deepEqual(inputs.prepare?.key, debianConfigurator.layerPlan?.(guest)?.key);
  });

  it('a RedHat VM gets kernel-core, dracut settings and the step that puts the kernel in /boot', () => {
    const inputs = layerInputs(redhatConfigurator, redhatVmKernel, { spec: redhat.spec, nicOwner: 'guest' }, redhat.layout);
    for (const p of ['kernel-core', 'dracut', 'systemd-udev', 'dosfstools']) assert.ok(inputs.basePackages.includes(p), p);
    noItem(inputs.basePackages, (p) => p.startsWith('linux-image'));
    assert.deepEqual(inputs.setupFiles.map((f) => f.path), [DRACUT_CONF]);
    assert.deepEqual(inputs.prepare?.plan.commands.map((c) => c.argv), [['sh', '-c', KERNEL_FINISH_SCRIPT]]);
    assert.ok(JSON.stringify(inputs.prepare?.key).includes('dracut'), 'the finish step keys the layer');
    const all = layerPackages(inputs);
    assert.deepEqual(all, [...all].sort());
    for (const p of redhat.spec.appPackages) assert.ok(all.includes(p), p);
  });

  it('a family without a VM kernel is refused for VM targets before any work', () => {
    assert.throws(() => layerInputs(windowsConfigurator, undefined, { spec: redhat.spec, nicOwner: 'guest' }, redhat.layout),
      (e: unknown) => e instanceof VmgenError && e.code === 'VMG_UNSUPPORTED');
  });
});
