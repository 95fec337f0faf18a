import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { completionScript, type CompletionShell } from '../../../src/cli/completion/index.js';
import type { CliIo } from '../../../src/cli/io.js';
import { buildProgram, type ProgramName } from '../../../src/cli/program.js';
import { BUILDABLE_TARGET_IDS } from '../../../src/targets/commanders.js';
import { run } from '../../helpers/cli.js';

/*
 * vmgen's and vmgctl's completion scripts in the real shells (scripts/test.sh installs zsh and
 * fish): bash through COMP_WORDS/COMP_CWORD and the completion function, fish through
 * `complete -C`, zsh twice: with its completion builtins replaced by functions that print what they
 * are given (filtered by the word's prefix, as zsh's matcher would), so the script's own walk over
 * $words is tested case by case, and for real, autoloaded by compinit in an interactive zsh under
 * zpty (zsh-pty.zsh), reading the list zsh shows. A directory with x.conf and xdir/ is the working
 * directory.
 */

const silentIo: CliIo = { stdout: { write: () => true }, stderr: { write: () => true }, cwd: '/' };

/** Both programs' definitions, loaded once (buildProgram loads the commands' modules). */
const PROGRAMS = { vmgen: await buildProgram('vmgen', silentIo), vmgctl: await buildProgram('vmgctl', silentIo) };

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
      writeFileSync(file, completionScript(shell, PROGRAMS[program]));
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
    [['vmgen', 'help', 'la'], ['lab']],
    [['vmgen', 'lab', 'help', 'u'], ['up']],
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
    assert.equal(r.stdout, completionScript('fish', PROGRAMS.vmgctl));
    const bad = await run('vmgen', ['completion', 'ksh']);
    assert.equal(bad.code, 2, 'an unknown shell is a usage error');
    assert.match(bad.stderr, /bash, zsh, fish/);
  });
});

/**
 * The matches zsh lists after LINE<TAB>: the text between the echo of the line and the cursor's
 * move back up to redraw it, before the next command is typed; "name -- description" rows give
 * their name, rows without descriptions are columns of names.
 */
function zshListing(raw: string): string[] {
  const upToNext = raw.slice(0, raw.indexOf('print done'));
  const start = upToNext.indexOf('\n\x1b[J');
  if (start < 0) return [];
  const rest = upToNext.slice(start + 4);
  const listing = rest.slice(0, rest.includes('\x1b[A') ? rest.indexOf('\x1b[A') : undefined);
  return listing.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replaceAll('\r', '').split('\n')
    .flatMap((row) => row.includes(' -- ') ? [row.trim().split(/\s+/)[0]!] : row.trim().split(/\s+/).filter(Boolean));
}

describe('zsh completion through compinit, in a terminal (zpty)', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vmgen-zpty-'));
    mkdirSync(join(dir, 'fpath'));
    mkdirSync(join(dir, 'work', 'xdir'), { recursive: true });
    writeFileSync(join(dir, 'work', 'x.conf'), '');
    for (const program of ['vmgen', 'vmgctl'] as const) {
      writeFileSync(join(dir, 'fpath', `_${program}`), completionScript('zsh', PROGRAMS[program]));
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists what the walk finds, from the autoloaded _vmgen and _vmgctl', () => {
    const cases: [string, string[]][] = [
      ['vmgen la', ['lab']],
      ['vmgen lab b', ['build']],
      ['vmgen build x.conf --target q', ['qemu']],
      ['vmgen build x.conf -t ', [...BUILDABLE_TARGET_IDS]],
      ['vmgen lab build --p', ['--parallel']],
      ['vmgen build x', ['x.conf', 'xdir/']],
      ['vmgen build x.conf -o x', ['xdir/']],
      ['vmgctl x.conf --un', ['--unset']],
    ];
    const driver = fileURLToPath(new URL('./zsh-pty.zsh', import.meta.url));
    // zpty -r waits for its pattern without end: the timeout turns a zsh that never answers into a failure, not a hang.
    const r = spawnSync('zsh', ['-f', driver, join(dir, 'fpath'), ...cases.map(([line]) => line)], { cwd: join(dir, 'work'), encoding: 'utf8', timeout: 120_000 });
    assert.ifError(r.error);
    assert.equal(r.status, 0, r.stderr);
    const answers = r.stdout.split('\0').slice(0, -1);
    assert.equal(answers.length, cases.length, 'one answer per line typed');
    cases.forEach(([line, want], i) => {
      assert.deepEqual(zshListing(answers[i]!).sort(), [...want].sort(), `zsh lists for "${line}<TAB>"`);
    });
  });
});
