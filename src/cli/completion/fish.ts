import { functionName, type CompletionSpec, type CompletionValue } from './spec.js';
import { pathKey } from './tables.js';

/*
 * The fish script: fish's own `complete` lines, one per subcommand, option and positional
 * argument, each under a condition naming its command path ("vmgen lab build"), which a helper
 * finds by walking the words typed so far; two generated `switch`es tell it which words are
 * subcommands and which options eat the next word.
 */

/** A word in fish's single quotes: only \ and ' are escaped. */
export function fishQuote(s: string): string {
  return `'${s.replace(/[\\']/g, '\\$&')}'`;
}

const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim();

function valueFlags(value: CompletionValue): string[] {
  switch (value.kind) {
    case 'choice': return ['-x', '-a', fishQuote(value.choices.join(' '))];
    case 'file': return ['-r', '-F'];
    case 'dir': return ['-x', '-a', fishQuote('(__fish_complete_directories (commandline -ct))')];
    case 'none': return ['-x'];
  }
}

function switchFunction(name: string, what: string, cases: readonly string[]): string {
  const body = cases.length ? `    switch "$argv[1]|$argv[2]"\n        case ${cases.map(fishQuote).join(' ')}\n            return 0\n    end\n` : '';
  return `# ${what}\nfunction ${name}\n${body}    return 1\nend`;
}

export function fishCompletion(spec: CompletionSpec): string {
  const fn = functionName(spec.program);
  const prog = spec.program;
  const at = (key: string, n?: string): string => fishQuote(`${fn}_at ${fishQuote(key)}${n === undefined ? '' : ` ${n}`}`);
  const lines: string[] = [`complete -c ${prog} -f`];
  const subCases: string[] = [];
  const valuedCases: string[] = [];
  for (const cmd of spec.commands) {
    const key = pathKey(prog, cmd);
    for (const sub of cmd.subcommands) {
      subCases.push(`${key}|${sub.name}`);
      lines.push(`complete -c ${prog} -n ${at(key, '0')} -a ${fishQuote(sub.name)} -d ${fishQuote(oneLine(sub.description))}`);
    }
    for (const opt of cmd.options) {
      const names = opt.names.flatMap((n) => n.startsWith('--') ? ['-l', n.slice(2)] : ['-s', n.slice(1)]);
      if (opt.takesValue) valuedCases.push(...opt.names.map((n) => `${key}|${n}`));
      const value = opt.takesValue ? valueFlags(opt.value) : [];
      lines.push(['complete', '-c', prog, '-n', at(key), ...names, ...value, '-d', fishQuote(oneLine(opt.description))].join(' '));
    }
    cmd.arguments.forEach((arg, i) => {
      const n = arg.variadic ? `${i}+` : String(i);
      const value = arg.value.kind === 'file' ? ['-F'] : arg.value.kind === 'none' ? [] : valueFlags(arg.value).slice(1);
      if (value.length) lines.push(['complete', '-c', prog, '-n', at(key, n), ...value].join(' '));
    });
  }
  return `# fish completion for ${prog}, generated from its command definitions: ${prog === 'vmgen' ? 'vmgen completion fish' : `vmgen completion fish ${prog}`}
# Install: put this in /etc/fish/completions/${prog}.fish (or ~/.config/fish/completions/).

${switchFunction(`${fn}_is_sub`, 'Is word $argv[2] a subcommand of the command path $argv[1]?', subCases)}

${switchFunction(`${fn}_valued`, 'Does option $argv[2] of the command path $argv[1] take the next word as its value?', valuedCases)}

# The command path, the number of positional arguments and whether an option waits for its
# value, from the words before the cursor.
function ${fn}_state
    set -l cmdpath ${fishQuote(prog)}
    set -l npos 0
    set -l pending 0
    set -l dashdash 0
    for w in (commandline -opc)[2..-1]
        if test $pending = 1
            set pending 0
            continue
        end
        if test $dashdash = 0; and test "$w" = --
            set dashdash 1
            continue
        end
        if test $dashdash = 0; and string match -q -- '-*' $w
            if not string match -q -- '*=*' $w; and ${fn}_valued "$cmdpath" $w
                set pending 1
            end
            continue
        end
        if test $npos = 0; and ${fn}_is_sub "$cmdpath" $w
            set cmdpath "$cmdpath $w"
        else
            set npos (math $npos + 1)
        end
    end
    printf '%s\\n' $cmdpath $npos $pending
end

# At command path $argv[1]; with $argv[2], also where positional argument N (N+: N or later) is
# typed, not an option's value.
function ${fn}_at
    set -l s (${fn}_state)
    test "$s[1]" = "$argv[1]"; or return 1
    set -q argv[2]; or return 0
    test $s[3] = 0; or return 1
    if string match -q -- '*+' $argv[2]
        test $s[2] -ge (string trim -r -c + -- $argv[2])
    else
        test $s[2] = $argv[2]
    end
end

${lines.join('\n')}
`;
}
