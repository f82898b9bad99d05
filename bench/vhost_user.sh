#!/usr/bin/env bash
# Host to switch through vhost-user: DPDK virtio-user txonly -> vpio
# vhost-user -> switch -> vpio pktgen rx, next to the same sender into
# DPDK's own vhost back-end (net_vhost0, testpmd rxonly), in one run, for
# each frame length. Prints packets/s (the median of the per-second rates)
# and the CPU each thread used (percent of one core, from
# /proc/PID/task/*/stat).
#   bench/vhost_user.sh [SECONDS] [LEN...]     (default 10 s, 60 and 1514)
set -u
BUILD=${BUILD:-build}
VPIO=${VPIO:-$BUILD/vpio}
secs=${1:-10}
shift || true
lens=("${@:-60}")
[ $# -eq 0 ] && lens=(60 1514)
tmp=$(mktemp -d /tmp/vpio-vhbench.XXXXXX)
sw=vhb$$
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    "$VPIO" switch rm -f $sw >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
hz=$(getconf CLK_TCK)

# cpu_snap PID: "comm ticks" per thread
cpu_snap() {
    local t
    for t in /proc/"$1"/task/*; do
        # comm may hold blanks: fields after the closing parenthesis
        awk -v c="$(cat "$t/comm" | tr ' ' '_')" '{sub(/.*\) /, ""); print c, $12 + $13}' "$t/stat"
    done
}
# cpu_report LABEL BEFORE AFTER: per-thread percent over $secs
cpu_report() {
    join <(sort "$2") <(sort "$3") 2>/dev/null |
        awk -v l="$1" -v hz="$hz" -v s="$secs" '{p = ($3 - $2) * 100 / hz / s; if (p >= 1) printf "    %s %s %.0f%%\n", l, $1, p}'
}
testpmd() { # testpmd PREFIX LCORES VDEV MODE LEN OUT: runs until SIGINT
    stdbuf -oL dpdk-testpmd --no-huge -m 512 --no-pci --file-prefix="$1$$" -l "$2" --vdev "$3" \
        -- --forward-mode="$4" --txpkts="$5" --auto-start --nb-cores=1 --total-num-mbufs=8192 \
        --stats-period 1 </dev/null >"$6" 2>&1 &
    pids+=($!)
    echo $!
}
k() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
median() { sort -n | awk '{a[NR] = $1} END {if (NR) print a[int((NR + 1) / 2)]; else print 0}'; }

echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min), $(nproc) cores"
for len in "${lens[@]}"; do
    # --- vpio: virtio-user txonly -> vpio vhost-user -> switch -> pktgen rx
    sock=$tmp/vpio$len.sock
    "$VPIO" vhost-user -i $sw:vh$len -s "$sock" -q >"$tmp/vh.out" 2>&1 &
    vh=$!
    pids+=($vh)
    "$VPIO" pktgen -i $sw:rx$len -f rx -B -T $((secs + 30)) >"$tmp/rx.out" 2>&1 &
    rx=$!
    pids+=($rx)
    sleep 0.5
    tp=$(testpmd tx 0,1 "virtio_user0,path=$sock,queues=1" txonly "$len" "$tmp/tp.out")
    for _ in $(seq 300); do grep -q 'Rx-pps\|Tx-pps' "$tmp/tp.out" && break; sleep 0.1; done
    sleep 2
    : >"$tmp/rx.mark"
    cpu_snap $vh >"$tmp/c0.vh"; cpu_snap $rx >"$tmp/c0.rx"; cpu_snap $tp >"$tmp/c0.tp"
    n0=$(wc -l <"$tmp/rx.out")
    kill -USR1 $vh; sleep 0.2; r0=$(grep '^RESULT' "$tmp/vh.out" | tail -n 1)
    sleep "$secs"
    cpu_snap $vh >"$tmp/c1.vh"; cpu_snap $rx >"$tmp/c1.rx"; cpu_snap $tp >"$tmp/c1.tp"
    kill -USR1 $vh; sleep 0.2; r1=$(grep '^RESULT' "$tmp/vh.out" | tail -n 1)
    taken=$(( $(k tx_pkts "$r1") + $(k tx_drops "$r1") - $(k tx_pkts "$r0") - $(k tx_drops "$r0") ))
    fwd=$(( $(k tx_pkts "$r1") - $(k tx_pkts "$r0") ))
    vpps=$(tail -n +$((n0 + 1)) "$tmp/rx.out" | sed -n 's/^pktgen rx: \([0-9.]*\) Mpps.*/\1/p' | median)
    kill -INT $tp; wait $tp 2>/dev/null
    kill $rx $vh; wait $rx $vh 2>/dev/null
    echo "len=$len vpio vhost-user -> switch -> pktgen rx: ${vpps} Mpps received (median of 1 s rates);" \
        "the port took $(awk -v n=$taken -v s=$secs 'BEGIN {printf "%.3f", n / s / 1e6}') Mpps from the guest," \
        "$(awk -v n=$fwd -v s=$secs 'BEGIN {printf "%.3f", n / s / 1e6}') Mpps into pktgen's ring (the rest: ring full, counted)"
    cpu_report testpmd-virtio-user "$tmp/c0.tp" "$tmp/c1.tp"
    cpu_report vpio-vhost-user "$tmp/c0.vh" "$tmp/c1.vh"
    cpu_report vpio-pktgen-rx "$tmp/c0.rx" "$tmp/c1.rx"

    # --- DPDK: the same sender into DPDK's vhost back-end (testpmd rxonly)
    sock=$tmp/dpdk$len.sock
    be=$(testpmd be 1,0 "net_vhost0,iface=$sock,queues=1" rxonly "$len" "$tmp/be.out")
    for _ in $(seq 300); do [ -S "$sock" ] && break; sleep 0.1; done
    tp=$(testpmd tx 0,1 "virtio_user0,path=$sock,queues=1" txonly "$len" "$tmp/tp2.out")
    for _ in $(seq 300); do grep -q 'Tx-pps' "$tmp/tp2.out" && break; sleep 0.1; done
    sleep 2
    cpu_snap $be >"$tmp/c0.be"; cpu_snap $tp >"$tmp/c0.tp"
    n0=$(wc -l <"$tmp/be.out")
    sleep "$secs"
    cpu_snap $be >"$tmp/c1.be"; cpu_snap $tp >"$tmp/c1.tp"
    dpps=$(tail -n +$((n0 + 1)) "$tmp/be.out" | sed -n 's/^ *Rx-pps: *\([0-9]*\).*/\1/p' | median)
    kill -INT $tp; wait $tp 2>/dev/null
    kill -INT $be; wait $be 2>/dev/null
    echo "len=$len DPDK net_vhost0 testpmd rxonly: $(awk -v p="$dpps" 'BEGIN {printf "%.3f", p / 1e6}') Mpps (median of 1 s rates)"
    cpu_report testpmd-virtio-user "$tmp/c0.tp" "$tmp/c1.tp"
    cpu_report testpmd-vhost "$tmp/c0.be" "$tmp/c1.be"
done
