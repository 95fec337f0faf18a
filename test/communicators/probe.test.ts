import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Communicator } from '../../src/communicators/types.js';
import { run } from '../../src/exec/run.js';
import { formatProbeOutput, parseProbeOutput, probe, probeArgv, unwrapProbe } from '../../src/communicators/probe.js';

/** Runs "guest" commands on this host, in a scratch directory: the probe script meets a real sh. */
function hostCommunicator(cwd: string): Communicator {
  const no = (): never => {
    throw new Error('not used');
  };
  return {
    description: 'host',
    exec: (argv, opts = {}) => run(argv as [string, ...string[]], { cwd, ...(opts.input === undefined ? {} : { input: opts.input }) }),
    writeFile: no, symlink: no, readFile: no, remove: no,
  };
}

test('a probe returns stdout, stderr and the status of a failing command', async () => {
  const comm = hostCommunicator(mkdtempSync(join(tmpdir(), 'vmgen-probe-')));
  assert.deepEqual(await probe(comm, ['sh', '-c', 'echo inactive; echo why >&2; exit 3']), { exitCode: 3, stdout: 'inactive\n', stderr: 'why\n' });
  assert.deepEqual(await probe(comm, ['printf', 'no newline']), { exitCode: 0, stdout: 'no newline', stderr: '' });
  assert.deepEqual(await probe(comm, ['printf', 'two\n\n']), { exitCode: 0, stdout: 'two\n\n', stderr: '' });
  assert.equal((await probe(comm, ['vmgen-no-such-program'])).exitCode, 127);
  assert.deepEqual(await probe(comm, ['cat'], 'on stdin\n'), { exitCode: 0, stdout: 'on stdin\n', stderr: '' });
});

test('a probe passes arguments as data, never as shell code', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmgen-probe-'));
  const hostile = ['a;touch pwned', '$(touch pwned2)', '`touch pwned3`', '"; touch pwned4; "', '*'];
  const r = await probe(hostCommunicator(dir), ['printf', '%s\\n', ...hostile]);
  assert.deepEqual(r.stdout.trimEnd().split('\n'), hostile);
  assert.deepEqual(readdirSync(dir), []);
});

test('probe output parses back exactly, and the wrapper is recognised', () => {
  for (const stdout of ['', 'x', 'x\n', '\n\n', 'a\n5\n']) {
    assert.deepEqual(parseProbeOutput(formatProbeOutput(stdout, 4)), { exitCode: 4, stdout });
  }
  assert.throws(() => parseProbeOutput('killed halfway'), /did not report an exit status/);
  assert.deepEqual(unwrapProbe(probeArgv(['id', '-nG'])), ['id', '-nG']);
  assert.equal(unwrapProbe(['id', '-nG']), undefined);
});
