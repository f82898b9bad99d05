# Shared helpers of the vhost-user integration scripts, sourced after
# lib.sh. Run on its own (tests/run.sh runs every *.sh) it does nothing.
#   vh_start NAME IFACE SOCK [ARGS...]  vpio vhost-user in the background,
#                           stdout in $tmp/NAME.out, stderr $tmp/NAME.err,
#                           its PID in vh_pid[NAME]; returns once it said it
#                           is up (or after 10 s, or if it died)
#   vh_result NAME          SIGUSR1, then its last RESULT line
#   vh_stop NAME            SIGTERM, wait; the final counters in $tmp/NAME.out
#   vh_connected NAME SECS  until its counters say connected=1 (fails at once
#                           if the process is gone)
#   key KEY LINE            the value of KEY=... in LINE
#   tp_count FILE WHAT      testpmd's first "WHAT-packets: N" (RX or TX)
#   maps_guest PID          guest-RAM (memfd) mappings of a process
#   nfds PID                open fds of a process
declare -A vh_pid

vh_start() {
    local name=$1 iface=$2 sock=$3
    shift 3
    "$VPIO" vhost-user -i "$iface" -s "$sock" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    vh_pid[$name]=$!
    track_pid "${vh_pid[$name]}"
    # Until it says it is up: a SIGUSR1 (vh_result) sent before the process
    # has blocked it would end it with the default action, silently.
    local _
    for _ in $(seq 100); do
        grep -q ' (listening)$\| (client)$' "$tmp/$name.err" 2>/dev/null && return 0
        kill -0 "${vh_pid[$name]}" 2>/dev/null || return 0
        sleep 0.1
    done
}

vh_result() {
    local name=$1 n
    n=$(grep -c '^RESULT' "$tmp/$name.out")
    # a port process that is gone answers nothing: its last line at once
    if kill -USR1 "${vh_pid[$name]}" 2>/dev/null; then
        for _ in $(seq 50); do
            [ "$(grep -c '^RESULT' "$tmp/$name.out")" -gt "$n" ] && break
            sleep 0.1
        done
    fi
    grep '^RESULT' "$tmp/$name.out" | tail -n 1
}

vh_stop() {
    kill -TERM "${vh_pid[$1]}" 2>/dev/null
    wait "${vh_pid[$1]}" 2>/dev/null
}

vh_connected() {
    local name=$1 secs=$2 i
    for i in $(seq $((secs * 5))); do
        if ! kill -0 "${vh_pid[$name]}" 2>/dev/null; then
            local st=0
            wait "${vh_pid[$name]}" 2>/dev/null || st=$?
            echo "vh_connected: the port process $name (pid ${vh_pid[$name]}) is gone, exit status $st (>128: signal)" >&2
            tail -n 5 "$tmp/$name.err" >&2
            return 1
        fi
        vh_result "$name" >/dev/null
        grep 'connected=' "$tmp/$name.out" | tail -n 1 | grep -q 'connected=1 ' && return 0
        sleep 0.2
    done
    return 1
}

key() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }

tp_count() { sed -n "s/^ *$2-packets: *\([0-9]*\).*/\1/p" "$1" | head -n 1; }

maps_guest() { grep -c 'memfd:\|/dev/hugepages\|rtemap' "/proc/$1/maps" 2>/dev/null; }

nfds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
