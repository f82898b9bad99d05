#!/usr/bin/env bash
# Linux reference for bench/switch_bench.sh: the same traffic (broadcast
# frames, 60 and 1514 bytes, batch 1/32/256) through a veth pair inside a
# network namespace this script creates and deletes, sent and received with
# AF_PACKET sockets (bench/afpacket.c). Needs root (ip netns).
#   bench/switch_veth_ref.sh [SECONDS [REPS]]
set -u
cd "$(dirname "$0")/.."
T=${1:-2}
REPS=${2:-3}
NS=vpioref$$
tmp=$(mktemp -d /tmp/vpio-vethref.XXXXXX)
cleanup() { ip netns del $NS 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
cc -O2 -Wall -o "$tmp/afpacket" bench/afpacket.c || exit 1
ip netns add $NS || exit 1
ip -n $NS link add va type veth peer name vb || exit 1
ip -n $NS link set va up && ip -n $NS link set vb up || exit 1
field() { sed -n "s/^RESULT .* $1=\([0-9]*\).*/\1/p" "$2" | tail -n 1; }
stats() { sort -g | awk -v s="$1" '{ v[NR] = $1 / s } END {
    printf "%.2f (%.2f-%.2f)", v[int((NR + 1) / 2)], v[1], v[NR] }'; }
echo "| path | frame B | batch | tx Mpps | rx Mpps, median (min-max) | rx Gbit/s, median | rx socket drops, % |"
echo "|---|---|---|---|---|---|---|"
for len in 60 1514; do
    for b in 1 32 256; do
        : >"$tmp/pps"; : >"$tmp/bps"; : >"$tmp/txp"; : >"$tmp/drop"
        for rep in $(seq $REPS); do
            timeout $((T + 10)) ip netns exec $NS "$tmp/afpacket" rx vb $len $T 256 >"$tmp/rx" &
            rxp=$!
            sleep 0.3
            timeout $((T + 10)) ip netns exec $NS "$tmp/afpacket" tx va $len $T $b >"$tmp/tx"
            wait $rxp
            field pps "$tmp/rx" >>"$tmp/pps"; field bps "$tmp/rx" >>"$tmp/bps"
            field pps "$tmp/tx" >>"$tmp/txp"
            awk -v d="$(field drops "$tmp/rx")" -v p="$(field pkts "$tmp/rx")" \
                'BEGIN { print (d + p) ? 100 * d / (d + p) : 0 }' >>"$tmp/drop"
        done
        echo "| veth + AF_PACKET | $len | $b | $(stats 1e6 <"$tmp/txp" | cut -d' ' -f1) | $(stats 1e6 <"$tmp/pps") | $(stats 1e9 <"$tmp/bps" | cut -d' ' -f1) | $(stats 1 <"$tmp/drop" | cut -d' ' -f1) |"
    done
done
