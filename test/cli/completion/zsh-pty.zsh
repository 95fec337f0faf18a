# zsh -f zsh-pty.zsh FPATH_DIR LINE...: types each LINE and a TAB bound to list-choices in an
# interactive zsh under zpty, with compinit loading _vmgen and _vmgctl from FPATH_DIR, and prints
# what the terminal showed for each LINE (escape sequences and all), each followed by a NUL.
zmodload zsh/zpty
local dir=$1; shift
zpty z zsh -f -i
# $((6*7)) is expanded by the inner shell, so the marker is its output, not the echo of the command.
zpty -w z "fpath=(${(q)dir} \$fpath); autoload -U compinit; compinit -u -D; bindkey '^I' list-choices; PROMPT='%% '; print ready-\$((6*7))"
local out line
# Typing before zle has the terminal would reach the tty's cooked mode: wait for the prompt's
# bracketed-paste switch (ESC [?2004h), which zle sends once it reads keys.
zpty -r z out '*ready-42*\[\?2004h*' || { print -u2 'zsh did not start'; exit 1 }
for line in "$@"; do
  zpty -wn z "$line"$'\t'
  zpty -w z $'\C-u'"print done-\$((6*7))"
  zpty -r z out '*done-42*\[\?2004h*' || { print -u2 "no answer for $line"; exit 1 }
  print -rn -- "$out"$'\0'
done
zpty -d z
