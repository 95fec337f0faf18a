import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Argument, Command, Option } from 'commander';
import { COMPLETION_SHELLS, completionScript, completionSpec } from '../../../src/cli/completion/index.js';
import { assertGolden } from '../../helpers/golden.js';

/** A small program with what the generator reads: nested commands, choices, path and plain values, variadic arguments. */
function demoProgram(): Command {
  const demo = new Command('demo').description('a demo').version('1.0');
  demo.command('build').description('build it')
    .argument('<file>', 'config file')
    .addOption(new Option('-t, --target <target>', 'what to build').choices(['lxc', 'qemu']))
    .option('-o, --out <dir>', 'where it goes')
    .option('--name <name>', 'a name')
    .option('--json', 'as JSON');
  const group = demo.command('group').description('a group: it says "it\'s" twice, it\'s');
  group.command('add').description('add: names')
    .argument('<archive>', 'an archive')
    .argument('[keys...]', 'keys')
    .option('--catalog <path>', 'a catalog (repeatable)');
  group.command('mode').addArgument(new Argument('<mode>', 'a mode').choices(['fast', 'slow']));
  return demo;
}

describe('completion spec', () => {
  const spec = completionSpec(demoProgram());
  const at = (path: string): NonNullable<ReturnType<typeof spec.commands.find>> => {
    const cmd = spec.commands.find((c) => c.path.join(' ') === path);
    assert.ok(cmd, `the spec has the command "${path}"`);
    return cmd;
  };

  it('walks every command, each before its subcommands, with commander\'s own help command listed', () => {
    assert.deepEqual(spec.commands.map((c) => c.path.join(' ')), ['', 'build', 'group', 'group add', 'group mode', 'group help', 'help']);
    assert.deepEqual(at('').subcommands.map((s) => s.name), ['build', 'group', 'help']);
    assert.deepEqual(at('group').subcommands.map((s) => s.name), ['add', 'mode', 'help']);
    assert.deepEqual(at('group help').arguments.map((a) => a.value), [{ kind: 'choice', choices: ['add', 'mode'] }]);
  });

  it('reads choices, and path kinds from the placeholders\' names', () => {
    const build = at('build');
    const opt = (name: string) => build.options.find((o) => o.names.includes(name));
    assert.deepEqual(opt('--target')?.value, { kind: 'choice', choices: ['lxc', 'qemu'] });
    assert.equal(opt('--out')?.value.kind, 'dir');
    assert.equal(opt('--name')?.value.kind, 'none');
    assert.equal(opt('--name')?.takesValue, true);
    assert.equal(opt('--json')?.takesValue, false);
    assert.deepEqual(opt('-h')?.names, ['-h', '--help']);
    assert.deepEqual(build.arguments.map((a) => [a.name, a.value.kind, a.variadic]), [['file', 'file', false]]);
    assert.deepEqual(at('group add').arguments.map((a) => [a.name, a.value.kind, a.variadic]), [['archive', 'file', false], ['keys', 'none', true]]);
    assert.equal(at('group add').options.find((o) => o.names.includes('--catalog'))?.value.kind, 'file');
    assert.deepEqual(at('group mode').arguments[0]?.value, { kind: 'choice', choices: ['fast', 'slow'] });
    assert.deepEqual(at('').options.map((o) => o.names), [['-V', '--version'], ['-h', '--help']]);
  });

  for (const shell of COMPLETION_SHELLS) {
    it(`renders the ${shell} script (golden)`, () => {
      assertGolden(`completion/demo.${shell}`, completionScript(shell, demoProgram()));
    });
  }
});
