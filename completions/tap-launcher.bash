# bash completion for tap-launcher(1): commands, each command's options, and their fixed values.
# tests/man/completion.test.ts checks that the options here are exactly those tap-launcher accepts.

_tap_launcher_options() {
    case $1 in
        run) echo "--br= --helper= --mac= --tap= --unmanaged --relay= --pcap= --pcap-size= --stats= --queues= --veth --user-nic= -v --verbose -q --quiet --version -h --help" ;;
        install) echo "--prefix= --mode= --from= --destdir= -v --verbose -q --quiet --version -h --help" ;;
        grant) echo "--mode= -v --verbose -q --quiet --version -h --help" ;;
        uninstall) echo "--prefix= -v --verbose -q --quiet --version -h --help" ;;
        doctor) echo "--helper= -v --verbose -q --quiet --version -h --help" ;;
    esac
}

_tap_launcher() {
    local cur=${COMP_WORDS[COMP_CWORD]} command=run i
    # Everything after the first -- is the guest command's: complete commands and files there.
    for ((i = 1; i < COMP_CWORD; i++)); do
        if [[ ${COMP_WORDS[i]} == -- ]]; then
            if ((i + 1 == COMP_CWORD)); then
                mapfile -t COMPREPLY < <(compgen -c -- "$cur")
            else
                mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            fi
            return
        fi
    done
    if ((COMP_CWORD > 1)); then
        case ${COMP_WORDS[1]} in
            run | install | grant | uninstall | doctor) command=${COMP_WORDS[1]} ;;
        esac
    fi
    case $cur in
        --relay=*) mapfile -t COMPREPLY < <(compgen -P --relay= -W "stream dgram" -- "${cur#*=}"); return ;;
        --stats=*) mapfile -t COMPREPLY < <(compgen -P --stats= -W "text json" -- "${cur#*=}"); return ;;
        --mode=*) mapfile -t COMPREPLY < <(compgen -P --mode= -W "setuid caps" -- "${cur#*=}"); return ;;
        --br=*) mapfile -t COMPREPLY < <(compgen -P --br= -W "$(ls /sys/class/net 2>/dev/null)" -- "${cur#*=}"); return ;;
        --tap=*) mapfile -t COMPREPLY < <(compgen -P --tap= -W "$(ls /sys/class/net 2>/dev/null)" -- "${cur#*=}"); return ;;
        --helper=* | --pcap=* | --prefix=* | --from=* | --destdir=* | --user-nic=*)
            mapfile -t COMPREPLY < <(compgen -P "${cur%%=*}=" -f -- "${cur#*=}")
            return
            ;;
    esac
    local words
    words=$(_tap_launcher_options "$command")
    if ((COMP_CWORD == 1)); then words="run install grant uninstall doctor $words"; fi
    mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
    # An option that takes a value is completed as --name= with the value next.
    if ((${#COMPREPLY[@]} == 1)) && [[ ${COMPREPLY[0]} == *= ]]; then compopt -o nospace 2>/dev/null; fi
}

complete -F _tap_launcher tap-launcher
