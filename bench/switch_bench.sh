#!/usr/bin/env bash
# Switch throughput: vpio pktgen tx -> switch -> vpio pktgen rx (separate
# processes), 60- and 1514-byte frames, batch 1, 32, 256; then one sender to
# two receivers (broadcast). Each row is run REPS times; the table shows the
# median and the range of the receive rate. Uses its own switch
# (/dev/shm/vpio-bench<pid>), removed at the end.
#   bench/switch_bench.sh [SECONDS [REPS [RXFLAGS]]]   (default 2 s, 3 reps, "")
#   RXFLAGS=-B makes the receivers busy-poll instead of sleeping in the futex.
#   PIN=1 (default): with one receiver, the sender runs on CPU 0 and the
#   receiver on CPU 1 (taskset); with two receivers nothing is pinned.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/.."
VPIO=$BUILD/vpio
T=${1:-2}
REPS=${2:-3}
RXFLAGS=${3:-}
PIN=${PIN:-1}
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

echo "| receivers | frame B | batch | tx offered Mpps | rx Mpps per receiver, median (min-max) | rx Gbit/s per receiver, median | drops at full ring, % of offered |"
echo "|---|---|---|---|---|---|---|"
for nrx in 1 2; do
    for len in 60 1514; do
        batches="1 32 256"; [ $nrx -eq 2 ] && batches=256
        for b in $batches; do
            : >"$tmp/pps"; : >"$tmp/bps"; : >"$tmp/off"; : >"$tmp/drop"
            for rep in $(seq $REPS); do
                rxp=()
                rxpin="" txpin=""
                if [ "$PIN" = 1 ] && [ $nrx -eq 1 ]; then rxpin="taskset -c 1"; txpin="taskset -c 0"; fi
                for r in $(seq $nrx); do
                    timeout $((T + 10)) $rxpin "$VPIO" pktgen -i $SW:r$r -f rx -T $((T + 3)) -W 0.5 -q $RXFLAGS >"$tmp/rx$r" 2>&1 &
                    pids+=($!); rxp+=($!)
                    wait_port $SW r$r || { echo "rx port did not appear" >&2; exit 1; }
                done
                timeout $((T + 10)) $txpin "$VPIO" pktgen -i $SW:t -f tx -T $T -l $len -b $b -q >"$tmp/tx" 2>&1
                for p in "${rxp[@]}"; do wait $p; done
                tp=$(field pkts "$tmp/tx"); td=$(field drops "$tmp/tx")
                awk -v p="$tp" -v d="$td" -v t=$T 'BEGIN { print (p + d) / t }' >>"$tmp/off"
                for r in $(seq $nrx); do
                    field pps "$tmp/rx$r" >>"$tmp/pps"
                    field bps "$tmp/rx$r" >>"$tmp/bps"
                    awk -v d="$(field drops "$tmp/rx$r")" -v p="$(field pkts "$tmp/rx$r")" \
                        'BEGIN { print 100 * d / (d + p) }' >>"$tmp/drop"
                done
            done
            off=$(stats 1e6 <"$tmp/off" | cut -d' ' -f1)
            echo "| $nrx | $len | $b | $off | $(stats 1e6 <"$tmp/pps") | $(stats 1e9 <"$tmp/bps" | cut -d' ' -f1) | $(stats 1 <"$tmp/drop" | cut -d' ' -f1) |"
        done
    done
done
