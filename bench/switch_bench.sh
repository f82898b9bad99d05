#!/usr/bin/env bash
# Switch throughput: vpio pktgen tx -> switch -> vpio pktgen rx (separate
# processes), 60- and 1514-byte frames, batch 1, 32, 256; one sender to two
# receivers (broadcast); two senders to one receiver (both senders' copies
# into the same RX ring: the case VALE's leases are for). Each row is run
# REPS times; the table shows the median and the range of the receive rate.
# Uses its own switch (/dev/shm/vpio-bench<pid>), removed at the end.
#   bench/switch_bench.sh [SECONDS [REPS [RXFLAGS]]]   (default 2 s, 3 reps, "")
#   RXFLAGS=-B makes the receivers busy-poll instead of sleeping in the futex.
#   SETS="1x1 1x2 2x1" (default): which senders x receivers configurations;
#   LENS="60 1514", BATCHES="1 32 256" (batches of the 1x1 rows; the other
#   rows use 256) narrow the table.
#   PIN=1 (default): with one sender and one receiver, the sender runs on
#   CPU 0 and the receiver on CPU 1 (taskset); otherwise nothing is pinned.
#   BUILD=dir: use dir/vpio (default build).
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/.."
VPIO=$BUILD/vpio
T=${1:-2}
REPS=${2:-3}
RXFLAGS=${3:-}
PIN=${PIN:-1}
SETS=${SETS:-1x1 1x2 2x1}
LENS=${LENS:-60 1514}
BATCHES=${BATCHES:-1 32 256}
SW=bench$$
tmp=$(mktemp -d /tmp/vpio-swbench.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -f /dev/shm/vpio-$SW; rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
field() { sed -n "s/^RESULT .* $1=\([0-9]*\).*/\1/p" "$2" | tail -n 1; }
wait_port() {
    for _ in $(seq 60); do
        "$VPIO" switch show "$1" 2>/dev/null | grep -q " $2 " && return 0; sleep 0.05
    done; return 1
}
# stats: median and min-max of the numbers on stdin, scaled by $1
stats() { sort -g | awk -v s="$1" '{ v[NR] = $1 / s } END {
    printf "%.2f (%.2f-%.2f)", v[int((NR + 1) / 2)], v[1], v[NR] }'; }

echo "| senders | receivers | frame B | batch | tx offered Mpps (all senders) | rx Mpps per receiver, median (min-max) | rx Gbit/s per receiver, median | drops at full ring, % of offered |"
echo "|---|---|---|---|---|---|---|---|"
for set in $SETS; do
    ntx=${set%x*}; nrx=${set#*x}
    for len in $LENS; do
        batches=$BATCHES; [ "$set" = 1x1 ] || batches=256
        for b in $batches; do
            : >"$tmp/pps"; : >"$tmp/bps"; : >"$tmp/off"; : >"$tmp/drop"
            for rep in $(seq $REPS); do
                rxp=() txp=()
                rxpin="" txpin=""
                if [ "$PIN" = 1 ] && [ "$set" = 1x1 ]; then rxpin="taskset -c 1"; txpin="taskset -c 0"; fi
                for r in $(seq $nrx); do
                    timeout $((T + 10)) $rxpin "$VPIO" pktgen -i $SW:r$r -f rx -T $((T + 3)) -W 0.5 -q $RXFLAGS >"$tmp/rx$r" 2>&1 &
                    pids+=($!); rxp+=($!)
                    wait_port $SW r$r || { echo "rx port did not appear" >&2; exit 1; }
                done
                # senders: broadcast (flooded to every receiver; with two
                # senders also to the other sender's port, which never
                # drains: a full ring there is dropped cheaply)
                for s in $(seq $ntx); do
                    timeout $((T + 10)) $txpin "$VPIO" pktgen -i $SW:t$s -f tx -T $T -l $len -b $b -q >"$tmp/tx$s" 2>&1 &
                    pids+=($!); txp+=($!)
                done
                for p in "${txp[@]}"; do wait $p; done
                for p in "${rxp[@]}"; do wait $p; done
                tot=0
                for s in $(seq $ntx); do
                    tp=$(field pkts "$tmp/tx$s"); td=$(field drops "$tmp/tx$s")
                    tot=$((tot + ${tp:-0} + ${td:-0}))
                done
                awk -v n="$tot" -v t=$T 'BEGIN { print n / t }' >>"$tmp/off"
                for r in $(seq $nrx); do
                    field pps "$tmp/rx$r" >>"$tmp/pps"
                    field bps "$tmp/rx$r" >>"$tmp/bps"
                    awk -v d="$(field drops "$tmp/rx$r")" -v p="$(field pkts "$tmp/rx$r")" \
                        'BEGIN { print (d + p) ? 100 * d / (d + p) : 0 }' >>"$tmp/drop"
                done
            done
            off=$(stats 1e6 <"$tmp/off" | cut -d' ' -f1)
            echo "| $ntx | $nrx | $len | $b | $off | $(stats 1e6 <"$tmp/pps") | $(stats 1e9 <"$tmp/bps" | cut -d' ' -f1) | $(stats 1 <"$tmp/drop" | cut -d' ' -f1) |"
        done
    done
done
