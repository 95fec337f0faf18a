import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { unmountUnder } from '../../src/exec/mounts.js';
import { run } from '../../src/exec/run.js';
import { lxcCommander } from '../../src/targets/lxc/commander.js';
import { specFor } from '../targets/specs.js';
import { IS_ROOT, ROOT, lastLine, listTree, mountsUnder, processesMentioning, strayProcessesOf, systemState, vmgen, workDirNames, workDirsOwnedBy } from './helpers.js';

/*
 * Real builds: mmdebstrap from the host's mirror, lxc-start, systemd-nspawn and podman. They run as
 * root (CI does), share the persistent cache (/var/cache/vmgen, or $VMGEN_CACHE_DIR) so a rerun is
 * fast, and still pass from an empty cache.
 */
const CONFIG = join(ROOT, 'examples', 'debian-web.conf');
const skip = IS_ROOT ? false : 'needs root (mmdebstrap, mounts, lxc)';
const work = mkdtempSync(join(tmpdir(), 'vmgen-it-'));
const out = join(work, 'out');
const archives: Record<string, string> = {};

async function buildOk(target: string, extra: string[] = [], config = CONFIG): Promise<{ archive: string; stderr: string; stdout: string }> {
  const r = await vmgen(['build', config, '--target', target, '--out', out, ...extra]);
  assert.equal(r.code, 0, `build ${target} failed:\n${r.stderr}`);
  const archive = lastLine(r.stdout);
  assert.ok(existsSync(archive), `${archive} exists`);
  return { archive, stderr: r.stderr, stdout: r.stdout };
}

/** A build with --json: its archive, and the commands that start it as `vmgen build` shows them. */
async function buildJsonOk(target: string, extra: string[] = []): Promise<{ archive: string; run: Array<{ what: string; command: string }> }> {
  const r = await vmgen(['build', CONFIG, '--target', target, '--out', out, '--json', ...extra]);
  assert.equal(r.code, 0, `build ${target} failed:\n${r.stderr}`);
  const result = JSON.parse(r.stdout) as { archive: string; run: Array<{ what: string; command: string }> };
  assert.ok(existsSync(result.archive), `${result.archive} exists`);
  return result;
}

async function verifyOk(archive: string, runtime: RegExp): Promise<string> {
  const r = await vmgen(['verify', archive, '--config', CONFIG]);
  assert.equal(r.code, 0, `verify failed:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, runtime);
  assert.match(r.stdout, /^all \d+ checks passed$/m);
  assert.doesNotMatch(r.stdout, /^FAIL/m);
  for (const line of ['hostname (running): web1', 'user caesar in group julius', 'user vv in group vmg', 'password of caesar: yescrypt',
    'package apache2: installed', 'package git: installed', 'package vim: installed', 'package openssh-server: installed',
    'service ssh active: active', 'service apache2 active: active', 'firewall accepts tcp 22', 'firewall accepts tcp 80']) {
    assert.ok(r.stdout.includes(line), `verify output has "${line}":\n${r.stdout}`);
  }
  return r.stdout;
}

/** This host has no lxcbr0: the NIC then joins no bridge, the one change a container here needs. */
function dropMissingBridge(configPath: string): void {
  if (!existsSync('/sys/class/net/lxcbr0')) writeFileSync(configPath, readFileSync(configPath, 'utf8').replace(/^lxc\.net\.0\.link = .*\n/m, ''));
}

describe('container builds of the Debian 12 web server', { skip }, () => {
  after(() => rmSync(work, { recursive: true, force: true }));

  it('lxc: the archive starts with lxc-start as unpacked, with the commands vmgen build gives and no further step', async () => {
    const lxcpath = join(work, 'lxc');
    const { archive, run: steps } = await buildJsonOk('lxc', ['--lxc-path', lxcpath]);
    archives.lxc = archive;
    assert.match(archive, /web1-lxc\.tar\.zst$/);
    const dir = join(lxcpath, 'web1');
    assert.deepEqual(steps.map((s) => s.command.split(' ')[0]), ['mkdir', 'tar', 'lxc-start']);
    // As a user pastes them, one by one; the bridge this host lacks is dropped just before the start.
    for (const step of steps) {
      if (step.command.startsWith('lxc-start ')) {
        assert.deepEqual(readdirSync(dir).sort(), ['config', 'fstab', 'rootfs']);
        dropMissingBridge(join(dir, 'config'));
      }
      await run(['bash', '--noprofile', '--norc', '-e', '-c', step.command]);
    }
    try {
      assert.equal(await systemState('web1', lxcpath), 'running');
      const r = await run(['lxc-attach', '-n', 'web1', '-P', lxcpath, '--', 'sh', '-c', 'hostname; ip -4 -o addr show dev eth0']);
      assert.match(r.stdout, /^web1$/m);
      assert.match(r.stdout, /inet 192\.168\.1\.2\/24/);
    } finally {
      await run(['lxc-stop', '-n', 'web1', '-P', lxcpath, '-k']).catch(() => undefined);
    }
  });

  it('lxc: vmgen verify passes, under lxc-start', async () => {
    await verifyOk(archives.lxc!, /^runtime: lxc/m);
  });

  it('lxc image.tar: lxc-create -t local imports it under a directory and name chosen after the build, and it starts', async () => {
    const { archive, stderr } = await buildOk('lxc', ['--format', 'image.tar']);
    archives.lxcImage = archive;
    assert.match(archive, /web1-lxc\.image\.tar$/);
    assert.match(stderr, /^Run it:\n {2}# a folder for the image\n {2}mkdir -p /m);
    assert.deepEqual((await run(['tar', '-tf', archive])).stdout.trim().split('\n').sort(), ['meta.tar.xz', 'rootfs.tar.xz']);
    // Chosen now, and named unlike the machine: nothing in the archive knows either.
    const anywhere = mkdtempSync(join(tmpdir(), 'vmgen-lxc-anywhere-'));
    const image = join(work, 'box1-image');
    const commands = lxcCommander.run({ spec: specFor('web', 'lxc'), archive, format: 'image.tar', options: { lxcPath: anywhere }, dir: work, name: 'box1' });
    assert.deepEqual(commands.map((c) => c.argv[0]), ['mkdir', 'tar', 'lxc-create', 'lxc-start']);
    try {
      for (const { argv } of commands.slice(0, 3)) await run(argv);
      const config = readFileSync(join(anywhere, 'box1', 'config'), 'utf8');
      assert.match(config, new RegExp(`^lxc\\.rootfs\\.path = dir:${anywhere}/box1/rootfs$`, 'm'));
      assert.match(config, /^lxc\.include = \/usr\/share\/lxc\/config\/common\.conf$/m);
      assert.match(config, /^lxc\.net\.0\.ipv4\.address = 192\.168\.1\.2\/24 /m);
      dropMissingBridge(join(anywhere, 'box1', 'config'));
      await run(commands[3]!.argv);
      try {
        assert.equal(await systemState('box1', anywhere), 'running');
        const r = await run(['lxc-attach', '-n', 'box1', '-P', anywhere, '--', 'sh', '-c', 'hostname; ip -4 -o addr show dev eth0']);
        // LXC names the UTS namespace after the container; the guest sets the configured hostname at boot.
        assert.match(r.stdout, /^web1$/m);
        assert.match(r.stdout, /inet 192\.168\.1\.2\/24/);
      } finally {
        await run(['lxc-stop', '-n', 'box1', '-P', anywhere, '-k']).catch(() => undefined);
      }
    } finally {
      await run(['lxc-destroy', '-n', 'box1', '-P', anywhere]).catch(() => undefined);
      rmSync(anywhere, { recursive: true, force: true });
      rmSync(image, { recursive: true, force: true });
    }
  });

  it('lxc image.tar: vmgen verify imports it with lxc-create -t local and passes', async () => {
    const report = await verifyOk(archives.lxcImage!, /^runtime: lxc/m);
    assert.match(report, /^note: imported with lxc-create -t local$/m);
  });

  it('oci: skopeo reads the image layout and its labels carry the spec', async () => {
    const { archive, stderr } = await buildOk('oci');
    archives.oci = archive;
    assert.ok(stderr.includes(`Run it:\n  # load the image web1:latest\n  podman load -i ${archive}\n`), `vmgen build shows how to load it:\n${stderr}`);
    const inspect = JSON.parse((await run(['skopeo', 'inspect', `oci-archive:${archive}`])).stdout) as { Labels: Record<string, string> };
    const spec = JSON.parse(inspect.Labels['io.vmgen.spec']!) as { hostname: string; users: Array<{ name: string; password: string }> };
    assert.equal(spec.hostname, 'web1');
    assert.deepEqual(spec.users.map((u) => [u.name, u.password]), [['caesar', '<redacted>'], ['vv', '<redacted>']]);
  });

  it('oci: vmgen verify passes, under podman', async () => {
    await verifyOk(archives.oci!, /^runtime: podman/m);
  });

  it('openvz: the template cache and CTID.conf, and vmgen verify passes under systemd-nspawn', async () => {
    const { archive } = await buildOk('openvz');
    const names = (await run(['tar', '-tf', archive])).stdout.trim().split('\n').sort();
    assert.deepEqual(names, ['101.conf', 'debian-12-x86_64-vmgen-web1.tar.gz']);
    const conf = (await run(['tar', '-xOf', archive, '101.conf'])).stdout;
    assert.match(conf, /^HOSTNAME="web1"$/m);
    assert.match(conf, /^IP_ADDRESS="192\.168\.1\.2"$/m);
    assert.match(conf, /^OSTEMPLATE="debian-12-x86_64-vmgen-web1"$/m);
    const report = await verifyOk(archive, /^runtime: systemd-nspawn/m);
    assert.match(report, /ok {4}address 192\.168\.1\.2 \(101\.conf IP_ADDRESS\)/);
  });

  it('a rebuild with only the hostname changed reuses the cache and runs no apt', async () => {
    const hostKey = async (archive: string): Promise<string> => (await run(['tar', '-xOf', archive, 'rootfs/etc/ssh/ssh_host_ed25519_key.pub'])).stdout;
    const firstKey = await hostKey(archives.lxc!);
    const renamed = join(work, 'renamed.conf');
    writeFileSync(renamed, readFileSync(CONFIG, 'utf8').replace('hostname = web1', 'hostname = web2'));
    const r = await vmgen(['build', renamed, '--target', 'lxc', '--out', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { layer: { packageToolRuns: number; events: string[] } };
    assert.equal(result.layer.packageToolRuns, 0);
    assert.match(result.layer.events.join('\n'), /packages layer packages-[0-9a-f]+: cached/);
    assert.doesNotMatch(r.stderr, /mmdebstrap|apt-get|Unpacking|Setting up/);
    // Same cached layer, yet each machine has its own SSH host keys.
    const secondKey = await hostKey((JSON.parse(r.stdout) as { archive: string }).archive);
    assert.match(firstKey, /^ssh-ed25519 /);
    assert.match(secondKey, /^ssh-ed25519 /);
    assert.notEqual(firstKey, secondKey);
  });
});

describe('other releases and package sets', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmgen-more-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('Debian 13 builds and verifies', async () => {
    const conf = join(dir, 'trixie.conf');
    writeFileSync(conf, [
      '[hardware]', '    vm_id = tri1', '    os = debian13-64', '[config]', '    hostname = tri1', '    root_passwd = secret',
      '[users]', '    [[users]]', '        [[[u0]]]', '            name = ana', '            passwd = x1',
      '[network]', '    [[eths]]', '        [[[eth0]]]', '            type = static', '            address = 10.0.3.5', '            network = 24',
      '    [[open_ports]]', '        [[[ssh]]]', '            port = 22', '[services]', '    sshd = 1', '',
    ].join('\n'));
    const b = await vmgen(['build', conf, '--target', 'lxc', '--out', join(dir, 'out')]);
    assert.equal(b.code, 0, b.stderr);
    const v = await vmgen(['verify', lastLine(b.stdout), '--config', conf]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    for (const line of ['hostname (running): tri1', 'password of ana: yescrypt', 'service ssh active: active', 'address of eth0: 10.0.3.5/24', 'firewall accepts tcp 22']) {
      assert.ok(v.stdout.includes(line), `${line}:\n${v.stdout}`);
    }
  });

  it('a second package set makes the base layer, and later sets start from it, installing only the difference', async () => {
    // A fresh cache (sharing the .deb pool by hard links, so nothing is downloaded twice) makes
    // every case happen: the first set in one mmdebstrap pass, the second from a new base layer.
    const cache = join(dir, 'cache');
    const pool = join(process.env.VMGEN_CACHE_DIR ?? '/var/cache/vmgen', 'debs');
    mkdirSync(join(cache, 'debs'), { recursive: true });
    if (existsSync(pool)) await run(['cp', '-al', `${pool}/.`, join(cache, 'debs')]);
    const variant = (app: string): string => {
      const conf = join(dir, `only-${app}.conf`);
      writeFileSync(conf, readFileSync(CONFIG, 'utf8').replace(/\[devel\][\s\S]*$/, `[devel]\n    ${app} = 1\n`));
      return conf;
    };
    const build = async (app: string): Promise<{ events: string; rootfs: string }> => {
      const b = await vmgen(['build', variant(app), '--target', 'lxc', '--out', join(dir, 'out'), '--cache-dir', cache, '--json']);
      assert.equal(b.code, 0, b.stderr);
      const { layer } = JSON.parse(b.stdout) as { layer: { events: string[]; rootfs: string } };
      return { events: layer.events.join('\n'), rootfs: layer.rootfs };
    };
    const first = await build('vim');
    assert.match(first.events, /^packages layer packages-[0-9a-f]+: made in one pass$/);
    const second = await build('git');
    assert.match(second.events, /base layer base-[0-9a-f]+: made\npackages layer packages-[0-9a-f]+: made from the base layer/);
    const installed = (rootfs: string, pkg: string): boolean =>
      new RegExp(`^Package: ${pkg}\nStatus: install ok installed$`, 'm').test(readFileSync(join(rootfs, 'var/lib/dpkg/status'), 'utf8'));
    assert.deepEqual([installed(second.rootfs, 'git'), installed(second.rootfs, 'vim')], [true, false], 'the second build has git and not vim');
    assert.deepEqual([installed(first.rootfs, 'vim'), installed(first.rootfs, 'git')], [true, false], 'the first build has vim and not git');
    assert.deepEqual(readdirSync(join(cache, 'layers')).filter((n) => n.startsWith('.')), [], 'no half-made layers');
  });
});

describe('failed builds leave nothing behind', { skip }, () => {
  const failWork = mkdtempSync(join(tmpdir(), 'vmgen-fail-'));
  after(async () => {
    await unmountUnder(failWork);
    rmSync(failWork, { recursive: true, force: true });
  });

  /** Exit 1, a message naming the problem, no stack, and no archive, mount, process or scratch left. */
  function assertCleanFailure(r: { code: number | null; stderr: string }, message: RegExp, dirs: { out: string; cache: string }): void {
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /^\s+at .+:\d+:\d+\)?$/m);
    assert.deepEqual(listTree(dirs.out).filter((p) => !p.startsWith('lost+found')), [], 'no archive or partial file');
    // The cache may itself be a test's tmpfs; nothing may be mounted inside it.
    assert.deepEqual(mountsUnder(dirs.cache).filter((mp) => mp !== dirs.cache), [], 'no mounts');
    assert.deepEqual(processesMentioning(dirs.cache), [], 'no processes');
    const layers = join(dirs.cache, 'layers');
    assert.deepEqual(existsSync(layers) ? readdirSync(layers) : [], [], 'no half-made layer');
    const scratch = join(dirs.cache, 'work');
    assert.deepEqual(existsSync(scratch) ? readdirSync(scratch) : [], [], 'no work directory');
  }

  function freshDirs(name: string): { out: string; cache: string } {
    const dirs = { out: join(failWork, name, 'out'), cache: join(failWork, name, 'cache') };
    mkdirSync(dirs.out, { recursive: true });
    return dirs;
  }

  it('an unreachable mirror: the error names the mirror and the suite', async () => {
    const dirs = freshDirs('mirror');
    const conf = join(failWork, 'mirror.conf');
    writeFileSync(conf, readFileSync(CONFIG, 'utf8').replace('[config]\n', '[config]\n    mirror = http://127.0.0.1:9/debian\n'));
    const r = await vmgen(['build', conf, '--target', 'lxc', '--out', dirs.out, '--cache-dir', dirs.cache]);
    assertCleanFailure(r, /cannot fetch suite bookworm from mirror http:\/\/127\.0\.0\.1:9\/debian/, dirs);
  });

  it('an unknown package: the error names it', async () => {
    const dirs = freshDirs('package');
    const catalog = join(failWork, 'extra-catalog.json');
    writeFileSync(catalog, JSON.stringify({ apps: [{ name: 'nosuchapp', category: 'devel', description: 'a package no mirror has', apt: { packages: ['vmgen-no-such-package'] } }] }));
    const conf = join(failWork, 'package.conf');
    writeFileSync(conf, readFileSync(CONFIG, 'utf8').replace('[devel]\n', '[devel]\n    nosuchapp = 1\n'));
    const r = await vmgen(['build', conf, '--target', 'lxc', '--out', dirs.out, '--cache-dir', dirs.cache, '--catalog', catalog]);
    assertCleanFailure(r, /package vmgen-no-such-package is not in/, dirs);
  });

  it('a cancelled build (SIGTERM while archiving) exits 1 and leaves nothing behind', async () => {
    const dirs = freshDirs('cancel');
    const cache = process.env.VMGEN_CACHE_DIR ?? '/var/cache/vmgen';
    // The cache is shared: only what this build adds counts, not what another process holds meanwhile.
    const mountsBefore = new Set(mountsUnder(join(cache, 'work')));
    const workBefore = workDirNames(cache);
    // An LXC image is packed whole (xz, seconds): a tar.zst of a cached layer takes a tenth of a
    // second to pack, which the signal could miss.
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'vmgen.js'), 'build', CONFIG, '--target', 'lxc', '--format', 'image.tar', '--out', dirs.out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      if (/\] stop and archive\n/.test(stderr) && !child.killed) child.kill('SIGTERM');
    });
    const code = await new Promise<number | null>((res) => child.on('close', res));
    assert.equal(code, 1, stderr);
    assert.match(stderr, /cancelled/);
    assert.deepEqual(listTree(dirs.out), []);
    assert.deepEqual(mountsUnder(join(cache, 'work')).filter((mp) => !mountsBefore.has(mp)), []);
    assert.deepEqual(strayProcessesOf(cache, child.pid ?? -1, workBefore), [], 'no process of this build');
    assert.deepEqual(workDirsOwnedBy(cache, child.pid ?? -1), [], 'no work directory of this build');
  });

  it('a full disk for the archive (a small tmpfs): exit 1, no partial archive, the overlay unmounted', async () => {
    const small = join(failWork, 'small');
    mkdirSync(small, { recursive: true });
    await run(['mount', '-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', small]);
    try {
      const cache = process.env.VMGEN_CACHE_DIR ?? '/var/cache/vmgen';
      const mountsBefore = new Set(mountsUnder(join(cache, 'work')));
      const r = await vmgen(['build', CONFIG, '--target', 'lxc', '--out', small]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /no space left/i);
      assert.deepEqual(listTree(small), []);
      assert.deepEqual(mountsUnder(join(cache, 'work')).filter((mp) => !mountsBefore.has(mp)), []);
      assert.deepEqual(workDirsOwnedBy(cache, r.pid), [], 'no work directory of this build');
    } finally {
      await run(['umount', small]);
    }
  });

  it('a full disk for the cache (a small tmpfs): exit 1, no half-made layer, no mounts or processes', async () => {
    const dirs = freshDirs('full');
    mkdirSync(dirs.cache, { recursive: true });
    await run(['mount', '-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', dirs.cache]);
    try {
      const r = await vmgen(['build', CONFIG, '--target', 'lxc', '--out', dirs.out, '--cache-dir', dirs.cache]);
      assertCleanFailure(r, /no space left/i, dirs);
    } finally {
      await run(['umount', dirs.cache]);
    }
  });
});

describe('hostile names never reach a host shell or a path outside the rootfs', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmgen-inject-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [what, from, to, line] of [
    ['a hostname like a;reboot', 'hostname = web1', 'hostname = a;reboot', 24],
    ['a user named ../x', 'name = caesar', 'name = ../x', 35],
  ] as const) {
    it(`${what} is refused at its line before anything runs`, async () => {
      const conf = join(dir, 'hostile.conf');
      writeFileSync(conf, readFileSync(CONFIG, 'utf8').replace(from, to));
      const cache = join(dir, 'cache');
      const r = await vmgen(['build', conf, '--target', 'lxc', '--out', join(dir, 'out'), '--cache-dir', cache]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`hostile\\.conf:${line}:\\d+: error: `));
      assert.ok(!existsSync(cache), 'no cache, work directory or mount was made');
      assert.equal(existsSync(join(dir, 'out')), false, 'no output directory was made');
    });
  }
});
