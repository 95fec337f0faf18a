import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isInstance } from '../helpers/assert-values.js';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandError, run } from '../../src/exec/run.js';

test('arguments reach the program as they are, never through a shell', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmgen-exec-'));
  const hostile = ['a;touch pwned', '$(touch pwned2)', '`touch pwned3`', '../x', "it's \"quoted\"", '*'];
  const r = await run(['printf', '%s\\n', ...hostile], { cwd: dir });
  assert.deepEqual(r.stdout.trimEnd().split('\n'), hostile);
  assert.deepEqual(readdirSync(dir), [], 'nothing was executed');
});

test('a failing command carries its argv, exit code and stderr', async () => {
  await assert.rejects(run(['sh', '-c', 'echo boom >&2; exit 3']), (err: unknown) => {
    isInstance(err, CommandError);
    assert.equal(err.exitCode, 3);
    assert.equal(err.stderr.trim(), 'boom');
    assert.deepEqual(err.argv.slice(0, 2), ['sh', '-c']);
    assert.match(err.message, /sh exited with 3: boom/);
    return true;
  });
});

test('a missing program is a CommandError, not a crash', async () => {
  await assert.rejects(run(['/nonexistent/vmgen-tool']), (err: unknown) => err instanceof CommandError && err.exitCode === null);
});

test('input is passed on stdin; an abort signal stops the command', async () => {
  assert.equal((await run(['cat'], { input: 'hello' })).stdout, 'hello');
  const ac = new AbortController();
  const p = run(['sleep', '30'], { signal: ac.signal });
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(p, (err: unknown) => err instanceof CommandError);
});
