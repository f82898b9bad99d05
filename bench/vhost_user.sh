#!/usr/bin/env bash
# Host to switch through vhost-user, vpio's back-end next to DPDK's, in one
# run. The sender is DPDK virtio-user `txonly` (testpmd, its polling worker
# pinned to CPU 1); the back-ends under test get CPU 0:
#   vpio-drop   virtio-user -> vpio vhost-user -> switch (no other port: the
#               switch looks each frame up and delivers it nowhere, counted)
#   vpio-rx     the same, with `vpio pktgen -f rx -B` on the switch
#               (unpinned: three busy pollers on two cores)
#   dpdk        virtio-user -> DPDK net_vhost0 (testpmd rxonly, which frees
#               each frame it takes)
# For vpio-* the rate is what the port took from the sender (its tx_pkts +
# tx_drops over the window); for vpio-rx also what pktgen received; for dpdk
# the median of testpmd's 1 s Rx-pps. CPU per thread from
# /proc/PID/task/*/stat (percent of one core) over the same window.
#   bench/vhost_user.sh [SECONDS] [LEN...]     (default 10 s, 60 and 1514)
#   ROUNDS=3 bench/vhost_user.sh 5             (every row ROUNDS times, interleaved)
set -u
BUILD=${BUILD:-build}
VPIO=${VPIO:-$BUILD/vpio}
ROUNDS=${ROUNDS:-1}
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
    [ -n "${KEEP:-}" ] || rm -rf "$tmp"
    [ -n "${KEEP:-}" ] && echo "kept $tmp"
}
trap cleanup EXIT
hz=$(getconf CLK_TCK)

# cpu_snap PID: "comm ticks" per thread
cpu_snap() {
    local t
    for t in /proc/"$1"/task/*; do
        # comm may hold blanks: fields after the closing parenthesis
        awk -v c="$(tr ' ' '_' <"$t/comm")" '{sub(/.*\) /, ""); print c, $12 + $13}' "$t/stat"
    done
}
# cpu_report LABEL BEFORE AFTER: per-thread percent over $secs
cpu_report() {
    join <(sort "$2") <(sort "$3") 2>/dev/null |
        awk -v l="$1" -v hz="$hz" -v s="$secs" '{p = ($3 - $2) * 100 / hz / s; if (p >= 1) printf "    %s %s %.0f%%\n", l, $1, p}'
}
# LCORES is an EAL --lcores map (lcore@cpu): lcore 0 is the main lcore (it
# prints the stats and sleeps), lcore 1 the polling worker.
testpmd() { # testpmd PREFIX LCORES VDEV MODE LEN OUT: runs until SIGINT
    stdbuf -oL dpdk-testpmd --no-huge -m 512 --no-pci --file-prefix="$1$$" --lcores "$2" --vdev "$3" \
        -- --forward-mode="$4" --txpkts="$5" --auto-start --nb-cores=1 --total-num-mbufs=8192 \
        --stats-period 1 </dev/null >"$6" 2>&1 &
    pids+=($!)
    echo $!
}
SENDER_CPUS=0@0,1@1  # the sender's worker on CPU 1
BACKEND_CPUS=0@1,1@0 # DPDK's back-end worker on CPU 0
# stop SIG PID: signals PID and waits until it is gone (testpmd runs in a
# command substitution's child, so `wait` cannot wait for it)
stop() {
    kill -"$1" "$2" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$2" 2>/dev/null || return 0; sleep 0.1; done
    echo "pid $2 did not end after SIG$1" >&2
}
k() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
median() { sort -n | awk '{a[NR] = $1} END {if (NR) print a[int((NR + 1) / 2)]; else print 0}'; }
mpps() { awk -v n="$1" -v s="$secs" 'BEGIN {printf "%.3f", n / s / 1e6}'; }

# vpio_row LEN WITH_RX: one vpio row
vpio_row() {
    local len=$1 with_rx=$2 sock=$tmp/vpio$1.sock rx="" port=vh$1$2
    rm -f "$sock" # the wait below must see this row's socket
    taskset -c 0 "$VPIO" vhost-user -i $sw:$port -s "$sock" -q ${VH_OPTS:-} >"$tmp/vh.out" 2>&1 &
    local vh=$!
    pids+=($vh)
    if [ "$with_rx" = 1 ]; then
        "$VPIO" pktgen -i $sw:rx$len -f rx -T $((secs + 30)) >"$tmp/rx.out" 2>&1 &
        rx=$!
        pids+=($rx)
    fi
    for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
    local tp
    tp=$(testpmd tx $SENDER_CPUS "virtio_user0,path=$sock,queues=1" txonly "$len" "$tmp/tp.out")
    for _ in $(seq 300); do grep -q 'Tx-pps' "$tmp/tp.out" && break; sleep 0.1; done
    sleep 2
    cpu_snap $vh >"$tmp/c0.vh"
    cpu_snap $tp >"$tmp/c0.tp"
    [ -n "$rx" ] && cpu_snap $rx >"$tmp/c0.rx"
    local n0=0
    [ -n "$rx" ] && n0=$(wc -l <"$tmp/rx.out")
    kill -USR1 $vh
    sleep "$secs"
    kill -USR1 $vh
    cpu_snap $vh >"$tmp/c1.vh"
    cpu_snap $tp >"$tmp/c1.tp"
    [ -n "$rx" ] && cpu_snap $rx >"$tmp/c1.rx"
    sleep 0.2
    local r0 r1
    r0=$(grep '^RESULT' "$tmp/vh.out" | tail -n 2 | head -n 1)
    r1=$(grep '^RESULT' "$tmp/vh.out" | tail -n 1)
    local taken=$(($(k tx_pkts "$r1") + $(k tx_drops "$r1") - $(k tx_pkts "$r0") - $(k tx_drops "$r0")))
    local fwd=$(($(k tx_pkts "$r1") - $(k tx_pkts "$r0")))
    stop INT $tp
    if [ -n "$rx" ]; then
        local vpps
        vpps=$(tail -n +$((n0 + 1)) "$tmp/rx.out" | sed -n 's/^pktgen rx: \([0-9.]*\) Mpps.*/\1/p' | median)
        kill $rx $vh
        wait $rx $vh 2>/dev/null
        echo "len=$len vpio-rx: the port took $(mpps $taken) Mpps from the sender;" \
            "$(mpps $fwd) Mpps into pktgen's ring (the rest: ring full, counted); pktgen received ${vpps} Mpps (median of 1 s rates)"
        cpu_report vpio-pktgen-rx "$tmp/c0.rx" "$tmp/c1.rx"
    else
        kill $vh
        wait $vh 2>/dev/null
        echo "len=$len vpio-drop: the port took $(mpps $taken) Mpps from the sender (delivered nowhere, counted)"
    fi
    cpu_report testpmd-virtio-user "$tmp/c0.tp" "$tmp/c1.tp"
    cpu_report vpio-vhost-user "$tmp/c0.vh" "$tmp/c1.vh"
    "$VPIO" switch rm -f $sw >/dev/null 2>&1
}

dpdk_row() {
    local len=$1 sock=$tmp/dpdk$1.sock be tp
    be=$(testpmd be $BACKEND_CPUS "net_vhost0,iface=$sock,queues=1" rxonly "$len" "$tmp/be.out")
    for _ in $(seq 300); do [ -S "$sock" ] && break; sleep 0.1; done
    tp=$(testpmd tx $SENDER_CPUS "virtio_user0,path=$sock,queues=1" txonly "$len" "$tmp/tp2.out")
    for _ in $(seq 300); do grep -q 'Tx-pps' "$tmp/tp2.out" && break; sleep 0.1; done
    sleep 2
    cpu_snap $be >"$tmp/c0.be"
    cpu_snap $tp >"$tmp/c0.tp"
    local n0
    n0=$(wc -l <"$tmp/be.out")
    sleep "$secs"
    cpu_snap $be >"$tmp/c1.be"
    cpu_snap $tp >"$tmp/c1.tp"
    local dpps
    dpps=$(tail -n +$((n0 + 1)) "$tmp/be.out" | sed -n 's/^ *Rx-pps: *\([0-9]*\).*/\1/p' | median)
    stop INT $tp
    stop INT $be
    rm -f "$sock"
    echo "len=$len dpdk: DPDK net_vhost0 (testpmd rxonly) took $(awk -v p="$dpps" 'BEGIN {printf "%.3f", p / 1e6}') Mpps (median of 1 s rates)"
    cpu_report testpmd-virtio-user "$tmp/c0.tp" "$tmp/c1.tp"
    cpu_report testpmd-vhost "$tmp/c0.be" "$tmp/c1.be"
}

echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min), $(nproc) cores; $secs s per row, $ROUNDS round(s)"
for len in "${lens[@]}"; do
    for round in $(seq "$ROUNDS"); do
        [ -n "${ONLY:-}" ] && { "${ONLY}_row" "$len" ${ONLY_ARG:-}; continue; }
        echo "# len=$len round $round"
        vpio_row "$len" 0
        dpdk_row "$len"
        vpio_row "$len" 1
    done
done
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
