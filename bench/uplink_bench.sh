#!/usr/bin/env bash
# Frames per second through one uplink and the wire to the other switch:
# namespaces A and B joined by a veth pair, a vpio switch in each with its
# uplink on its end of the wire (`vpio uplink`, AF_XDP and AF_PACKET), host
# `vpio pktgen -f tx` on switch A, `vpio pktgen -f rx` on switch B; 60- and
# 1514-byte broadcast frames. CPU per thread (schedstat run time over one
# second in the middle of each run) for the four processes. Then the Linux
# reference (bench/switch_veth_ref.sh: AF_PACKET sockets on a veth pair) in
# the same run. Needs root.
#   bench/uplink_bench.sh [SECONDS [MODES]]     (default 5, "xdp packet")
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
VPIO=$BUILD/vpio
T=${1:-5}
MODES=${2:-xdp packet}
A=ubencha$$ B=ubenchb$$
tmp=$(mktemp -d /tmp/vpio-upbench.XXXXXX)
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    ip netns del $A 2>/dev/null
    ip netns del $B 2>/dev/null
    for s in "$tmp"/sw.*; do [ -e "$s" ] && "$VPIO" switch rm -f "${s##*/sw.}" >/dev/null 2>&1; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
[ -x "$VPIO" ] || { echo "build $VPIO first (make)"; exit 1; }
for n in $A $B; do
    ip netns add $n || exit 1
    ip netns exec $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip link add wa netns $A type veth peer name wb netns $B || exit 1
for x in "$A wa" "$B wb"; do
    set -- $x
    for k in gro gso tso tx; do ip netns exec $1 ethtool -K $2 $k off >/dev/null 2>&1; done
    ip -n $1 link set $2 up
done
sleep 1
snap() { for t in /proc/$1/task/*; do echo "$(cat "$t/comm" 2>/dev/null) $(cut -d' ' -f1 "$t/schedstat" 2>/dev/null)"; done; }
cpu() { # before after dt_ns
    paste -d' ' <(echo "$1") <(echo "$2") |
        awk -v dt="$3" '$2 != "" && $4 != "" {p = 100 * ($4 - $2) / dt; printf "%s%s %.0f%%", sep, $1, p; sep = ", "}'
}
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<" $2"; }
upstart() { # VAR NS SW IF MODE FILE: VAR = the uplink's pid
    local var=$1
    shift
    ip netns exec $1 sh -c 'mount -t bpf bpf /sys/fs/bpf 2>/dev/null; exec "$@"' sh \
        "$VPIO" uplink -i "$2:up" --if $3 --mode $4 -b 256 >"$5" 2>"$5.err" &
    pids+=($!)
    printf -v "$var" '%s' $!
}
echo "Machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start (shared with other jobs)"
echo
echo "| path | frame B | tx Mpps (into switch A) | rx Mpps (switch B) | loss % | CPU per thread (uplink A; uplink B; pktgen tx; pktgen rx) |"
echo "|---|---|---|---|---|---|"
for mode in $MODES; do
    swa=ubxa$mode$$ swb=ubxb$mode$$
    touch "$tmp/sw.$swa" "$tmp/sw.$swb"
    upstart ua $A $swa wa $mode "$tmp/ua"
    upstart ub $B $swb wb $mode "$tmp/ub"
    sleep 1.5
    desc=$(grep -o '<->.*' "$tmp/ua.err" | head -n 1)
    for len in 60 1514; do
        ip netns exec $B "$VPIO" pktgen -i $swb:rx -f rx -T $((T + 3)) -W 1 -q >"$tmp/rx" 2>&1 &
        rx=$!
        pids+=($rx)
        sleep 0.3
        ip netns exec $A "$VPIO" pktgen -i $swa:tx -f tx -T $T -l $len -b 256 -q >"$tmp/tx" 2>&1 &
        tx=$!
        pids+=($tx)
        sleep "$(awk -v s=$T 'BEGIN {print s / 2}')"
        b_ua=$(snap $ua); b_ub=$(snap $ub); b_tx=$(snap $tx); b_rx=$(snap $rx); t0=$(date +%s%N)
        sleep 1
        a_ua=$(snap $ua); a_ub=$(snap $ub); a_tx=$(snap $tx); a_rx=$(snap $rx); t1=$(date +%s%N)
        wait $tx; wait $rx
        dt=$((t1 - t0))
        txl=$(grep '^RESULT' "$tmp/tx"); rxl=$(grep '^RESULT' "$tmp/rx")
        txp=$(field pps "$txl"); rxp=$(field pps "$rxl")
        txn=$(field pkts "$txl"); rxn=$(field pkts "$rxl")
        loss=$(awk -v a="$txn" -v b="$rxn" 'BEGIN { printf "%.1f", a ? 100 * (a - b) / a : 0 }')
        echo "| vpio uplink $mode ($desc) | $len | $(awk -v p="$txp" 'BEGIN{printf "%.3f", p/1e6}') | $(awk -v p="$rxp" 'BEGIN{printf "%.3f", p/1e6}') | $loss | $(cpu "$b_ua" "$a_ua" $dt); $(cpu "$b_ub" "$a_ub" $dt); $(cpu "$b_tx" "$a_tx" $dt); $(cpu "$b_rx" "$a_rx" $dt) |"
    done
    kill -TERM $ua $ub; wait $ua $ub 2>/dev/null
    echo "<!-- uplink A $mode: $(grep '^RESULT' "$tmp/ua") -->"
    echo "<!-- uplink B $mode: $(grep '^RESULT' "$tmp/ub") -->"
    "$VPIO" switch rm -f $swa >/dev/null 2>&1; "$VPIO" switch rm -f $swb >/dev/null 2>&1
done
echo
echo "Linux reference, same run (bench/switch_veth_ref.sh $((T > 3 ? 3 : T)) 1):"
echo
bench/switch_veth_ref.sh $((T > 3 ? 3 : T)) 1
echo
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
