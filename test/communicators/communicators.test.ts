import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GUEST_ENV, READ_SCRIPT, REMOVE_SCRIPT, SYMLINK_SCRIPT, WRITE_SCRIPT } from '../../src/communicators/command.js';
import { LxcAttachCommunicator } from '../../src/communicators/lxc-attach.js';
import { NsenterCommunicator } from '../../src/communicators/nsenter.js';
import { PodmanExecCommunicator } from '../../src/communicators/podman-exec.js';

const ENV_PAIRS = [
  'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', 'LC_ALL=C.UTF-8', 'DEBIAN_FRONTEND=noninteractive',
];

const HOSTILE = ['sh', '-c', 'printf "%s\\n" "$@"', 'x', 'a;reboot', '$(id)', '`id`', "'; reboot; '", '--', '-n'];

test('lxc-attach: the container, its lxcpath, a cleared environment, then the command after --', () => {
  assert.deepEqual(LxcAttachCommunicator.argv('web1', '/var/lib/lxc', ['id', '-u']), [
    'lxc-attach', '-n', 'web1', '-P', '/var/lib/lxc', '--clear-env',
    ...ENV_PAIRS.flatMap((p) => ['--set-var', p]), '--', 'id', '-u',
  ]);
});

test('podman exec: stdin open, as root, the guest environment, the container, then the command', () => {
  assert.deepEqual(PodmanExecCommunicator.argv('web1', ['id', '-u']), [
    'podman', 'exec', '-i', '--user', '0', ...ENV_PAIRS.flatMap((p) => ['--env', p]), 'web1', 'id', '-u',
  ]);
});

test("nsenter: the init's namespaces, root and working directory, then the command after --", () => {
  assert.deepEqual(NsenterCommunicator.argv(4242, ['id', '-u']), [
    'nsenter', '--target', '4242', '--mount', '--uts', '--ipc', '--net', '--pid', '--root', '--wd', '--', 'id', '-u',
  ]);
  class Probe extends NsenterCommunicator {
    env(): NodeJS.ProcessEnv {
      return this.hostEnv();
    }
  }
  assert.deepEqual(new Probe(4242).env(), GUEST_ENV, 'nsenter hands its environment to the guest, so it gets only the guest one');
});

test('every communicator passes the guest command as separate arguments, unchanged, at the end', () => {
  const argvs = [
    LxcAttachCommunicator.argv('web1', '/var/lib/lxc', HOSTILE),
    PodmanExecCommunicator.argv('web1', HOSTILE),
    NsenterCommunicator.argv(4242, HOSTILE),
  ];
  for (const argv of argvs) {
    assert.deepEqual(argv.slice(-HOSTILE.length), HOSTILE);
    const head = argv.slice(0, -HOSTILE.length);
    assert.ok(!head.some((a) => a.includes('reboot') || a.includes('$(id)')), `${argv[0]}: a value leaked into its own options`);
  }
});

test('names that would read as options, relative lxcpaths and PID 1 are refused', () => {
  assert.throws(() => new LxcAttachCommunicator('-P', '/var/lib/lxc'), /bad container name/);
  assert.throws(() => new LxcAttachCommunicator('web1', 'lxc'), /must be absolute/);
  assert.throws(() => new PodmanExecCommunicator('--privileged'), /bad container name/);
  assert.throws(() => new NsenterCommunicator(1), /bad container init PID/);
  assert.throws(() => new NsenterCommunicator(12.5), /bad container init PID/);
});

// ---------------------------------------------------------------------------------------------
// File operations: each communicator, with its runtime taken out, runs the guest command on this
// host, so the file scripts meet a real sh and coreutils while the argv it would have run is kept.

type HostArgv = [string, ...string[]];

function local(argv: readonly string[]): HostArgv {
  const [first, ...rest] = argv;
  if (first === undefined) throw new Error('empty command');
  return [first, ...rest];
}

class LocalLxc extends LxcAttachCommunicator {
  readonly wouldRun: string[][] = [];
  protected override hostArgv(argv: readonly string[]): HostArgv {
    this.wouldRun.push(super.hostArgv(argv));
    return local(argv);
  }
}

class LocalPodman extends PodmanExecCommunicator {
  readonly wouldRun: string[][] = [];
  protected override hostArgv(argv: readonly string[]): HostArgv {
    this.wouldRun.push(super.hostArgv(argv));
    return local(argv);
  }
}

class LocalNsenter extends NsenterCommunicator {
  readonly wouldRun: string[][] = [];
  protected override hostArgv(argv: readonly string[]): HostArgv {
    this.wouldRun.push(super.hostArgv(argv));
    return local(argv);
  }
}

const LOCAL = [
  { name: 'lxc-attach', make: () => new LocalLxc('web1', '/var/lib/lxc') },
  { name: 'podman exec', make: () => new LocalPodman('web1') },
  { name: 'nsenter', make: () => new LocalNsenter(4242) },
];

const SCRIPTS = [WRITE_SCRIPT, READ_SCRIPT, SYMLINK_SCRIPT, REMOVE_SCRIPT];

/** The script and the arguments it was given, from a host argv whose guest command is `sh -c SCRIPT NAME ARGS…`. */
function scriptCall(hostArgv: readonly string[]): { script: string; args: string[] } {
  const at = hostArgv.lastIndexOf('-c');
  assert.equal(hostArgv[at - 1], 'sh');
  return { script: hostArgv[at + 1] ?? '', args: hostArgv.slice(at + 3) };
}

for (const { name, make } of LOCAL) {
  test(`${name}: files are written, read, linked and removed with the path as an argument, never in the script`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmgen-comm-'));
    const comm = make();
    const odd = join(dir, 'a;reboot $(touch pwned)', '`touch pwned2` \'q" x');
    const binary = new Uint8Array([0, 1, 2, 255, 10, 13, 0]);

    await comm.writeFile(odd, binary, 0o600);
    assert.deepEqual(new Uint8Array(readFileSync(odd)), binary);
    assert.equal(statSync(odd).mode & 0o777, 0o600);
    assert.deepEqual(new Uint8Array(await comm.readFile(odd)), binary);
    await comm.writeFile(join(dir, 'empty'), '');
    assert.equal(readFileSync(join(dir, 'empty'), 'utf8'), '');
    assert.equal(statSync(join(dir, 'empty')).mode & 0o777, 0o644);

    const link = join(dir, 'localtime');
    await comm.symlink('/usr/share/zoneinfo/$(id)', link);
    assert.equal(readlinkSync(link), '/usr/share/zoneinfo/$(id)');
    await comm.symlink(dir, link); // replaces the link, even one that now names a directory
    await comm.symlink('/etc', link);
    assert.equal(readlinkSync(link), '/etc');

    await comm.remove(join(dir, 'a;reboot $(touch pwned)'));
    assert.deepEqual(readdirSync(dir).sort(), ['empty', 'localtime'], 'nothing ran that the values spelled');

    for (const hostArgv of comm.wouldRun) {
      const { script } = scriptCall(hostArgv);
      assert.ok(SCRIPTS.includes(script), `a script other than the constant ones: ${script}`);
      assert.ok(!script.includes(dir), 'a path inside the script');
    }
    assert.deepEqual(scriptCall(comm.wouldRun[0] ?? []).args, [odd, '600']);
  });

  test(`${name}: a relative path, or the guest's root, is refused before anything runs`, async () => {
    const comm = make();
    await assert.rejects(comm.writeFile('etc/hostname', 'x'), /must be absolute/);
    await assert.rejects(comm.remove('/'), /refusing to remove the guest root/);
    await assert.rejects(comm.remove('/etc/..'), /refusing to remove the guest root/);
    await assert.rejects(comm.readFile('relative'), /must be absolute/);
    assert.deepEqual(comm.wouldRun, []);
  });

  test(`${name}: a command's failure carries the guest's stderr`, async () => {
    const comm = make();
    await assert.rejects(comm.readFile('/nonexistent/vmgen'), /No such file or directory/);
    await assert.rejects(() => comm.exec([]), /empty command/);
  });
}
