# fish completion for demo, generated from its command definitions: vmgen completion fish demo
# Install: put this in /etc/fish/completions/demo.fish (or ~/.config/fish/completions/).

# Is word $argv[2] a subcommand of the command path $argv[1]?
function _demo_is_sub
    switch "$argv[1]|$argv[2]"
        case 'demo|build' 'demo|group' 'demo|help' 'demo group|add' 'demo group|mode' 'demo group|help'
            return 0
    end
    return 1
end

# Does option $argv[2] of the command path $argv[1] take the next word as its value?
function _demo_valued
    switch "$argv[1]|$argv[2]"
        case 'demo build|-t' 'demo build|--target' 'demo build|-o' 'demo build|--out' 'demo build|--name' 'demo group add|--catalog'
            return 0
    end
    return 1
end

# The command path, the number of positional arguments and whether an option waits for its
# value, from the words before the cursor.
function _demo_state
    set -l cmdpath 'demo'
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
            if not string match -q -- '*=*' $w; and _demo_valued "$cmdpath" $w
                set pending 1
            end
            continue
        end
        if test $npos = 0; and _demo_is_sub "$cmdpath" $w
            set cmdpath "$cmdpath $w"
        else
            set npos (math $npos + 1)
        end
    end
    printf '%s\n' $cmdpath $npos $pending
end

# At command path $argv[1]; with $argv[2], also where positional argument N (N+: N or later) is
# typed, not an option's value.
function _demo_at
    set -l s (_demo_state)
    test "$s[1]" = "$argv[1]"; or return 1
    set -q argv[2]; or return 0
    test $s[3] = 0; or return 1
    if string match -q -- '*+' $argv[2]
        test $s[2] -ge (string trim -r -c + -- $argv[2])
    else
        test $s[2] = $argv[2]
    end
end

complete -c demo -f
complete -c demo -n '_demo_at \'demo\' 0' -a 'build' -d 'build it'
complete -c demo -n '_demo_at \'demo\' 0' -a 'group' -d 'a group: it says "it\'s" twice, it\'s'
complete -c demo -n '_demo_at \'demo\' 0' -a 'help' -d 'display help for command'
complete -c demo -n '_demo_at \'demo\'' -s V -l version -d 'output the version number'
complete -c demo -n '_demo_at \'demo\'' -s h -l help -d 'display help for command'
complete -c demo -n '_demo_at \'demo build\'' -s t -l target -x -a 'lxc qemu' -d 'what to build'
complete -c demo -n '_demo_at \'demo build\'' -s o -l out -x -a '(__fish_complete_directories (commandline -ct))' -d 'where it goes'
complete -c demo -n '_demo_at \'demo build\'' -l name -x -d 'a name'
complete -c demo -n '_demo_at \'demo build\'' -l json -d 'as JSON'
complete -c demo -n '_demo_at \'demo build\'' -s h -l help -d 'display help for command'
complete -c demo -n '_demo_at \'demo build\' 0' -F
complete -c demo -n '_demo_at \'demo group\' 0' -a 'add' -d 'add: names'
complete -c demo -n '_demo_at \'demo group\' 0' -a 'mode' -d ''
complete -c demo -n '_demo_at \'demo group\' 0' -a 'help' -d 'display help for command'
complete -c demo -n '_demo_at \'demo group\'' -s h -l help -d 'display help for command'
complete -c demo -n '_demo_at \'demo group add\'' -l catalog -r -F -d 'a catalog (repeatable)'
complete -c demo -n '_demo_at \'demo group add\'' -s h -l help -d 'display help for command'
complete -c demo -n '_demo_at \'demo group add\' 0' -F
complete -c demo -n '_demo_at \'demo group mode\'' -s h -l help -d 'display help for command'
complete -c demo -n '_demo_at \'demo group mode\' 0' -a 'fast slow'
complete -c demo -n '_demo_at \'demo group help\' 0' -a 'add mode'
complete -c demo -n '_demo_at \'demo help\' 0' -a 'build group'
