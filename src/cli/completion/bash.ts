import { functionName, type CompletionSpec } from './spec.js';
import { shellQuote, tables } from './tables.js';

/*
 * The bash script: the program's tables (tables.ts) as associative arrays, and one function that
 * walks the words typed so far through them.
 */

function assoc(name: string, entries: readonly [string, string][]): string {
  const body = entries.map(([k, v]) => `  [${shellQuote(k)}]=${shellQuote(v)}`).join('\n');
  return entries.length ? `declare -gA ${name}=(\n${body}\n)` : `declare -gA ${name}=()`;
}

export function bashCompletion(spec: CompletionSpec): string {
  const fn = functionName(spec.program);
  const t = tables(spec);
  const prog = shellQuote(spec.program);
  return `# bash completion for ${spec.program}, generated from its command definitions: ${spec.program === 'vmgen' ? 'vmgen completion bash' : `vmgen completion bash ${spec.program}`}
# Install: put this in /etc/bash_completion.d/${spec.program} (or source it from ~/.bashrc).

${assoc(`${fn}_subs`, t.subs)}
${assoc(`${fn}_opts`, t.opts)}
${assoc(`${fn}_valued`, t.valued)}
${assoc(`${fn}_kind`, t.kind)}
${assoc(`${fn}_choices`, t.choices)}
${assoc(`${fn}_args`, t.args)}

${fn}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmdpath=${prog} pending='' npos=0 dashdash='' i w kind='' key
  # The words before the cursor: subcommands lengthen the path, an option taking a value eats the
  # next word, anything else is a positional argument.
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    if [[ -n $pending ]]; then pending=''; continue; fi
    if [[ -z $dashdash && $w == -- ]]; then dashdash=1; continue; fi
    if [[ -z $dashdash && $w == -* ]]; then
      [[ $w != *=* && " \${${fn}_valued[$cmdpath]} " == *" $w "* ]] && pending=$w
      continue
    fi
    if [[ $npos -eq 0 && " \${${fn}_subs[$cmdpath]} " == *" $w "* ]]; then cmdpath+=" $w"; else npos=$((npos + 1)); fi
  done
  COMPREPLY=()
  if [[ -n $pending ]]; then
    key="$cmdpath|$pending"
    kind=\${${fn}_kind[$key]}
  elif [[ -z $dashdash && $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "\${${fn}_opts[$cmdpath]}" -- "$cur")
    return 0
  else
    if [[ $npos -eq 0 && -n \${${fn}_subs[$cmdpath]} ]]; then
      mapfile -t COMPREPLY < <(compgen -W "\${${fn}_subs[$cmdpath]}" -- "$cur")
    fi
    local -a kinds=(\${${fn}_args[$cmdpath]})
    if ((npos < \${#kinds[@]})); then
      kind=\${kinds[npos]} key="$cmdpath|#$npos"
    elif ((\${#kinds[@]} > 0)) && [[ \${kinds[-1]} == *'*' ]]; then
      kind=\${kinds[-1]} key="$cmdpath|#$((\${#kinds[@]} - 1))"
    fi
    kind=\${kind%'*'}
  fi
  local -a more=()
  case $kind in
    choice) mapfile -t more < <(compgen -W "\${${fn}_choices[$key]}" -- "$cur") ;;
    file) mapfile -t more < <(compgen -f -- "$cur"); compopt -o filenames 2>/dev/null ;;
    dir) mapfile -t more < <(compgen -d -- "$cur"); compopt -o filenames 2>/dev/null ;;
  esac
  COMPREPLY+=("\${more[@]}")
  return 0
}
complete -F ${fn} ${spec.program}
`;
}
