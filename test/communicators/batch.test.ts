import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { batchArgv, batchFailure } from '../../src/communicators/batch.js';
import { CommandError, run } from '../../src/exec/run.js';
import { applyPlan, commandGroups } from '../../src/families/apply.js';
import type { Communicator } from '../../src/communicators/types.js';
import type { GuestCommand } from '../../src/families/types.js';

// The batch script runs under the host's own /bin/sh (dash on Debian), as it does in a Debian guest.
describe('a batch of guest commands in one shell', () => {
  it('runs each command with exactly its words, however hostile, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmgen-batch-'));
    try {
      const marker = join(dir, 'pwned');
      const hostile = ['$(touch ' + marker + ')', '`touch ' + marker + '`', '"; touch ' + marker + '; "', "it's", 'a b', 'line\nbreak', '*', '', '${1}', '-n'];
      const argvs = [
        ['printf', '[%s]\\n', ...hostile],
        ['printf', 'second %s\\n', 'x'],
        // Ten words and more: ${10} is not $1 followed by 0.
        ['printf', '%s,', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11'],
      ];
      const r = await run(batchArgv(argvs));
      assert.equal(r.stdout, `${hostile.map((w) => `[${w}]`).join('\n')}\nsecond x\n1,2,3,4,5,6,7,8,9,10,11,`);
      assert.equal(existsSync(marker), false, 'no value was run as shell code');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops at the first command that fails and says which, after that command\'s own stderr', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmgen-batch-'));
    try {
      const after = join(dir, 'after');
      const err = await run(batchArgv([['true'], ['sh', '-c', 'echo broken >&2; exit 3'], ['touch', after]])).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof CommandError, 'the batch fails');
      assert.equal(err.exitCode, 3, 'with the failed command\'s status');
      assert.deepEqual(batchFailure(err.stderr), { index: 1, stderr: 'broken\n' });
      assert.equal(existsSync(after), false, 'the commands after it did not run');
      assert.equal(batchFailure('no such line\n'), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('applyPlan batches commands', () => {
  const cmd = (why: string, input?: string): GuestCommand => ({ argv: ['echo', why], why, ...(input === undefined ? {} : { input, secret: true }) });

  it('groups consecutive commands without stdin; a command with stdin (a password) runs alone', () => {
    const groups = commandGroups([cmd('a'), cmd('b'), cmd('pw', 'root:x\n'), cmd('c'), cmd('pw2', 'u:y\n'), cmd('pw3', 'v:z\n'), cmd('d')], true);
    assert.deepEqual(groups.map((g) => g.map((c) => c.why)), [['a', 'b'], ['pw'], ['c'], ['pw2'], ['pw3'], ['d']]);
    assert.deepEqual(commandGroups([cmd('a'), cmd('b')], false).map((g) => g.length), [1, 1], 'one by one where the communicator cannot batch');
  });

  it('names the command of a batch that failed, with its own stderr', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmgen-batch-'));
    const log = join(dir, 'calls');
    // A host "guest": the batch runs under the host's sh, which is all this test needs of a guest.
    const host: Communicator = {
      description: 'host sh',
      exec: (argv, opts) => run(argv as [string, ...string[]], opts?.input === undefined ? {} : { input: opts.input }),
      execAll: (argvs) => run(['sh', '-c', 'echo batch >> "$1"; shift; exec "$@"', 'x', log, ...batchArgv(argvs)]),
      writeFile: async () => {}, symlink: async () => {}, readFile: async () => Buffer.alloc(0), remove: async () => {},
    };
    try {
      const plan = { files: [], links: [], commands: [
        { argv: ['true'], why: 'first' },
        { argv: ['sh', '-c', 'echo "useradd: group x does not exist" >&2; exit 6'], why: 'create user x' },
        { argv: ['true'], why: 'never' },
      ] };
      await assert.rejects(applyPlan(host, plan), /in the guest, create user x failed: sh -c .*: useradd: group x does not exist$/);
      assert.equal(readFileSync(log, 'utf8'), 'batch\n', 'the three commands went to the guest as one batch');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
