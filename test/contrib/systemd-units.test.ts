import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program.js';
import type { CliIo } from '../../src/cli/io.js';

/*
 * The units in contrib/systemd: systemd itself reads each one (with ExecStart pointed at this
 * checkout's bin/vmgen.js, so the path it checks exists), and every option a unit or the example
 * environment file passes to vmgen is one that vmgen's command definition has.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIR = join(ROOT, 'contrib', 'systemd');
const UNITS = readdirSync(DIR).filter((f) => f.endsWith('.service')).sort();
const ENV_FILE = readFileSync(join(DIR, 'vmgen.default'), 'utf8');
const INSTALLED_BIN = '/usr/local/bin/vmgen';

const silentIo: CliIo = { stdout: { write: () => true }, stderr: { write: () => true }, cwd: ROOT };

/** Both programs' definitions, loaded once (buildProgram loads the commands' modules). */
const PROGRAMS = { vmgen: await buildProgram('vmgen', silentIo), vmgctl: await buildProgram('vmgctl', silentIo) };

function serviceKeys(text: string, key: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));
}

/** Environment= defaults of a unit: VAR=value words (the units quote nothing). */
function unitDefaults(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of serviceKeys(text, 'Environment')) {
    for (const word of line.split(/\s+/).filter(Boolean)) {
      const eq = word.indexOf('=');
      vars.set(word.slice(0, eq), word.slice(eq + 1));
    }
  }
  return vars;
}

/** Every value the example file shows for a variable, the commented-out examples too. */
function exampleValues(name: string): string[] {
  return ENV_FILE.split('\n').flatMap((l) => {
    const m = /^#?([A-Z_][A-Z0-9_]*)=(.*)$/.exec(l);
    return m && m[1] === name ? [m[2]!] : [];
  });
}

/** systemd's expansion: ${VAR} is one word, $VAR is split at white space. */
function expand(words: string[], env: Map<string, string>): string[] {
  return words.flatMap((w) => {
    const one = /^\$\{(\w+)\}$/.exec(w);
    if (one) return [env.get(one[1]!) ?? ''];
    const split = /^\$(\w+)$/.exec(w);
    if (split) return (env.get(split[1]!) ?? '').split(/\s+/).filter(Boolean);
    return [w];
  });
}

/** The argument lists a unit can run: its defaults, then each example value of each variable it names. */
function commandLines(text: string): string[][] {
  const [exec] = serviceKeys(text, 'ExecStart');
  assert.ok(exec, 'the unit has an ExecStart');
  const words = exec.split(/\s+/).filter(Boolean);
  const defaults = unitDefaults(text);
  const named = words.flatMap((w) => /^\$\{?(\w+)\}?$/.exec(w)?.[1] ?? []);
  const lines = [expand(words, defaults)];
  for (const name of named) {
    for (const value of exampleValues(name)) lines.push(expand(words, new Map([...defaults, [name, value]])));
  }
  return lines;
}

function assertOptionsExist(program: Command, argv: string[], where: string): void {
  const [bin, sub, ...args] = argv;
  assert.equal(bin, INSTALLED_BIN, `${where}: ExecStart runs ${INSTALLED_BIN}`);
  const cmd = program.commands.find((c) => c.name() === sub);
  assert.ok(cmd, `${where}: vmgen has a command "${sub}"`);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    assert.ok(arg.startsWith('--'), `${where}: "${arg}" is an option (vmgen ${sub} takes no operands): ${args.join(' ')}`);
    const opt = cmd.options.find((o) => o.long === arg);
    assert.ok(opt, `${where}: vmgen ${sub} has no option ${arg}; it has ${cmd.options.map((o) => o.long).join(' ')}`);
    if (opt.required) {
      const value = args[++i];
      assert.ok(value !== undefined && value !== '' && !value.startsWith('--'), `${where}: ${arg} needs a value: ${args.join(' ')}`);
    }
  }
}

describe('contrib/systemd units', () => {
  const work = mkdtempSync(join(tmpdir(), 'vmgen-units-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  it('ships the three units', () => {
    assert.deepEqual(UNITS, ['vmgen-serve-queue.service', 'vmgen-serve.service', 'vmgen-worker.service']);
  });

  for (const unit of UNITS) {
    it(`${unit}: systemd-analyze verify reads it without a complaint`, () => {
      const text = readFileSync(join(DIR, unit), 'utf8');
      assert.ok(text.includes(`ExecStart=${INSTALLED_BIN} `), `${unit} runs ${INSTALLED_BIN}`);
      // Verify checks that ExecStart's program exists: this checkout's stands in for the installed one.
      const copy = join(work, unit);
      writeFileSync(copy, text.replaceAll(INSTALLED_BIN, join(ROOT, 'bin', 'vmgen.js')));
      const r = spawnSync('systemd-analyze', ['verify', '--man=no', copy], { encoding: 'utf8' });
      assert.ifError(r.error);
      // Unknown keys and bad values are only warnings to systemd (exit 0): any output is a failure.
      assert.equal(`${r.stdout}${r.stderr}`, '', `systemd-analyze verify ${unit} printed something`);
      assert.equal(r.status, 0, `systemd-analyze verify ${unit} exit status`);
    });

    it(`${unit}: every option it passes, with each example value of its variables, is one of vmgen's`, () => {
      const program = PROGRAMS.vmgen;
      const lines = commandLines(readFileSync(join(DIR, unit), 'utf8'));
      assert.ok(lines.length >= 2, `${unit}: the example file shows values for the unit's variables (${lines.length} command lines)`);
      for (const argv of lines) assertOptionsExist(program, argv, unit);
    });
  }

  it('the checker refuses an option vmgen does not have', () => {
    const program = PROGRAMS.vmgen;
    assert.throws(() => assertOptionsExist(program, [INSTALLED_BIN, 'serve', '--no-such-option'], 'probe'), /no option --no-such-option/);
    assert.throws(() => assertOptionsExist(program, [INSTALLED_BIN, 'worker', '--queue'], 'probe'), /needs a value/);
  });

  it('the two build units share one hardening block', () => {
    const block = (unit: string): string => {
      const text = readFileSync(join(DIR, unit), 'utf8');
      return text.slice(text.indexOf('\nStateDirectory='), text.indexOf('[Install]'));
    };
    assert.ok(block('vmgen-serve.service').includes('ProtectSystem=strict'), 'the block is found');
    assert.equal(block('vmgen-worker.service'), block('vmgen-serve.service'));
  });

  it('every VMGEN_ variable the units and the example file set, but their own *_OPTS and VMGEN_QUEUE, is one vmgen reads', () => {
    const names = new Set([...ENV_FILE.matchAll(/^#?(VMGEN_\w+)=/gm)].map((m) => m[1]!));
    for (const unit of UNITS) for (const name of unitDefaults(readFileSync(join(DIR, unit), 'utf8')).keys()) names.add(name);
    const read = (dir: string): string => readdirSync(dir, { withFileTypes: true, recursive: true })
      .filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => readFileSync(join(e.parentPath, e.name), 'utf8')).join('\n');
    const source = read(join(ROOT, 'src'));
    const checked = [...names].filter((n) => !n.endsWith('_OPTS') && n !== 'VMGEN_QUEUE');
    assert.ok(checked.length >= 3, `variables to check: ${checked.join(' ')}`);
    for (const name of checked) assert.ok(source.includes(name), `${name} is read somewhere in src/`);
  });
});
