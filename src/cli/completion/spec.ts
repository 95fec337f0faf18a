import type { Argument, Command, Option } from 'commander';

/*
 * What a shell needs to complete a commander program, read from the program's own definition:
 * its commands and subcommands (`vmgen lab build`), their options with the choices commander
 * checks (--target's come from the target registry), and which values are paths. The shells'
 * scripts (bash.ts, zsh.ts, fish.ts) are rendered from this alone, so no command is listed twice.
 */

/** How a value is completed: from a fixed list, as a file or directory path, or not at all. */
export type ValueKind = 'none' | 'file' | 'dir' | 'choice';

export interface CompletionValue {
  kind: ValueKind;
  /** For kind 'choice'. */
  choices: readonly string[];
}

export interface CompletionOption {
  /** Short and long spellings: ['-t', '--target']. */
  names: readonly string[];
  description: string;
  /** The option is followed by a value (`--out <dir>`); commander's optional values (`[x]`) count as none. */
  takesValue: boolean;
  value: CompletionValue;
}

export interface CompletionArgument {
  name: string;
  variadic: boolean;
  value: CompletionValue;
}

export interface CompletionCommand {
  /** The words after the program's name that lead here: [] for the program, ['lab', 'build']. */
  path: readonly string[];
  description: string;
  subcommands: readonly { name: string; description: string }[];
  options: readonly CompletionOption[];
  arguments: readonly CompletionArgument[];
}

export interface CompletionSpec {
  program: string;
  /** Every command, the program first, each before its subcommands. */
  commands: readonly CompletionCommand[];
}

/**
 * Which values are paths, by the placeholder's name (`<dir>`, `<file>`, `<labfile>`, `<archive>`,
 * `<path>`): the convention every vmgen command follows, so a new command completes paths without
 * being named here. Checked in order: `<dir|s3://bucket/prefix>` is a directory.
 */
const PATH_PLACEHOLDERS: readonly [RegExp, ValueKind][] = [
  [/dir/i, 'dir'],
  [/file|path|archive/i, 'file'],
];

function kindOf(placeholder: string, choices: readonly string[] | undefined): CompletionValue {
  if (choices && choices.length > 0) return { kind: 'choice', choices: [...choices] };
  const kind = PATH_PLACEHOLDERS.find(([re]) => re.test(placeholder))?.[1] ?? 'none';
  return { kind, choices: [] };
}

function optionSpec(opt: Option): CompletionOption {
  const placeholder = /<([^>]+)>/.exec(opt.flags)?.[1] ?? '';
  const takesValue = opt.required;
  return {
    names: [opt.short, opt.long].filter((n): n is string => Boolean(n)),
    description: opt.description,
    takesValue,
    value: takesValue ? kindOf(placeholder, opt.argChoices) : { kind: 'none', choices: [] },
  };
}

function argumentSpec(arg: Argument): CompletionArgument {
  return { name: arg.name(), variadic: arg.variadic, value: kindOf(arg.name(), arg.argChoices) };
}

function walk(cmd: Command, path: readonly string[], out: CompletionCommand[]): void {
  const help = cmd.createHelp();
  const subs = help.visibleCommands(cmd);
  out.push({
    path,
    description: cmd.description(),
    subcommands: subs.map((s) => ({ name: s.name(), description: s.description() })),
    options: help.visibleOptions(cmd).map(optionSpec),
    arguments: cmd.registeredArguments.map(argumentSpec),
  });
  for (const sub of cmd.commands) walk(sub, [...path, sub.name()], out);
  // The help command commander adds is not among cmd.commands: its one argument names a sibling.
  for (const implicit of subs.filter((s) => !cmd.commands.includes(s))) {
    const siblings = cmd.commands.map((c) => c.name());
    out.push({
      path: [...path, implicit.name()], description: implicit.description(), subcommands: [], options: [],
      arguments: [{ name: 'command', variadic: false, value: { kind: 'choice', choices: siblings } }],
    });
  }
}

export function completionSpec(program: Command): CompletionSpec {
  const commands: CompletionCommand[] = [];
  walk(program, [], commands);
  return { program: program.name(), commands };
}

/** The program's name as a shell function name may spell it. */
export function functionName(program: string): string {
  return `_${program.replace(/[^A-Za-z0-9_]/g, '_')}`;
}
