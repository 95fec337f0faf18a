import type { CompletionCommand, CompletionSpec, CompletionValue } from './spec.js';

/*
 * The program's definition as flat tables the bash and zsh scripts hold in associative arrays.
 * Keys are the command path with the program's name first ("vmgen lab build"; bash refuses an
 * empty key), "PATH|OPTION" for an option's value, "PATH|#N" for the Nth positional argument's.
 * Positional kinds are a list of words: file, dir, choice or - (none), the last with * if it repeats.
 */

/** A word in single quotes, for bash and zsh alike. */
export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

export const pathKey = (program: string, cmd: CompletionCommand): string => [program, ...cmd.path].join(' ');

/** A positional kind word: none is spelled '-'. */
function kindWord(value: CompletionValue): string {
  return value.kind === 'none' ? '-' : value.kind;
}

/** Entries the shells share: subcommands, options, valued options, value kinds and choices, positional kinds. */
export type Tables = Record<'subs' | 'opts' | 'valued' | 'kind' | 'choices' | 'args', [string, string][]>;

export function tables(spec: CompletionSpec): Tables {
  const t: Tables = { subs: [], opts: [], valued: [], kind: [], choices: [], args: [] };
  for (const cmd of spec.commands) {
    const key = pathKey(spec.program, cmd);
    if (cmd.subcommands.length) t.subs.push([key, cmd.subcommands.map((s) => s.name).join(' ')]);
    t.opts.push([key, cmd.options.flatMap((o) => o.names).join(' ')]);
    const valued = cmd.options.filter((o) => o.takesValue);
    if (valued.length) t.valued.push([key, valued.flatMap((o) => o.names).join(' ')]);
    for (const o of valued) {
      for (const n of o.names) {
        if (o.value.kind !== 'none') t.kind.push([`${key}|${n}`, o.value.kind]);
        if (o.value.kind === 'choice') t.choices.push([`${key}|${n}`, o.value.choices.join(' ')]);
      }
    }
    if (cmd.arguments.length) {
      t.args.push([key, cmd.arguments.map((a) => `${kindWord(a.value)}${a.variadic ? '*' : ''}`).join(' ')]);
      cmd.arguments.forEach((a, i) => {
        if (a.value.kind === 'choice') t.choices.push([`${key}|#${i}`, a.value.choices.join(' ')]);
      });
    }
  }
  return t;
}

