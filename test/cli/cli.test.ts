import { test } from 'node:test';
import assert from 'node:assert/strict';
import { someItem } from '../helpers/assert-values.js';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { assertNoStack, run } from '../helpers/cli.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

// The installed entry points run the build in dist/; scripts/test.sh builds before testing.
for (const bin of ['vmgen', 'vmgctl']) {
  test(`${bin} --help works from the built bin`, { skip: !existsSync(`${root}/dist/cli/main.js`) && 'no build in dist/' }, () => {
    const r = spawnSync(process.execPath, [`${root}/bin/${bin}.js`, '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Usage: ${bin}`));
  });
}

test('vmgen --help lists the commands', async () => {
  const r = await run('vmgen', ['--help']);
  assert.equal(r.code, 0);
  for (const cmd of ['validate', 'parse', 'schema', 'set', 'get', 'unset', 'catalog']) assert.match(r.stdout, new RegExp(`\\b${cmd}\\b`));
});

test('usage errors exit 2 without a stack trace', async () => {
  for (const args of [['frobnicate'], ['validate'], ['validate', 'x.conf', '--target', 'xen'], ['validate', 'x.conf', '--bogus']]) {
    const r = await run('vmgen', args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assertNoStack(r.stderr);
  }
});

test('an unreadable or non-UTF-8 file is a user error (exit 1) with a message', async () => {
  const missing = await run('vmgen', ['validate', 'no/such/file.conf']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read no\/such\/file.conf: no such file/);
  assertNoStack(missing.stderr);
  const dir = await run('vmgen', ['validate', 'examples']);
  assert.equal(dir.code, 1);
  assert.match(dir.stderr, /it is a directory/);
});

test('validate --json reports validity and every diagnostic', async () => {
  const r = await run('vmgen', ['validate', 'test/fixtures/seed/winxp-vmware.conf', '--json']);
  assert.equal(r.code, 1);
  const out = JSON.parse(r.stdout) as { valid: boolean; diagnostics: Array<{ line: number; severity: string }> };
  assert.equal(out.valid, false);
  someItem(out.diagnostics, (d) => d.line === 27 && d.severity === 'error', 'error at line 27');
  const ok = await run('vmgen', ['validate', 'examples/debian-web.conf', '--json']);
  assert.equal(ok.code, 0);
  assert.equal(JSON.parse(ok.stdout).valid, true);
});

test('vmgen parse --json keeps the file order of keys, including numeric ones', async () => {
  const dir = await import('node:fs/promises').then((fs) => fs.mkdtemp('/tmp/vmgen-parse-'));
  const { writeFileSync } = await import('node:fs');
  writeFileSync(`${dir}/a.conf`, 'b = 1\n10 = x\n2 = y\n[s]\nk = a, b\n');
  const r = await run('vmgen', ['parse', `${dir}/a.conf`, '--json']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, '{\n  "b": "1",\n  "10": "x",\n  "2": "y",\n  "s": {\n    "k": ["a","b"]\n  }\n}\n');
});

test('vmgen verify of a missing archive is a plain error, not an internal one', async () => {
  const r = await run('vmgen', ['verify', '/nonexistent/web1.tar', '--config', fileURLToPath(new URL('../../examples/debian-web.conf', import.meta.url))]);
  assertNoStack(r.stderr);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: cannot read \/nonexistent\/web1\.tar: no such file/);
});

test('validate -t qemu -f box and build -f box refuse, at their lines, what would leave a Vagrant box unusable', async () => {
  const r = await run('vmgen', ['validate', 'examples/debian-web.conf', '--target', 'qemu', '-f', 'box', '--json']);
  assert.equal(r.code, 1);
  const out = JSON.parse(r.stdout) as { valid: boolean; diagnostics: Array<{ line: number; code: string; severity: string }> };
  // Line 4: os = debian12-64, whose default firmware is UEFI; line 49: eth0's type = static.
  assert.deepEqual(out.diagnostics.filter((d) => d.severity === 'error').map((d) => [d.code, d.line]), [['CFG_BOX_FIRMWARE', 4], ['CFG_BOX_NIC', 49]]);
  const plain = await run('vmgen', ['validate', 'examples/debian-web.conf', '--target', 'qemu', '--json']);
  assert.equal(plain.code, 0, plain.stdout);
  const build = await run('vmgen', ['build', 'examples/debian-web.conf', '-t', 'qemu', '-f', 'box', '-o', '/nonexistent/out']);
  assert.equal(build.code, 1, build.stderr);
  assert.match(build.stderr, /debian-web\.conf:49:\d+: error: eth0 is static/);
  assertNoStack(build.stderr);
});
