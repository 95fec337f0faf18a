import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { run } from '../../src/exec/run.js';
import { shellLine } from '../../src/exec/shell-quote.js';
import { archivePath } from '../../src/archive/publish.js';
import { BUILDABLE_TARGETS } from '../../src/targets/commanders.js';
import { ARCHIVE_PLACEHOLDER, runSteps, stepsOf } from '../../src/targets/run-commands.js';
import { lxcCommander } from '../../src/targets/lxc/commander.js';
import { ociCommander } from '../../src/targets/oci/commander.js';
import { openvzCommander } from '../../src/targets/openvz/commander.js';
import { ostemplateName } from '../../src/targets/openvz/render.js';
import { LIBVIRT_IMAGES, qemuCommander } from '../../src/targets/qemu/commander.js';
import { vmwareCommander } from '../../src/targets/vmware/commander.js';
import type { RunContext, Target } from '../../src/targets/types.js';
import { assertGolden } from '../helpers/golden.js';
import { specFor } from './specs.js';
import { vmCase } from './vm-specs.js';

/** The context `vmgen build -o /srv/out` gives: the archive's path, its folder for the machine's files. */
function cliContext(target: Target, format: RunContext['format'], extra: Partial<RunContext> = {}): RunContext {
  const spec = target.kind === 'vm' ? vmCase('web', target.id).spec : specFor('web', target.id);
  return { spec, archive: archivePath('/srv/out', spec.name, target.id, format), format, options: {}, dir: '/srv/out', ...extra };
}

const buildable = BUILDABLE_TARGETS;

describe('run commands: every buildable target, every format', () => {
  it('the table has buildable targets', () => assert.ok(buildable.length >= 6, `buildable targets: ${buildable.map((t) => t.id).join(', ')}`));

  for (const target of buildable) {
    for (const format of target.commander.formats) {
      it(`${target.id} -f ${format}: commands that name the archive, each with what it does (golden)`, () => {
        const ctx = cliContext(target, format);
        const commands = target.commander.run(ctx);
        assert.ok(commands.length > 0, `${target.id} ${format} has run commands`);
        assert.ok(commands.some((c) => c.argv.includes(ctx.archive)), `a command of ${target.id} ${format} names the archive: ${JSON.stringify(commands)}`);
        for (const c of commands) {
          assert.ok(c.what.trim().length > 0, `${shellLine(c.argv)} says what it does`);
          assert.ok(c.argv.length > 0 && c.argv.every((w) => typeof w === 'string'), `${c.what} has words`);
        }
        const text = runSteps(target, ctx).map((s) => `# ${s.what}\n${s.command}\n`).join('');
        assertGolden(`run/${target.id}-${format}.sh`, text);
      });
    }
  }
});

describe('run commands: what each target archive holds, where its runtime reads it', () => {
  it('lxc: unpacked under the LXC path it was built for, started under the machine\'s name', () => {
    const target = buildable.find((t) => t.commander === lxcCommander)!;
    const argv = lxcCommander.run(cliContext(target, 'tar.zst', { options: { lxcPath: '/srv/lxc' } })).map((c) => c.argv);
    assert.deepEqual(argv, [
      ['mkdir', '-p', '/srv/lxc/web1'],
      ['tar', '-xf', '/srv/out/web1-lxc.tar.zst', '-C', '/srv/lxc/web1'],
      ['lxc-start', '-n', 'web1', '-P', '/srv/lxc'],
    ]);
    // The config it was built with names that very directory.
    const config = lxcCommander.render(specFor('web', 'lxc'), { lxcPath: '/srv/lxc' }).archiveFiles.find((f) => f.path === 'config')!.content;
    assert.match(config, /^lxc\.rootfs\.path = dir:\/srv\/lxc\/web1\/rootfs$/m);
  });

  it('lxc image.tar: imported under any name and LXC path, with the host\'s default network left out', () => {
    const target = buildable.find((t) => t.commander === lxcCommander)!;
    const argv = lxcCommander.run(cliContext(target, 'image.tar', { name: 'box1', options: { lxcPath: '/srv/anywhere' } })).map((c) => c.argv);
    assert.deepEqual(argv, [
      ['mkdir', '-p', '/srv/out/box1-image'],
      ['tar', '-xf', '/srv/out/web1-lxc.image.tar', '-C', '/srv/out/box1-image'],
      ['lxc-create', '-n', 'box1', '-P', '/srv/anywhere', '-f', '/dev/null', '-t', 'local', '--',
        '--metadata', '/srv/out/box1-image/meta.tar.xz', '--fstree', '/srv/out/box1-image/rootfs.tar.xz'],
      ['lxc-start', '-n', 'box1', '-P', '/srv/anywhere'],
    ]);
  });

  it('lxc: the start says which bridges the NICs join; a machine without NICs needs none', () => {
    const spec = specFor('two-nics', 'lxc');
    const start = lxcCommander.run({ spec, archive: 'a.tar', format: 'tar', options: {}, dir: '~' }).at(-1)!;
    assert.match(start.what, /lxcbr0 and br0/);
    const bare = lxcCommander.run({ spec: specFor('no-nic', 'lxc'), archive: 'a.tar', format: 'tar', options: {}, dir: '~' }).at(-1)!;
    assert.equal(bare.what, 'start it');
  });

  it('openvz: the members the archive holds, each where vzctl reads it', () => {
    const spec = specFor('web', 'openvz');
    const argv = openvzCommander.run({ spec, archive: 'web1-openvz.tar', format: 'tar', options: { ctid: 205 }, dir: '~' }).map((c) => c.argv);
    const template = ostemplateName(spec);
    assert.equal(template, 'debian-12-x86_64-vmgen-web1');
    // package() writes TEMPLATE.tar.gz and CTID.conf, the render's archive file.
    assert.deepEqual(openvzCommander.render(spec, { ctid: 205 }).archiveFiles.map((f) => f.path), ['205.conf']);
    assert.deepEqual(argv, [
      ['tar', '-xf', 'web1-openvz.tar', '-C', '/vz/template/cache', `${template}.tar.gz`],
      ['tar', '-xf', 'web1-openvz.tar', '-C', '/etc/vz/conf', '205.conf'],
      ['vzctl', 'create', '205', '--ostemplate', template],
      ['vzctl', 'start', '205'],
    ]);
  });

  it('oci: podman gets the hostname, the static address on a network of its subnet, and the image\'s tag', () => {
    const spec = specFor('web', 'oci');
    const argv = ociCommander.run({ spec, archive: 'web1-oci.tar', format: 'tar', options: {}, dir: '~' }).map((c) => c.argv);
    assert.deepEqual(argv[0], ['podman', 'load', '-i', 'web1-oci.tar']);
    assert.deepEqual(argv[1], ['podman', 'network', 'create', '--subnet', '192.168.1.0/24', '--gateway', '192.168.1.1', 'web1']);
    const runArgv = argv[2]!;
    assert.deepEqual(runArgv.slice(0, 2), ['podman', 'run']);
    assert.equal(runArgv.at(-1), 'web1:latest');
    for (const [flag, value] of [['--name', 'web1'], ['--hostname', 'web1'], ['--network', 'web1'], ['--ip', '192.168.1.2'], ['--cap-add', 'NET_ADMIN']]) {
      assert.equal(runArgv[runArgv.indexOf(flag!) + 1], value, `podman run ${flag} ${value}: ${runArgv.join(' ')}`);
    }
    assert.ok(runArgv.includes('--systemd=always'), 'systemd runs as the image\'s command');
  });

  it('oci: without a static NIC, podman\'s own network', () => {
    const argv = ociCommander.run({ spec: specFor('no-nic', 'oci'), archive: 'bare-oci.tar', format: 'tar', options: {}, dir: '~' }).map((c) => c.argv);
    assert.deepEqual(argv.map((a) => a.slice(0, 2).join(' ')), ['podman load', 'podman run']);
    assert.ok(!argv[1]!.includes('--network'), `no --network: ${argv[1]!.join(' ')}`);
  });

  it('qemu: unpacked where its domain XML names the disks, then defined and started', () => {
    const { spec, layout } = vmCase('web', 'qemu');
    const xml = qemuCommander.render(spec, {}, layout).archiveFiles.find((f) => f.path === `${spec.name}.xml`)!.content;
    const disk = /<source file="([^"]+\.qcow2)"\/>/.exec(xml)?.[1];
    assert.ok(disk, `the XML names a qcow2 disk:\n${xml}`);
    const argv = qemuCommander.run({ spec, archive: 'web1-qemu.tar', format: 'tar', options: {}, dir: '~' }).map((c) => c.argv);
    assert.deepEqual(argv[0], ['tar', '-xf', 'web1-qemu.tar', '-C', LIBVIRT_IMAGES]);
    assert.ok(disk.startsWith(`${LIBVIRT_IMAGES}/`), `${disk} is in the folder the archive is unpacked into`);
    assert.deepEqual(argv.slice(1), [['virsh', 'define', `${LIBVIRT_IMAGES}/web1.xml`], ['virsh', 'start', 'web1']]);
    const zip = qemuCommander.run({ spec, archive: 'web1-qemu.zip', format: 'zip', options: {}, dir: '~' })[0]!.argv;
    assert.deepEqual(zip, ['unzip', '-q', 'web1-qemu.zip', '-d', LIBVIRT_IMAGES]);
  });

  it('vmware: the .vmx the archive holds, by a full path, under a folder of the machine\'s own', () => {
    const { spec, layout } = vmCase('web', 'vmware');
    const vmx = vmwareCommander.render(spec, {}, layout).archiveFiles.map((f) => f.path).find((p) => p.endsWith('.vmx'));
    assert.equal(vmx, 'web1.vmx');
    const argv = vmwareCommander.run({ spec, archive: '/srv/out/web1-vmware.tar', format: 'tar', options: {}, dir: '/srv/out' }).map((c) => c.argv);
    assert.deepEqual(argv.at(-1), ['vmrun', '-T', 'ws', 'start', `/srv/out/web1/${vmx}`]);
    const downloaded = runSteps(buildable.find((t) => t.commander === vmwareCommander)!, { spec, archive: 'web1-vmware.tar', format: 'tar', options: {}, dir: '~' });
    assert.equal(downloaded.at(-1)!.command, 'vmrun -T ws start ~/web1/web1.vmx');
  });
});

describe('run commands made before the archive exists (the service, at submit time)', () => {
  it('the archive\'s name goes in where the placeholder stands, quoted like any word', () => {
    const target = buildable.find((t) => t.commander === qemuCommander)!;
    const commands = qemuCommander.run({ ...cliContext(target, 'box'), archive: ARCHIVE_PLACEHOLDER, dir: '~' });
    assert.deepEqual(stepsOf(commands, "web1's box.box").map((s) => s.command).slice(0, 2),
      ["vagrant box add --name web1 'web1'\\''s box.box'", 'mkdir -p ~/web1']);
    assert.ok(stepsOf(commands).some((s) => s.command.includes(ARCHIVE_PLACEHOLDER)), 'without a name the placeholder stays');
  });
});

describe('run commands: the text a user pastes runs exactly the argv', () => {
  const work = mkdtempSync(join(tmpdir(), 'vmgen-run-text-'));
  after(() => rmSync(work, { recursive: true, force: true }));
  const stubs = join(work, 'bin');
  const log = join(work, 'calls');
  const programs = new Set(buildable.flatMap((t) => t.commander.formats.flatMap((f) => t.commander.run(cliContext(t, f)).map((c) => c.argv[0]!))));
  programs.delete('cd');

  it('every program is a stub that records its words; mkdir also makes the folder', async () => {
    await run(['mkdir', '-p', stubs]);
    for (const p of programs) {
      const real = p === 'mkdir' ? '\n/bin/mkdir "$@"' : '';
      writeFileSync(join(stubs, p), `#!/bin/bash\nprintf '%s\\0' "\${0##*/}" "$@" >> ${JSON.stringify(log)}\nprintf '\\n' >> ${JSON.stringify(log)}${real}\n`);
      chmodSync(join(stubs, p), 0o755);
    }
    assert.ok(programs.has('lxc-start') && programs.has('podman') && programs.has('VBoxManage'), `stubs: ${[...programs].join(' ')}`);
  });

  for (const target of buildable) {
    for (const format of target.commander.formats) {
      it(`${target.id} -f ${format}: bash runs the shown commands with the argv, in order`, async () => {
        // A folder whose name a shell would split, under a home directory a shell expands.
        const home = join(work, `home of ${target.id} ${format}`);
        await run(['mkdir', '-p', home]);
        writeFileSync(log, '');
        const ctx = { ...cliContext(target, format), archive: "my 'archive' file", dir: '~/my vms' };
        const text = runSteps(target, ctx).map((s) => `# ${s.what}\n${s.command}\n`).join('');
        await run(['bash', '--noprofile', '--norc', '-e', '-c', text], { env: { PATH: `${stubs}:/usr/bin:/bin`, HOME: home } });
        const calls = readFileSync(log, 'utf8').split('\0\n').filter(Boolean).map((l) => l.split('\0'));
        const expected = target.commander.run(ctx).filter((c) => c.argv[0] !== 'cd')
          .map((c) => c.argv.map((w) => (w.startsWith('~/') ? `${home}/${w.slice(2)}` : w)));
        assert.deepEqual(calls, expected);
      });
    }
  }
});
