#compdef demo
# zsh completion for demo, generated from its command definitions: vmgen completion zsh demo
# Install: put this as _demo in a directory of $fpath (or source it after compinit).

typeset -gA _demo_subs
_demo_subs=(
  'demo' 'build group help'
  'demo group' 'add mode help'
)
typeset -gA _demo_subdesc
_demo_subdesc=(
  'demo' 'build:build it
group:a group: it says "it'\''s" twice, it'\''s
help:display help for command'
  'demo group' 'add:add: names
mode:
help:display help for command'
)
typeset -gA _demo_optdesc
_demo_optdesc=(
  'demo' '-V:output the version number
--version:output the version number
-h:display help for command
--help:display help for command'
  'demo build' '-t:what to build
--target:what to build
-o:where it goes
--out:where it goes
--name:a name
--json:as JSON
-h:display help for command
--help:display help for command'
  'demo group' '-h:display help for command
--help:display help for command'
  'demo group add' '--catalog:a catalog (repeatable)
-h:display help for command
--help:display help for command'
  'demo group mode' '-h:display help for command
--help:display help for command'
  'demo group help' ''
  'demo help' ''
)
typeset -gA _demo_valued
_demo_valued=(
  'demo build' '-t --target -o --out --name'
  'demo group add' '--catalog'
)
typeset -gA _demo_kind
_demo_kind=(
  'demo build|-t' 'choice'
  'demo build|--target' 'choice'
  'demo build|-o' 'dir'
  'demo build|--out' 'dir'
  'demo group add|--catalog' 'file'
)
typeset -gA _demo_choices
_demo_choices=(
  'demo build|-t' 'lxc qemu'
  'demo build|--target' 'lxc qemu'
  'demo group mode|#0' 'fast slow'
  'demo group help|#0' 'add mode'
  'demo help|#0' 'build group'
)
typeset -gA _demo_args
_demo_args=(
  'demo build' 'file'
  'demo group add' 'file -*'
  'demo group mode' 'choice'
  'demo group help' 'choice'
  'demo help' 'choice'
)

_demo() {
  local cur=${words[CURRENT]} cmdpath='demo' pending='' dashdash='' w kind='' key
  integer i npos=0
  # The words before the cursor: subcommands lengthen the path, an option taking a value eats the
  # next word, anything else is a positional argument.
  for (( i = 2; i < CURRENT; i++ )); do
    w=${words[i]}
    if [[ -n $pending ]]; then pending=''; continue; fi
    if [[ -z $dashdash && $w == -- ]]; then dashdash=1; continue; fi
    if [[ -z $dashdash && $w == -* ]]; then
      [[ $w != *=* && " ${_demo_valued[$cmdpath]} " == *" $w "* ]] && pending=$w
      continue
    fi
    if (( npos == 0 )) && [[ " ${_demo_subs[$cmdpath]} " == *" $w "* ]]; then cmdpath+=" $w"; else (( npos++ )); fi
  done
  if [[ -n $pending ]]; then
    key="$cmdpath|$pending"
    kind=${_demo_kind[$key]}
  elif [[ -z $dashdash && $cur == -* ]]; then
    local -a opts
    opts=( ${(f)_demo_optdesc[$cmdpath]} )
    _describe -t options option opts
    return
  else
    if (( npos == 0 )) && [[ -n ${_demo_subs[$cmdpath]} ]]; then
      local -a subs
      subs=( ${(f)_demo_subdesc[$cmdpath]} )
      _describe -t commands command subs
    fi
    local -a kinds
    kinds=( ${=_demo_args[$cmdpath]} )
    if (( npos < ${#kinds} )); then
      kind=${kinds[npos + 1]} key="$cmdpath|#$npos"
    elif (( ${#kinds} > 0 )) && [[ ${kinds[-1]} == *'*' ]]; then
      kind=${kinds[-1]} key="$cmdpath|#$(( ${#kinds} - 1 ))"
    fi
    kind=${kind%'*'}
  fi
  case $kind in
    choice) compadd -- ${=_demo_choices[$key]} ;;
    file) _files ;;
    dir) _files -/ ;;
  esac
}

if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then
  _demo "$@"
else
  compdef _demo demo
fi
