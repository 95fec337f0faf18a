import { functionName, type CompletionSpec } from './spec.js';
import { pathKey, shellQuote, tables } from './tables.js';

/*
 * The zsh script: the same tables as bash's (tables.ts), plus "name:description" lines for
 * _describe, and one function walking $words through them. It works both as an autoloaded
 * completion file in $fpath (#compdef) and sourced after compinit.
 */

function assoc(name: string, entries: readonly [string, string][]): string {
  const body = entries.map(([k, v]) => `  ${shellQuote(k)} ${shellQuote(v)}`).join('\n');
  return `typeset -gA ${name}\n${name}=(${entries.length ? `\n${body}\n` : ''})`;
}

/** One "name:description" line, with the colons of the name escaped as _describe wants. */
const described = (name: string, description: string): string => `${name.replaceAll(':', '\\:')}:${description.replace(/\s+/g, ' ')}`;

export function zshCompletion(spec: CompletionSpec): string {
  const fn = functionName(spec.program);
  const t = tables(spec);
  const subdesc = spec.commands.filter((c) => c.subcommands.length)
    .map((c): [string, string] => [pathKey(spec.program, c), c.subcommands.map((s) => described(s.name, s.description)).join('\n')]);
  const optdesc = spec.commands.map((c): [string, string] => [pathKey(spec.program, c),
    c.options.flatMap((o) => o.names.map((n) => described(n, o.description))).join('\n')]);
  const prog = shellQuote(spec.program);
  return `#compdef ${spec.program}
# zsh completion for ${spec.program}, generated from its command definitions: ${spec.program === 'vmgen' ? 'vmgen completion zsh' : `vmgen completion zsh ${spec.program}`}
# Install: put this as _${spec.program} in a directory of $fpath (or source it after compinit).

${assoc(`${fn}_subs`, t.subs)}
${assoc(`${fn}_subdesc`, subdesc)}
${assoc(`${fn}_optdesc`, optdesc)}
${assoc(`${fn}_valued`, t.valued)}
${assoc(`${fn}_kind`, t.kind)}
${assoc(`${fn}_choices`, t.choices)}
${assoc(`${fn}_args`, t.args)}

${fn}() {
  local cur=\${words[CURRENT]} cmdpath=${prog} pending='' dashdash='' w kind='' key
  integer i npos=0
  # The words before the cursor: subcommands lengthen the path, an option taking a value eats the
  # next word, anything else is a positional argument.
  for (( i = 2; i < CURRENT; i++ )); do
    w=\${words[i]}
    if [[ -n $pending ]]; then pending=''; continue; fi
    if [[ -z $dashdash && $w == -- ]]; then dashdash=1; continue; fi
    if [[ -z $dashdash && $w == -* ]]; then
      [[ $w != *=* && " \${${fn}_valued[$cmdpath]} " == *" $w "* ]] && pending=$w
      continue
    fi
    if (( npos == 0 )) && [[ " \${${fn}_subs[$cmdpath]} " == *" $w "* ]]; then cmdpath+=" $w"; else (( npos++ )); fi
  done
  if [[ -n $pending ]]; then
    key="$cmdpath|$pending"
    kind=\${${fn}_kind[$key]}
  elif [[ -z $dashdash && $cur == -* ]]; then
    local -a opts
    opts=( \${(f)${fn}_optdesc[$cmdpath]} )
    _describe -t options option opts
    return
  else
    if (( npos == 0 )) && [[ -n \${${fn}_subs[$cmdpath]} ]]; then
      local -a subs
      subs=( \${(f)${fn}_subdesc[$cmdpath]} )
      _describe -t commands command subs
    fi
    local -a kinds
    kinds=( \${=${fn}_args[$cmdpath]} )
    if (( npos < \${#kinds} )); then
      kind=\${kinds[npos + 1]} key="$cmdpath|#$npos"
    elif (( \${#kinds} > 0 )) && [[ \${kinds[-1]} == *'*' ]]; then
      kind=\${kinds[-1]} key="$cmdpath|#$(( \${#kinds} - 1 ))"
    fi
    kind=\${kind%'*'}
  fi
  case $kind in
    choice) compadd -- \${=${fn}_choices[$key]} ;;
    file) _files ;;
    dir) _files -/ ;;
  esac
}

if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  ${fn} "$@"
else
  compdef ${fn} ${spec.program}
fi
`;
}
