import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { VmgenError } from '../../src/errors.js';
import { mountLayer, type MountedRootfs } from '../../src/layers/mount.js';
import { runBuildScripts, type BuildScript } from '../../src/layers/sandbox.js';

/*
 * The acceptance of issue 15's sandbox: a build script that tries to reach the host is refused
 * inside its sandbox, each way, and the host is unchanged; what it writes in the guest's root is
 * the guest root's. A tiny root (bash, perl and coreutils with their libraries) stands in for a
 * layer, mounted as a build mounts one, so the test takes seconds.
 */

const IS_ROOT = process.getuid?.() === 0;
const skip = IS_ROOT ? false : 'needs root (mounts, user namespaces)';

const PROGRAMS = ['bash', 'sh', 'cat', 'touch', 'mount', 'umount', 'perl', 'stat', 'id', 'grep', 'mkdir', 'true'];

/** A root with PROGRAMS and the libraries ldd names, copied from the host. */
function tinyRoot(root: string): void {
  for (const d of ['bin', 'etc', 'proc', 'dev', 'tmp', 'run', 'var']) mkdirSync(join(root, d), { recursive: true });
  const libs = new Set<string>();
  for (const name of PROGRAMS) {
    const path = execFileSync('sh', ['-c', 'command -v "$1"', 'sh', name], { encoding: 'utf8' }).trim();
    if (!path.startsWith('/')) continue; // a shell builtin
    copyFileSync(path, join(root, 'bin', name));
    chmodSync(join(root, 'bin', name), 0o755);
    for (const m of execFileSync('ldd', [path], { encoding: 'utf8' }).matchAll(/(\/\S+)/g)) libs.add(m[1]!);
  }
  for (const lib of libs) {
    mkdirSync(join(root, dirname(lib)), { recursive: true });
    copyFileSync(lib, join(root, lib));
  }
  writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
}

describe('build scripts run in a sandbox without the host\'s privileges', { skip }, () => {
  let dir: string;
  let rootfs: MountedRootfs;
  let server: Server;
  let port = 0;
  let connections = 0;
  const marker = (): string => join(dir, 'host-marker');
  const log: string[] = [];

  const runScripts = (scripts: BuildScript[]) =>
    runBuildScripts(rootfs, scripts, { signal: new AbortController().signal, log: (l) => log.push(l), workDir: join(dir, 'work') });
  const guestFile = (path: string): string => readFileSync(join(rootfs.path, path), 'utf8');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vmgen-sandbox-'));
    tinyRoot(join(dir, 'layer'));
    writeFileSync(marker(), 'host\n');
    chmodSync(marker(), 0o666);
    rootfs = await mountLayer(join(dir, 'layer'), join(dir, 'work'), join(dir, 'work', 'stage', 'rootfs'));
    server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  after(async () => {
    server?.close();
    await rootfs?.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the guest\'s /etc as the guest\'s root: uid 0 on disk, not 200000', async () => {
    await runScripts([{ id: 'stamp', at: ['scripts', 'stamp', 'run'], text: 'echo built > /etc/x\nid -u > /etc/x-uid\n', network: false }]);
    assert.equal(rootfs.how, 'overlay', 'the layer is mounted as a build mounts it');
    assert.equal(guestFile('etc/x'), 'built\n');
    assert.equal(guestFile('etc/x-uid'), '0\n');
    const st = statSync(join(rootfs.path, 'etc', 'x'));
    assert.deepEqual([st.uid, st.gid], [0, 0]);
    assert.equal(existsSync(join(dir, 'work', 'upper', 'etc', 'x')), true, 'the file is in the build\'s upper directory');
    assert.equal(existsSync(join(dir, 'layer', 'etc', 'x')), false, 'the cached layer below is untouched');
  });

  it('refuses each way to the host, and the host is unchanged', async () => {
    const probe = (name: string, command: string): string => `if ${command}; then echo "${name} allowed"; else echo "${name} refused"; fi >> /var/report 2>&1`;
    const script = [
      '#!/bin/bash',
      `${probe('proc1', `echo sandbox > /proc/1/root${marker()}`)}`,
      // PID 1 is the sandbox's own: its root is the guest's, its /tmp the sandbox's.
      `${probe('proc1-tmp', 'touch /proc/1/root/tmp/vmgen-sandbox-escape')}`,
      `${probe('mount-tmpfs', 'mount -t tmpfs none /')}`,
      `${probe('umount-proc', 'umount /proc')}`,
      `${probe('module', 'perl -e \'my $b = "x" x 64; my $p = ""; exit(syscall(175, $b, 64, $p) == -1 ? 1 : 0)\'')}`,
      `${probe('socket', `(echo hi > /dev/tcp/127.0.0.1/${port})`)}`,
      'grep CapBnd /proc/self/status >> /var/report',
    ].join('\n');
    await runScripts([{ id: 'hostile', at: ['scripts', 'hostile', 'run'], text: script, network: false }]);
    const report = guestFile('var/report');
    assert.match(report, /^proc1-tmp allowed$/m, report);
    for (const name of ['proc1', 'mount-tmpfs', 'umount-proc', 'module', 'socket']) {
      assert.match(report, new RegExp(`^${name} refused$`, 'm'), `${name} is refused:\n${report}`);
    }
    const bounding = BigInt(`0x${/CapBnd:\s*([0-9a-f]+)/.exec(report)?.[1] ?? 'ffffffffff'}`);
    for (const [cap, bit] of [['CAP_SYS_MODULE', 16n], ['CAP_SYS_ADMIN', 21n], ['CAP_NET_ADMIN', 12n], ['CAP_SYS_RAWIO', 17n]] as const) {
      assert.equal((bounding >> bit) & 1n, 0n, `${cap} is not in the script's bounding set (${bounding.toString(16)})`);
    }
    assert.equal(readFileSync(marker(), 'utf8'), 'host\n', 'the host marker is unchanged');
    assert.equal(existsSync('/tmp/vmgen-sandbox-escape'), false);
    assert.equal(connections, 0, 'nothing reached the listener on the host\'s loopback');
  });

  it('has the network only when the config asks for it', async () => {
    await runScripts([{ id: 'online', at: ['scripts', 'online', 'run'], text: `#!/bin/bash\necho hi > /dev/tcp/127.0.0.1/${port}\n`, network: true }]);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(connections, 1, 'with network = 1 the script reaches the listener');
  });

  it('fails a failing script with its key and last stderr line, its output in the log', async () => {
    log.length = 0;
    const failing = runScripts([{ id: 'bad', at: ['scripts', 'bad', 'run'], text: 'echo working\necho boom >&2\nexit 3\n', network: false }]);
    await assert.rejects(failing, (err: unknown) => {
      assert.ok(err instanceof VmgenError, String(err));
      assert.equal(err.message, 'build script \'bad\' failed (exit 3): boom');
      assert.deepEqual(err.at, ['scripts', 'bad', 'run']);
      return true;
    });
    assert.ok(log.includes('bad: working') && log.includes('bad: boom'), log.join('\n'));
    // The build's overlay is mounted again after a failure, so its cleanup and the next step find it.
    assert.equal(guestFile('etc/x'), 'built\n');
  });

  it('costs well under a few seconds a script', async () => {
    const started = Date.now();
    await runScripts([{ id: 'noop', at: ['scripts', 'noop', 'run'], text: 'true\n', network: false }]);
    const ms = Date.now() - started;
    assert.ok(ms < 5000, `one script took ${ms} ms`);
  });
});
