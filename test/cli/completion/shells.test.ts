import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { completionScript, type CompletionShell } from '../../../src/cli/completion/index.js';
import type { CliIo } from '../../../src/cli/io.js';
import { buildProgram, type ProgramName } from '../../../src/cli/program.js';
import { BUILDABLE_TARGET_IDS } from '../../../src/targets/registry.js';
import { run } from '../../helpers/cli.js';

/*
 * vmgen's and vmgctl's completion scripts in the real shells (scripts/test.sh installs zsh and
 * fish): bash through COMP_WORDS/COMP_CWORD and the completion function, fish through
 * `complete -C`, zsh with its completion builtins replaced by functions that print what they are
 * given (filtered by the word's prefix, as zsh's matcher would), so the script's own walk over
 * $words is what is tested. A directory with x.conf and xdir/ is the working directory.
 */

const silentIo: CliIo = { stdout: { write: () => true }, stderr: { write: () => true }, cwd: '/' };

const ZSH_STUBS = [
  '_describe() { local a; for a in ${(P)${@[-1]}}; do a=${a%%:*}; [[ $a == ${words[CURRENT]}* ]] && print -r -- "$a"; done; return 0 }',
  'compadd() { [[ $1 == -- ]] && shift; local a; for a in "$@"; do [[ $a == ${words[CURRENT]}* ]] && print -r -- "$a"; done; return 0 }',
  '_files() { print -r -- "_files${1:+ $1}" }',
  'compdef() { : }',
].join('\n');

describe('completion scripts in bash, zsh and fish', () => {
  let dir = '';
  const scripts = new Map<string, string>();
  const script = (shell: CompletionShell, program: ProgramName): string => {
    const key = `${program}.${shell}`;
    if (!scripts.has(key)) {
      const file = join(dir, key);
      writeFileSync(file, completionScript(shell, buildProgram(program, silentIo)));
      scripts.set(key, file);
    }
    return scripts.get(key)!;
  };
  const cwd = (): string => join(dir, 'work');

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vmgen-completion-'));
    mkdirSync(join(dir, 'work', 'xdir'), { recursive: true });
    writeFileSync(join(dir, 'work', 'x.conf'), '');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const shellRun = (cmd: string, args: string[]): string[] => {
    const r = spawnSync(cmd, args, { cwd: cwd(), encoding: 'utf8' });
    assert.ifError(r.error);
    assert.equal(r.stderr, '', `${cmd} wrote to stderr`);
    assert.equal(r.status, 0, `${cmd} exit status`);
    return r.stdout.split('\n').filter(Boolean);
  };

  /** What each shell offers for the words typed so far; the last word is the one being completed. */
  const complete: Record<CompletionShell, (words: string[]) => string[]> = {
    bash: (words) => shellRun('bash', ['--norc', '--noprofile', '-c',
      'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); "_$1"; printf "%s\\n" "${COMPREPLY[@]}"', '_', script('bash', words[0] as ProgramName), ...words]),
    zsh: (words) => shellRun('zsh', ['-f', '-c', `${ZSH_STUBS}\nsource "$1"; shift; words=("$@"); CURRENT=$#; "_$1"`, '_', script('zsh', words[0] as ProgramName), ...words]),
    fish: (words) => shellRun('fish', ['-N', '-c', 'source $argv[1]; complete -C $argv[2]', script('fish', words[0] as ProgramName), words.join(' ')])
      .map((l) => l.split('\t')[0]!),
  };

  const sorted = (a: readonly string[]): string[] => [...a].sort();

  /** Cases every shell answers the same. */
  const SAME: [string[], string[]][] = [
    [['vmgen', 'la'], ['lab']],
    [['vmgen', 'lab', 'b'], ['build']],
    [['vmgen', 'build', 'x.conf', '--target', 'q'], ['qemu']],
    [['vmgen', 'build', 'x.conf', '-t', ''], [...BUILDABLE_TARGET_IDS]],
    [['vmgen', '--json', 'build', '-f', 'tar.'], ['tar.gz', 'tar.zst']],
    [['vmgen', 'lab', 'build', '--p'], ['--parallel']],
    [['vmgen', 'catalog', 'apps', '--category', ''], ['devel', 'gui', 'services']],
    [['vmgen', 'completion', ''], ['bash', 'fish', 'zsh']],
    [['vmgen', 'build', 'x.conf', ''], []],
    [['vmgctl', 'x.conf', '--un'], ['--unset']],
  ];

  /** Paths: the shells' own file completion, or, in zsh, the call to it. */
  const PATHS: Record<CompletionShell, [string[], string[]][]> = {
    bash: [[['vmgen', 'build', 'x'], ['x.conf', 'xdir']], [['vmgen', 'build', 'x.conf', '-o', 'x'], ['xdir']], [['vmgctl', ''], ['x.conf', 'xdir']]],
    fish: [[['vmgen', 'build', 'x'], ['x.conf', 'xdir/']], [['vmgen', 'build', 'x.conf', '-o', 'x'], ['xdir/']], [['vmgctl', ''], ['x.conf', 'xdir/']]],
    zsh: [[['vmgen', 'build', 'x'], ['_files']], [['vmgen', 'build', 'x.conf', '-o', 'x'], ['_files -/']], [['vmgctl', ''], ['_files']]],
  };

  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    describe(shell, () => {
      for (const [words, want] of [...SAME, ...PATHS[shell]]) {
        it(`${words.join(' ')}<TAB> → ${want.join(' ') || 'nothing'}`, () => {
          assert.deepEqual(sorted(complete[shell](words)), sorted(want));
        });
      }
    });
  }

  it('every script is valid in its shell (bash -n, zsh -n, fish --no-execute)', () => {
    for (const program of ['vmgen', 'vmgctl'] as const) {
      shellRun('bash', ['-n', script('bash', program)]);
      shellRun('zsh', ['-n', script('zsh', program)]);
      shellRun('fish', ['--no-execute', script('fish', program)]);
    }
  });

  it('vmgen completion SHELL [PROGRAM] prints the same script', async () => {
    const r = await run('vmgen', ['completion', 'fish', 'vmgctl']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, completionScript('fish', buildProgram('vmgctl', silentIo)));
    const bad = await run('vmgen', ['completion', 'ksh']);
    assert.equal(bad.code, 2, 'an unknown shell is a usage error');
    assert.match(bad.stderr, /bash, zsh, fish/);
  });
});
