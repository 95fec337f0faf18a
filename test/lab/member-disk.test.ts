import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { memberDiskArgv } from '../../src/lab/members/qemu.js';

function sh(argv: readonly string[], cwd?: string): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', ...(cwd ? { cwd } : {}) });
  assert.equal(r.status, 0, `${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

test('a qemu member\'s disk holds only the clusters that differ from its base, backed by it relatively, with the build\'s content', (t) => {
  if (spawnSync('sh', ['-c', 'command -v qemu-img']).status !== 0) {
    t.skip('qemu-img is not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'vmgen-member-disk-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'bases/b1'), { recursive: true });
  mkdirSync(join(dir, 'machines/m1'), { recursive: true });
  // The base: 8 MiB with data in its first 4 MiB; the build's image: a full copy with one cluster changed.
  const raw = join(dir, 'base.raw');
  sh(['qemu-img', 'create', '-q', '-f', 'raw', raw, '8M']);
  const fd = openSync(raw, 'r+');
  writeSync(fd, Buffer.alloc(4 << 20, 0x5a), 0, 4 << 20, 0);
  closeSync(fd);
  const base = join(dir, 'bases/b1/hdd0.qcow2');
  sh(['qemu-img', 'convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, base]);
  const image = join(dir, 'build.qcow2');
  sh(['qemu-img', 'convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, image]);
  sh(['qemu-io', '-f', 'qcow2', '-c', 'write -P 0x11 1M 64k', image]);

  const dest = join(dir, 'machines/m1/m1-hdd0.qcow2');
  const argv = memberDiskArgv({ path: image, format: 'qcow2' }, base, '../../bases/b1/hdd0.qcow2', dest);
  assert.deepEqual(argv.map((a) => a.slice(0, 3)), [['qemu-img', 'create', '-q'], ['qemu-img', 'rebase', '-f'], ['qemu-img', 'rebase', '-u']],
    'an overlay over the image, a safe rebase onto the base, then the relative name');
  for (const a of argv) sh(a);

  const info = JSON.parse(sh(['qemu-img', 'info', '--output=json', dest])) as { 'backing-filename': string; 'actual-size': number };
  assert.equal(info['backing-filename'], '../../bases/b1/hdd0.qcow2', 'the backing file is named relative to the machine\'s directory');
  const map = JSON.parse(sh(['qemu-img', 'map', '--output=json', dest])) as Array<{ start: number; length: number; depth: number; data: boolean }>;
  const own = map.filter((m) => m.depth === 0 && m.data).reduce((n, m) => n + m.length, 0);
  assert.ok(own > 0 && own <= 256 << 10, `only the changed cluster(s) are the member's own: ${own} bytes`);
  sh(['qemu-img', 'compare', '-q', '-f', 'qcow2', '-F', 'qcow2', dest, image]);
  rmSync(image);
  sh(['qemu-img', 'check', '-q', dest], join(dir, 'machines/m1'));
});
