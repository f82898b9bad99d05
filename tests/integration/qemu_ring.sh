#!/usr/bin/env bash
# The guest's netmap-style ring API and its transmit disciplines on QEMU's
# e1000: two QEMU VMs on a loopback socket netdev, `pktgen rx` counting and
# `pktgen tx` sending COUNT frames through the ring API, once per
# configuration:
#   qemu-ring-classic-b64   classic, batch=64: every frame arrives; one TDT
#                           write per sync (tdt_writes == syncs)
#   qemu-ring-classic-b1    classic, batch=1: one TDT write per frame
#   qemu-ring-sc-b1         send combining, batch=1: every frame arrives with
#                           FEWER TDT writes than frames (tdt_writes < pkts)
#   qemu-ring-sc-b64        send combining + ITR moderation, batch=64, the
#                           receiver draining 64 slots per sync
#   qemu-ring-csb-fallback  txmode=csb on QEMU (no CSB: subsystem 1af4:1100):
#                           both VMs say they fall back to sc, frames arrive
# Delivery: the receiver's pkts == COUNT, or the shortfall is what the NIC
# reported missed (MPC): loss is allowed only when it is counted.
# KVM when /dev/kvm is usable, TCG otherwise. Only our own QEMUs are killed.
set -u
. "$(dirname "$0")/lib/qemu_lib.sh"
qemu_setup qemu-ring
count=${COUNT:-5000}

rx_mac=52:54:00:12:34:61
tx_mac=52:54:00:12:34:62

vm() {   # vm FILE NETDEV MAC CMDLINE
    timeout 60 "$qemu" "${accel[@]}" -machine pc -m 64M -nodefaults -display none \
        -monitor none -serial "file:$tmp/$1.out" -no-reboot \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -netdev "socket,id=n0,$2" -device "e1000,netdev=n0,mac=$3" \
        -kernel "$kernel" -append "$4" >"$tmp/$1.log" 2>&1
}

key() {  # key NAME LINE: the value of NAME=... in LINE
    sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"
}

fails=0
# run NAME "RX OPTIONS" "TX OPTIONS": sets tx_res, rx_res, tx_txt, rx_txt, ok
run() {
    local name=$1 rxo=$2 txo=$3
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)))
    rm -f "$tmp/$name-rx.out" "$tmp/$name-tx.out"
    vm "$name-rx" "listen=127.0.0.1:$port" "$rx_mac" "pktgen rx count=$count timeout=40 $rxo" &
    local rx_pid=$!
    pids+=("$rx_pid")
    for _ in $(seq 200); do
        grep -q 'pktgen: rx ready' "$tmp/$name-rx.out" 2>/dev/null && break
        kill -0 "$rx_pid" 2>/dev/null || break
        sleep 0.1
    done
    vm "$name-tx" "connect=127.0.0.1:$port" "$tx_mac" "pktgen tx count=$count len=60 dst=$rx_mac $txo" &
    local tx_pid=$!
    pids+=("$tx_pid")
    wait "$tx_pid"; tx_rc=$?
    wait "$rx_pid"; rx_rc=$?
    tx_txt=$(tr -d '\r' <"$tmp/$name-tx.out" 2>/dev/null)
    rx_txt=$(tr -d '\r' <"$tmp/$name-rx.out" 2>/dev/null)
    echo "--- $name: rx '$rxo' / tx '$txo' ---"
    grep -E '^(RESULT|e1000)' <<<"$rx_txt" | sed 's/^/  rx: /'
    grep -E '^(RESULT|e1000)' <<<"$tx_txt" | sed 's/^/  tx: /'
    tx_res=$(grep '^RESULT app=pktgen role=tx' <<<"$tx_txt" | tail -n 1)
    rx_res=$(grep '^RESULT app=pktgen role=rx' <<<"$rx_txt" | tail -n 1)
    ok=1
    why=""
    if [ "$tx_rc" != 1 ] || [ "$(key pkts "$tx_res")" != "$count" ] || [ "$(key drops "$tx_res")" != 0 ]; then
        ok=0; why="sender: exit status $tx_rc, result '${tx_res:-none}'"
        cat "$tmp/$name-tx.log" 2>/dev/null | head -n 5
        return
    fi
    local got missed
    got=$(key pkts "$rx_res"); missed=$(key missed "$rx_res")
    if [ -z "$got" ]; then
        ok=0; why="receiver: exit status $rx_rc, no RESULT"
    elif [ "$got" != "$count" ] && [ $((got + ${missed:-0})) -ne "$count" ]; then
        ok=0; why="receiver got $got of $count, missed=${missed:-?}: loss not accounted for"
    fi
}

pass() { echo "PASS $1 ($mode; $2)"; }
fail() { echo "FAIL $1: $2 ($mode)"; fails=1; }

summary() {  # one line of the numbers that matter
    echo "tx pps=$(key pps "$tx_res") pkts=$(key pkts "$tx_res") syncs=$(key syncs "$tx_res") tdt_writes=$(key tdt_writes "$tx_res") reg_accesses=$(key reg_accesses "$tx_res") irqs=$(key irqs "$tx_res"); rx pkts=$(key pkts "$rx_res") missed=$(key missed "$rx_res")"
}

# 1. classic, batch 64: one TDT write per sync.
run classic-b64 "" "txmode=classic batch=64"
if [ "$ok" = 1 ] && [ "$(key txmode "$tx_res")" = classic ] &&
    [ "$(key tdt_writes "$tx_res")" = "$(key syncs "$tx_res")" ]; then
    pass qemu-ring-classic-b64 "$(summary)"
else
    fail qemu-ring-classic-b64 "${why:-tdt_writes != syncs: $tx_res}"
fi

# 2. classic, batch 1: one TDT write per frame.
run classic-b1 "" "txmode=classic batch=1"
classic_tdt=$(key tdt_writes "$tx_res")
if [ "$ok" = 1 ] && [ "$classic_tdt" = "$count" ]; then
    pass qemu-ring-classic-b1 "$(summary)"
else
    fail qemu-ring-classic-b1 "${why:-expected tdt_writes=$count: $tx_res}"
fi

# 3. send combining, batch 1: fewer TDT writes than frames.
run sc-b1 "" "txmode=sc batch=1"
sc_tdt=$(key tdt_writes "$tx_res")
if [ "$ok" = 1 ] && [ "$(key txmode "$tx_res")" = sc ] && [ -n "$sc_tdt" ] &&
    [ "$sc_tdt" -lt "$count" ]; then
    pass qemu-ring-sc-b1 "$(summary); classic had tdt_writes=$classic_tdt"
else
    fail qemu-ring-sc-b1 "${why:-expected tdt_writes < $count: $tx_res}"
fi

# 4. send combining with ITR moderation, batch 64 on both sides.
run sc-b64 "batch=64 txmode=sc" "txmode=sc itr=500 batch=64"
if [ "$ok" = 1 ] && [ "$(key tdt_writes "$tx_res")" -le "$(key syncs "$tx_res")" ]; then
    pass qemu-ring-sc-b64 "$(summary)"
else
    fail qemu-ring-sc-b64 "${why:-more TDT writes than syncs: $tx_res}"
fi

# 5. csb requested: QEMU's e1000 has no CSB, so sc, said on the console.
run csb "txmode=csb" "txmode=csb batch=64"
if [ "$ok" = 1 ] && grep -q 'txmode=csb: .*falling back to txmode=sc' <<<"$tx_txt" &&
    grep -q 'falling back to txmode=sc' <<<"$rx_txt" && [ "$(key txmode "$tx_res")" = sc ] &&
    [ "$(key csb "$tx_res")" = 0 ]; then
    pass qemu-ring-csb-fallback "$(summary)"
else
    fail qemu-ring-csb-fallback "${why:-no fallback line or txmode != sc: $tx_res}"
fi
exit "$fails"
