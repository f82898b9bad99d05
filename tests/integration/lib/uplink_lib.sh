# Shared set-up of the uplink integration scripts (sourced after lib.sh and
# vpio_vm_lib.sh). Run on its own (tests/run.sh runs every *.sh) it does
# nothing. Everything lives in network namespaces created here and deleted
# on exit (also on failure); names carry our PID.
#   up_need CHECK...       SKIP every check and exit unless we are root with
#                          ip, ethtool and network namespaces
#   up_ns VAR TAG          VAR = a new namespace (IPv6 off, lo up), deleted on exit
#   up_quiet_if NS IF      IF up, offloads off (gro/gso/tso/tx checksum): the
#                          settings docs/uplink.md asks for
#   up_start NAME NS PORT IF MODE   `vpio uplink` in NS (bpffs mounted for
#                          AF_XDP), stdout $tmp/NAME.up, stderr $tmp/NAME.uperr;
#                          waits until it says it is attached or waiting
#   up_stop NAME           SIGTERM, wait (FAIL unless it exits 0): the counters
#                          line is in $tmp/NAME.up
#   up_counter NAME KEY    a counter of the last RESULT line of NAME
#   up_xdp_why NS IF       empty if AF_XDP loads on IF in NS, else why not
[ "${BASH_SOURCE[0]}" = "$0" ] && exit 0

declare -A up_pid=()
_up_netns=()
_up_del_netns() {
    local n
    for n in "${_up_netns[@]}"; do ip netns del "$n" 2>/dev/null; done
}
_cleanup_hooks+=(_up_del_netns)

up_need() {
    local why= c
    if [ "$(id -u)" -ne 0 ]; then
        why="needs root (network namespaces)"
    elif ! command -v ip >/dev/null; then
        why="needs iproute2 (ip)"
    elif ! command -v ethtool >/dev/null; then
        why="needs ethtool"
    elif ! command -v ping >/dev/null || ! command -v python3 >/dev/null; then
        why="needs ping (iputils-ping) and python3"
    elif ! ip netns add "vpiochk$$" 2>/dev/null; then
        why="cannot create network namespaces"
    else
        ip netns del "vpiochk$$"
    fi
    if [ -n "$why" ]; then
        for c in "$@"; do skip "$c: $why"; done
        finish
    fi
}

up_ns() {
    local n="$2$$"
    ip netns add "$n" || return 1
    _up_netns+=("$n")
    ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$n" link set lo up
    printf -v "$1" '%s' "$n"
}

up_quiet_if() {
    local k
    for k in gro gso tso tx; do ip netns exec "$1" ethtool -K "$2" "$k" off >/dev/null 2>&1; done
    ip -n "$1" link set "$2" up
}

up_start() {
    local name=$1 ns=$2 port=$3 ifn=$4 mode=$5
    rm -f "$tmp/$name.up" "$tmp/$name.uperr"
    ip netns exec "$ns" sh -c 'mount -t bpf bpf /sys/fs/bpf 2>/dev/null; exec ${UP_WRAP:-} "$@"' sh \
        "$VPIO" uplink -i "$port" --if "$ifn" --mode "$mode" >"$tmp/$name.up" 2>"$tmp/$name.uperr" &
    up_pid[$name]=$!
    track_pid "$!"
    wait_line "$tmp/$name.uperr" "<->\|waiting for it" "${up_pid[$name]}"
}

up_stop() {
    local rc
    kill -TERM "${up_pid[$1]}" 2>/dev/null
    wait "${up_pid[$1]}" 2>/dev/null
    rc=$?
    # SIGTERM ends it cleanly with status 0 (a sanitizer report would not)
    [ "$rc" = 0 ] || fail "uplink $1: exit status $rc after SIGTERM: $(tail -n 5 "$tmp/$1.uperr" | tr '\n' '|')"
}

up_counter() {
    local l
    l=$(grep '^RESULT app=uplink' "$tmp/$1.up" 2>/dev/null | tail -n 1)
    key "$2" "$l"
}

up_xdp_why() {
    local out
    out=$(ip netns exec "$1" sh -c 'mount -t bpf bpf /sys/fs/bpf 2>/dev/null; exec "$@"' sh \
        timeout 2 "$VPIO" uplink -i "xdpchk$$:p" --if "$2" --mode xdp 2>&1 </dev/null)
    "$VPIO" switch rm -f "xdpchk$$" >/dev/null 2>&1
    grep -q "<->" <<<"$out" || echo "AF_XDP does not open on $2 in a namespace: $(grep -m1 'vpio uplink' <<<"$out")"
}
