# bash completion for demo, generated from its command definitions: vmgen completion bash demo
# Install: put this in /etc/bash_completion.d/demo (or source it from ~/.bashrc).

declare -gA _demo_subs=(
  ['demo']='build group help'
  ['demo group']='add mode help'
)
declare -gA _demo_opts=(
  ['demo']='-V --version -h --help'
  ['demo build']='-t --target -o --out --name --json -h --help'
  ['demo group']='-h --help'
  ['demo group add']='--catalog -h --help'
  ['demo group mode']='-h --help'
  ['demo group help']=''
  ['demo help']=''
)
declare -gA _demo_valued=(
  ['demo build']='-t --target -o --out --name'
  ['demo group add']='--catalog'
)
declare -gA _demo_kind=(
  ['demo build|-t']='choice'
  ['demo build|--target']='choice'
  ['demo build|-o']='dir'
  ['demo build|--out']='dir'
  ['demo group add|--catalog']='file'
)
declare -gA _demo_choices=(
  ['demo build|-t']='lxc qemu'
  ['demo build|--target']='lxc qemu'
  ['demo group mode|#0']='fast slow'
  ['demo group help|#0']='add mode'
  ['demo help|#0']='build group'
)
declare -gA _demo_args=(
  ['demo build']='file'
  ['demo group add']='file -*'
  ['demo group mode']='choice'
  ['demo group help']='choice'
  ['demo help']='choice'
)

_demo() {
  local cur=${COMP_WORDS[COMP_CWORD]} cmdpath='demo' pending='' npos=0 dashdash='' i w kind='' key
  # The words before the cursor: subcommands lengthen the path, an option taking a value eats the
  # next word, anything else is a positional argument.
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    if [[ -n $pending ]]; then pending=''; continue; fi
    if [[ -z $dashdash && $w == -- ]]; then dashdash=1; continue; fi
    if [[ -z $dashdash && $w == -* ]]; then
      [[ $w != *=* && " ${_demo_valued[$cmdpath]} " == *" $w "* ]] && pending=$w
      continue
    fi
    if [[ $npos -eq 0 && " ${_demo_subs[$cmdpath]} " == *" $w "* ]]; then cmdpath+=" $w"; else npos=$((npos + 1)); fi
  done
  COMPREPLY=()
  if [[ -n $pending ]]; then
    key="$cmdpath|$pending"
    kind=${_demo_kind[$key]}
  elif [[ -z $dashdash && $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "${_demo_opts[$cmdpath]}" -- "$cur")
    return 0
  else
    if [[ $npos -eq 0 && -n ${_demo_subs[$cmdpath]} ]]; then
      mapfile -t COMPREPLY < <(compgen -W "${_demo_subs[$cmdpath]}" -- "$cur")
    fi
    local -a kinds=(${_demo_args[$cmdpath]})
    if ((npos < ${#kinds[@]})); then
      kind=${kinds[npos]} key="$cmdpath|#$npos"
    elif ((${#kinds[@]} > 0)) && [[ ${kinds[-1]} == *'*' ]]; then
      kind=${kinds[-1]} key="$cmdpath|#$((${#kinds[@]} - 1))"
    fi
    kind=${kind%'*'}
  fi
  local -a more=()
  case $kind in
    choice) mapfile -t more < <(compgen -W "${_demo_choices[$key]}" -- "$cur") ;;
    file) mapfile -t more < <(compgen -f -- "$cur"); compopt -o filenames 2>/dev/null ;;
    dir) mapfile -t more < <(compgen -d -- "$cur"); compopt -o filenames 2>/dev/null ;;
  esac
  COMPREPLY+=("${more[@]}")
  return 0
}
complete -F _demo demo
