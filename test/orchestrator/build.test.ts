import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCatalogs } from '../../src/catalog/load.js';
import type { Catalogs } from '../../src/catalog/schema.js';
import { loadConfig } from '../../src/validate/load.js';
import type { VmConfig } from '../../src/config/model.js';
import { resolveSpec } from '../../src/config/resolve.js';
import { dirSources } from '../../src/config/sources.js';
import { VmgenError } from '../../src/errors.js';
import { windowsKits } from '../../src/families/windows/kits.js';
import { build, type BuildOptions } from '../../src/orchestrator/build.js';
import type { Driver } from '../../src/steps/driver.js';
import { planBuild } from '../../src/orchestrator/plan.js';
import type { StepEvent } from '../../src/steps/run-steps.js';

/*
 * build() end to end with a fake driver: no root, no mounts, no processes. The fake records every
 * operation in order, so a test reads what the build did and in which order it undid it.
 */

const catalogs = loadCatalogs({ env: {} });
const MIRROR = 'http://mirror.example/debian';

function config(rel: string): VmConfig {
  const r = loadConfig(readFileSync(fileURLToPath(new URL(rel, import.meta.url)), 'utf8'), { catalogs });
  if (!r.config) throw new Error(`${rel}: ${JSON.stringify(r.diagnostics)}`);
  return { ...r.config, config: { ...r.config.config, mirror: r.config.config.mirror ?? MIRROR } };
}

interface Fake {
  driver: Driver;
  calls: string[];
}

/** A driver that does nothing but record; `fail` makes one operation throw. */
function fakeDriver(fail: Partial<Record<keyof Driver, () => never>> = {}): Fake {
  const calls: string[] = [];
  const call = (name: keyof Driver | 'releaseMount' | 'releaseDisks', detail = ''): void => {
    calls.push(detail === '' ? name : `${name} ${detail}`);
    if (name in fail) fail[name as keyof Driver]?.();
  };
  const driver: Driver = {
    checkHostTools: (tools, opts) => call('checkHostTools', `${tools.length} tools, root ${opts.needRoot}`),
    ensureLayer: async (req, installer) => {
      call('ensureLayer', installer.id);
      return { rootfs: '/cache/layer/rootfs', key: 'packages-0123', bytes: 42, events: ['packages layer packages-0123: cached'], packageToolRuns: 0 };
    },
    newWorkDir: async () => {
      call('newWorkDir');
      return '/work/build-1';
    },
    makeDir: async (path) => call('makeDir', path),
    remove: async (path) => call('remove', path),
    mountLayer: async (_layer, _work, mountPoint) => {
      call('mountLayer', mountPoint);
      return { path: mountPoint, how: 'overlay', upper: '/work/build-1/upper', lower: '/cache/layer/rootfs', release: async () => call('releaseMount') };
    },
    openCachedDisks: async (req) => {
      call('openCachedDisks', req.format);
      return { images: [], mnt: '/work/build-1/mnt', set: { key: 'disks-1', dir: '/cache/disks', format: req.format, images: {} } as never, release: async () => call('releaseDisks') };
    },
    applyGuestPlan: async (rootfs) => call('applyGuestPlan', rootfs),
    runBuildScripts: async (rootfs, scripts) => call('runBuildScripts', `${rootfs.path} ${scripts.map((s) => s.id).join(' ')}`),
    readOverlayDelta: async () => {
      call('readOverlayDelta');
      return { deletions: [], copies: ['etc/hostname'], overwritten: ['etc/hostname'] };
    },
    patchDisks: async (_opened, req) => {
      call('patchDisks');
      return req.layout.disks.map((d) => ({ disk: d.name, path: `/work/build-1/disks/${d.file}.qcow2`, format: 'qcow2' as const }));
    },
    buildDisks: async (ctx) => {
      call('buildDisks');
      return ctx.layout.disks.map((d) => ({ disk: d.name, path: `/work/build-1/disks/${d.file}.img` })) as never;
    },
    package: async (commander, ctx) => call('package', `${ctx.format}${ctx.vm ? ` ${ctx.vm.images.length} disks, ${ctx.vm.layout.cdDrives.length} cd` : ''}`),
    partialArchivePath: async () => {
      call('partialArchivePath');
      return '/out/.partial';
    },
    publishArchive: async (_partial, final) => call('publishArchive', final),
    cloneBaseDisk: async (opts) => {
      call('cloneBaseDisk', opts.baseDisk);
      return { outputs: [...opts.outputs], written: opts.files.map((f) => f.path) } as never;
    },
    blankDisk: async (path) => call('blankDisk', path),
    writeFiles: async (dir, files) => call('writeFiles', `${dir}: ${files.map((f) => f.path).join(' ')}`),
    makeIso: async (_dir, iso) => call('makeIso', iso),
  };
  return { driver, calls };
}

async function run(conf: VmConfig, target: string, fake: Fake, extra: Partial<BuildOptions> = {}) {
  const events: StepEvent[] = [];
  const result = await build({
    config: conf, catalogs, target, outDir: '/out', cacheRoot: '/cache', driver: fake.driver, env: {},
    ...extra,
    onEvent: (e) => {
      events.push(e);
      extra.onEvent?.(e);
    },
  }).then((r) => ({ ok: true as const, r }), (err: unknown) => ({ ok: false as const, err }));
  const shown = (kind: StepEvent['kind']) => events.filter((e) => e.kind === kind).map((e) => (e as { step: string }).step);
  return { result, started: shown('start'), skipped: shown('skip') };
}

const BUILD_SCRIPTS = 'build scripts: the config\'s commands in the guest, in a sandbox';
const LINUX_STEPS = [
  'check host tools', 'hardware: target configuration', 'OS and applications: root file system layer', 'start: mount the guest',
  'configure: system, groups, users, network, firewall, services at boot', 'build scripts: the config\'s commands in the guest, in a sandbox',
  'partitions: disks, file systems, bootloader', 'stop and archive', 'publish',
];

/** A kit directory holding every kit the config's apps need, and a base disk directory. */
function windowsDirs(conf: VmConfig, target: string, baseDisk?: string): { kitsDir: string; baseDisksDir: string; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'vmgen-orch-'));
  const spec = resolveSpec(conf, catalogs as Catalogs, { target, defaultMirror: '' });
  for (const k of windowsKits(spec, catalogs)) writeFileSync(join(dir, k.kit.setupFile), 'kit');
  if (baseDisk !== undefined) writeFileSync(join(dir, baseDisk), '');
  return { kitsDir: dir, baseDisksDir: dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

describe('build() with a fake driver', () => {
  it('a container: the layer steps, no partitions, the layer in the result', async () => {
    const fake = fakeDriver();
    const { result, started, skipped } = await run(config('../../examples/debian-web.conf'), 'lxc', fake);
    assert.ok(result.ok, `the build succeeds: ${result.ok ? '' : String(result.err)}`);
    assert.deepEqual([...started, ...skipped], [...LINUX_STEPS.filter((s) => !s.startsWith('partitions') && !s.startsWith('build scripts')), BUILD_SCRIPTS, 'partitions: disks, file systems, bootloader']);
    assert.deepEqual(skipped, [BUILD_SCRIPTS, 'partitions: disks, file systems, bootloader']);
    assert.equal(result.r.root.kind, 'layer');
    assert.equal(result.r.root.kind === 'layer' ? result.r.root.layer.key : '', 'packages-0123');
    assert.match(result.r.archive, /^\/out\/.+\.tar\.zst$/);
    assert.deepEqual(fake.calls.slice(1), [
      'ensureLayer apt', 'newWorkDir', 'mountLayer /work/build-1/stage/rootfs', 'applyGuestPlan /work/build-1/stage/rootfs',
      'partialArchivePath', 'makeDir /work/build-1/stage', 'package tar.zst', `publishArchive ${result.r.archive}`,
      // the cleanups, in reverse: the partial archive, the mount, the work directory
      'remove /out/.partial', 'releaseMount', 'remove /work/build-1',
    ]);
    assert.equal(result.r.head, undefined, 'no head unless asked for');
  });

  it('a container built for a store of parts: the packer is offered a head path, and the head it left apart is published beside the archive', async () => {
    for (const leaves of [true, false]) {
      const fake = fakeDriver();
      const offered: Array<string | undefined> = [];
      const pack = fake.driver.package;
      fake.driver.package = async (packer, ctx) => {
        offered.push(ctx.headPath);
        await pack(packer, ctx);
        return { headApart: leaves };
      };
      const { result } = await run(config('../../examples/debian-web.conf'), 'lxc', fake, { headApart: true });
      assert.ok(result.ok, `the build succeeds: ${result.ok ? '' : String(result.err)}`);
      assert.deepEqual(offered, ['/out/..partial.head']);
      const head = `/out/.${result.r.archive.slice('/out/'.length)}.head`;
      assert.equal(result.r.head, leaves ? head : undefined);
      assert.deepEqual(fake.calls.filter((c) => c.startsWith('publishArchive')), [`publishArchive ${result.r.archive}`, ...(leaves ? [`publishArchive ${head}`] : [])]);
      assert.ok(fake.calls.includes('remove /out/..partial.head'), `the head's temp name is removed however the build ends: ${fake.calls.join(' | ')}`);
    }
  });

  it('a Linux VM: cached disks opened while the guest is configured, then patched', async () => {
    const fake = fakeDriver();
    const { result, started, skipped } = await run(config('../../examples/debian-web.conf'), 'qemu', fake);
    assert.ok(result.ok, `the build succeeds: ${result.ok ? '' : String(result.err)}`);
    assert.deepEqual(started, LINUX_STEPS.filter((s) => s !== BUILD_SCRIPTS));
    assert.deepEqual(skipped, [BUILD_SCRIPTS]);
    assert.deepEqual(fake.calls.filter((c) => /Disks|Delta|package /.test(c)), ['openCachedDisks qcow2', 'readOverlayDelta', 'patchDisks', 'package tar 1 disks, 0 cd', 'releaseDisks']);
  });

  it('a config with build scripts: they run after the configuration, before the disks, in config order', async () => {
    const fake = fakeDriver();
    const { result, started } = await run(config('../fixtures/services/lab-router.conf'), 'qemu', fake);
    assert.ok(result.ok, `the build succeeds: ${result.ok ? '' : String(result.err)}`);
    assert.deepEqual(started, LINUX_STEPS);
    const calls = fake.calls.filter((c) => /^(applyGuestPlan|runBuildScripts|readOverlayDelta)/.test(c));
    assert.deepEqual(calls, ['applyGuestPlan /work/build-1/stage/rootfs', 'runBuildScripts /work/build-1/stage/rootfs stamp', 'readOverlayDelta']);
  });

  it('Windows from a base disk: the family\'s steps on the same runner, no layer', async () => {
    const conf = config('../fixtures/windows/winxp-seed.conf');
    const dirs = windowsDirs(conf, 'vmware', 'winxppro.vmdk');
    try {
      const fake = fakeDriver();
      const { result, started, skipped } = await run(conf, 'vmware', fake, { targetOptions: { kitsDir: dirs.kitsDir, baseDisksDir: dirs.baseDisksDir } });
      assert.ok(result.ok, `the build succeeds: ${result.ok ? '' : String(result.err)}`);
      assert.deepEqual(started, ['check host tools', 'hardware: target configuration', 'start: work directory',
        'partitions: clone the base disk, write the scripts and kits', 'stop and archive', 'publish']);
      assert.deepEqual(skipped, ['partitions: blank disks and the answer media for Windows Setup']);
      assert.deepEqual(result.r.root, { kind: 'disk-image', method: 'base-disk', baseDisk: join(dirs.baseDisksDir, 'winxppro.vmdk'), events: result.r.root.kind === 'disk-image' ? result.r.root.events : [] });
      assert.equal(fake.calls.some((c) => c.startsWith('ensureLayer') || c.startsWith('mountLayer')), false, 'no layer is made or mounted');
      assert.match(fake.calls[0] ?? '', /^checkHostTools \d+ tools, root false$/);
      assert.equal(fake.calls.filter((c) => c.startsWith('cloneBaseDisk')).length, 1);
    } finally {
      dirs.dispose();
    }
  });

  it('Windows Setup with autounattend: blank disks and an answer CD in the archive', async () => {
    const conf = config('../fixtures/windows/win10.conf');
    const dirs = windowsDirs(conf, 'qemu');
    try {
      const fake = fakeDriver();
      const { result, started, skipped } = await run(conf, 'qemu', fake, { targetOptions: { kitsDir: dirs.kitsDir, baseDisksDir: dirs.baseDisksDir } });
      assert.ok(result.ok, `the build succeeds: ${result.ok ? '' : String(result.err)}`);
      assert.deepEqual(skipped, ['partitions: clone the base disk, write the scripts and kits']);
      assert.equal(started[3], 'partitions: blank disks and the answer media for Windows Setup');
      assert.equal(result.r.root.kind === 'disk-image' ? result.r.root.method : result.r.root.kind, 'autounattend');
      assert.deepEqual(fake.calls.filter((c) => c.startsWith('blankDisk')).length, 2);
      assert.match(fake.calls.find((c) => c.startsWith('writeFiles')) ?? '', /\/autounattend\.xml .*\/vmgen\/config\.bat/);
      // the answer CD joins the cd drives the config names
      assert.match(fake.calls.find((c) => c.startsWith('package')) ?? '', /^package \S+ 2 disks, 2 cd$/);
    } finally {
      dirs.dispose();
    }
  });

  it('Windows Server with [files], scripts and services: the answer CD carries them, sources read beside the config', async () => {
    const conf = config('../fixtures/windows/win2022-lab.conf');
    const dirs = windowsDirs(conf, 'qemu');
    try {
      const fake = fakeDriver();
      const { result } = await run(conf, 'qemu', fake, {
        targetOptions: { kitsDir: dirs.kitsDir, baseDisksDir: dirs.baseDisksDir },
        sources: dirSources(fileURLToPath(new URL('../fixtures/windows/', import.meta.url))),
      });
      assert.ok(result.ok, `the build succeeds: ${result.ok ? '' : String(result.err)}`);
      const written = (fake.calls.find((c) => c.startsWith('writeFiles')) ?? '').split(' ');
      for (const p of ['/vmgen/config.bat', '/vmgen/vmgen-services.ps1', '/vmgen/files/1/index.html', '/vmgen/files/1/img/logo.png', '/vmgen/files/2',
        '/vmgen/first-logon.bat', '/vmgen/first-logon/1.bat', '/vmgen/first-logon/2.ps1', '/vmgen/setup.bat']) {
        assert.ok(written.includes(p), `${p} on the answer CD: ${written.join(' ')}`);
      }
    } finally {
      dirs.dispose();
    }
  });

  it('a failing step: its error is classified, and every cleanup runs in reverse', async () => {
    const fake = fakeDriver({ applyGuestPlan: () => { throw new Error('write /etc/hostname: ENOSPC'); } });
    const { result, started } = await run(config('../../examples/debian-web.conf'), 'lxc', fake);
    assert.equal(result.ok, false);
    assert.ok(!result.ok && result.err instanceof VmgenError, 'a VmgenError');
    assert.equal(result.err.code, 'VMG_DISK_FULL');
    assert.equal(started.at(-1), 'configure: system, groups, users, network, firewall, services at boot');
    assert.deepEqual(fake.calls.slice(-2), ['releaseMount', 'remove /work/build-1']);
  });

  it('a cancelled build stops between steps, undoes what ran and says it was cancelled', async () => {
    const stop = new AbortController();
    const fake = fakeDriver();
    const { result, started } = await run(config('../../examples/debian-web.conf'), 'qemu', fake, {
      signal: stop.signal, onEvent: (e) => { if (e.kind === 'done' && e.step === 'start: mount the guest') stop.abort(); },
    });
    assert.ok(!result.ok && result.err instanceof VmgenError, 'a VmgenError');
    assert.equal(result.err.code, 'VMG_CANCELLED');
    assert.equal(started.at(-1), 'start: mount the guest');
    assert.equal(fake.calls.includes('applyGuestPlan /work/build-1/stage/rootfs'), false);
    assert.deepEqual(fake.calls.slice(-3), ['releaseDisks', 'releaseMount', 'remove /work/build-1']);
  });
});

describe('planBuild: pure, the whole build on one screen', () => {
  it('an xfs layout\'s mkfs.xfs is among the tools checked before the root file system is built', () => {
    const plan = planBuild(config('../fixtures/vm/two-disks.conf'), catalogs, 'qemu', { defaultMirror: MIRROR });
    assert.ok(plan.tools.includes('mkfs.xfs'), `mkfs.xfs in ${plan.tools.join(' ')}`);
    assert.deepEqual(plan.steps.map((s) => s.name), LINUX_STEPS);
  });

  it('a Windows plan names its steps without a layer, and needs no root', () => {
    const plan = planBuild(config('../fixtures/windows/winxp-seed.conf'), catalogs, 'vmware', { facts: { baseDisk: '/srv/base/winxppro.vmdk', kits: [] } });
    assert.equal(plan.root.kind, 'disk-image');
    assert.equal(plan.needsRoot, false);
    assert.deepEqual(plan.steps.filter((s) => !s.skipped).map((s) => s.name), ['check host tools', 'hardware: target configuration', 'start: work directory',
      'partitions: clone the base disk, write the scripts and kits', 'stop and archive', 'publish']);
    assert.ok(plan.tools.includes('ntfsclone'), `ntfsclone in ${plan.tools.join(' ')}`);
    assert.equal(plan.tools.includes('xorriso'), false);
  });

  it('refuses a Windows guest in a container before any step', () => {
    assert.throws(() => planBuild(config('../fixtures/windows/winxp-seed.conf'), catalogs, 'lxc'),
      (e: unknown) => e instanceof VmgenError && e.code === 'VMG_UNSUPPORTED' && /Windows guests are virtual machines/.test(e.message));
  });
});
