#!/usr/bin/env bash
# A middlebox chain on QEMU's e1000: three QEMU VMs on loopback socket
# netdevs,
#   sender (pktgen tx) --> fwd VM (two e1000s, `fwd`) --> receiver (pktgen rx)
# once per configuration:
#   qemu-chain-a2b-swap   sender on fwd's NIC a, COUNT_SMALL frames (they fit
#                         in fwd's 1024-slot RX ring): every frame arrives;
#                         fwd: a_to_b == COUNT_SMALL, b_to_a == 0, drops == 0
#                         (zero-copy buffer swap, txmode=classic)
#   qemu-chain-b2a-copy   the other direction (sender on NIC b), COUNT_BIG
#                         frames, fwd copy=1 txmode=sc: the sender outruns fwd
#                         under TCG, so losses are allowed only where they are
#                         counted: fwd's b_to_a + its NIC b's missed (MPC) ==
#                         COUNT_BIG, and the receiver's pkts + its missed ==
#                         fwd's b_to_a
#   qemu-chain-ping       both directions at once: ping on NIC a's side, echo
#                         on NIC b's side (ARP + ICMP through fwd each way):
#                         every reply comes back, fwd counts frames both ways
# KVM when /dev/kvm is usable, TCG otherwise. Only our own QEMUs are killed.
set -u
. "$(dirname "$0")/lib/qemu_lib.sh"
qemu_setup qemu-chain
small=${COUNT_SMALL:-1000}
big=${COUNT_BIG:-5000}

rx_mac=52:54:00:12:35:03
tx_mac=52:54:00:12:35:01
fwd_a_mac=52:54:00:12:35:11
fwd_b_mac=52:54:00:12:35:12

# Run in the background: exec, so $! is timeout's PID and a kill reaches QEMU.
qemu_vm() {   # qemu_vm NAME NETDEV-AND-DEVICE-ARGS... -- CMDLINE
    local name=$1; shift
    local args=()
    while [ "$1" != -- ]; do args+=("$1"); shift; done
    shift
    exec timeout 90 "$qemu" "${accel[@]}" -machine pc -m 64M -nodefaults -display none \
        -monitor none -serial "file:$tmp/$name.out" -no-reboot \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 "${args[@]}" \
        -kernel "$kernel" -append "$1" >"$tmp/$name.log" 2>&1
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
        echo $((20000 + RANDOM % 20000))
}

wait_line() {  # wait_line FILE PATTERN PID: up to 20 s
    for _ in $(seq 200); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

key() {  # key NAME LINE: the value of NAME=... in LINE
    sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"
}

fails=0
pass() { echo "PASS $1 ($mode; $2)"; }
fail() { echo "FAIL $1: $2 ($mode)"; fails=1; }

# chain NAME SIDE COUNT "FWD OPTIONS" [RX_CMD RX_READY RX_APP TX_CMD TX_APP]:
# SIDE a = the sender is on fwd's NIC a (nic0), b = on NIC b (nic1); by
# default pktgen rx/tx with COUNT frames. Sets tx_res, fwd_res, rx_res, secs.
chain() {
    local name=$1 side=$2 n=$3 fo=$4
    local rx_cmd=${5:-pktgen rx count=$n timeout=30 idle=3000} rx_ready=${6:-pktgen: rx ready}
    local rx_app=${7:-pktgen role=rx} tx_cmd=${8:-pktgen tx count=$n len=60 dst=$rx_mac}
    local tx_app=${9:-pktgen role=tx}
    local p_in p_out
    p_in=$(free_port); p_out=$(free_port)
    [ "$p_in" = "$p_out" ] && p_out=$((p_in + 1))
    local t0=$SECONDS
    # Receiver listens; fwd connects to it and listens for the sender.
    qemu_vm "$name-rx" -netdev "socket,id=n0,listen=127.0.0.1:$p_out" \
        -device "e1000,netdev=n0,mac=$rx_mac" -- "$rx_cmd" &
    local rx_pid=$!
    pids+=("$rx_pid")
    wait_line "$tmp/$name-rx.out" "$rx_ready" "$rx_pid"
    local in_nd="socket,id=nin,listen=127.0.0.1:$p_in" out_nd="socket,id=nout,connect=127.0.0.1:$p_out"
    local nics
    if [ "$side" = a ]; then   # nic0 (first PCI slot) faces the sender
        nics=(-netdev "$in_nd" -device "e1000,netdev=nin,mac=$fwd_a_mac"
              -netdev "$out_nd" -device "e1000,netdev=nout,mac=$fwd_b_mac")
    else
        nics=(-netdev "$out_nd" -device "e1000,netdev=nout,mac=$fwd_a_mac"
              -netdev "$in_nd" -device "e1000,netdev=nin,mac=$fwd_b_mac")
    fi
    qemu_vm "$name-fwd" "${nics[@]}" -- "fwd duration=30 idle=1500 $fo" &
    local fwd_pid=$!
    pids+=("$fwd_pid")
    wait_line "$tmp/$name-fwd.out" 'fwd: ready' "$fwd_pid"
    qemu_vm "$name-tx" -netdev "socket,id=n0,connect=127.0.0.1:$p_in" \
        -device "e1000,netdev=n0,mac=$tx_mac" -- "$tx_cmd" &
    local tx_pid=$!
    pids+=("$tx_pid")
    wait "$tx_pid"; wait "$fwd_pid"; wait "$rx_pid"
    secs=$((SECONDS - t0))
    local f
    for f in tx fwd rx; do
        echo "--- $name $f ---"
        tr -d '\r' <"$tmp/$name-$f.out" 2>/dev/null | grep -E '^(RESULT|e1000|fwd|ping|echo)' | sed 's/^/  /'
    done
    tx_res=$(tr -d '\r' <"$tmp/$name-tx.out" 2>/dev/null | grep "^RESULT app=$tx_app" | tail -n 1)
    fwd_res=$(tr -d '\r' <"$tmp/$name-fwd.out" 2>/dev/null | grep '^RESULT app=fwd' | tail -n 1)
    rx_res=$(tr -d '\r' <"$tmp/$name-rx.out" 2>/dev/null | grep "^RESULT app=$rx_app" | tail -n 1)
}

summary() {
    echo "${secs}s; tx pkts=$(key pkts "$tx_res"); fwd a_to_b=$(key a_to_b "$fwd_res") b_to_a=$(key b_to_a "$fwd_res") pps=$(key pps "$fwd_res") missed_a=$(key missed_a "$fwd_res") missed_b=$(key missed_b "$fwd_res") wakeups=$(key wakeups "$fwd_res") b_tdt_writes=$(key b_tdt_writes "$fwd_res") a_tdt_writes=$(key a_tdt_writes "$fwd_res"); rx pkts=$(key pkts "$rx_res") missed=$(key missed "$rx_res")"
}

# 1. a -> b, zero copy, a burst that fits fwd's RX ring: nothing may be lost.
chain a2b a "$small" "txmode=classic"
if [ "$(key pkts "$tx_res")" = "$small" ] && [ "$(key a_to_b "$fwd_res")" = "$small" ] &&
    [ "$(key b_to_a "$fwd_res")" = 0 ] && [ "$(key drops "$fwd_res")" = 0 ] &&
    [ "$(key mode "$fwd_res")" = swap ] && [ "$(key pkts "$rx_res")" = "$small" ]; then
    pass qemu-chain-a2b-swap "$(summary)"
else
    fail qemu-chain-a2b-swap "expected $small frames end to end: tx '${tx_res:-none}' fwd '${fwd_res:-none}' rx '${rx_res:-none}'"
fi

# 2. b -> a, copy, send combining, a burst larger than fwd can take under TCG.
chain b2a b "$big" "copy=1 txmode=sc batch=128"
fb=$(key b_to_a "$fwd_res"); fm=$(key missed_b "$fwd_res")
got=$(key pkts "$rx_res"); rm_=$(key missed "$rx_res")
if [ "$(key pkts "$tx_res")" = "$big" ] && [ -n "$fb" ] && [ -n "$got" ] &&
    [ "$(key a_to_b "$fwd_res")" = 0 ] && [ "$(key mode "$fwd_res")" = copy ] &&
    [ "$(key a_txmode "$fwd_res")" = sc ] && [ "$(key bad "$fwd_res")" = 0 ] &&
    [ "$(key tx_left "$fwd_res")" = 0 ] && [ "$fb" -gt 0 ] &&
    [ $((fb + fm)) -eq "$big" ] && [ $((got + ${rm_:-0})) -eq "$fb" ]; then
    pass qemu-chain-b2a-copy "$(summary); lost only where counted: fwd missed_b=$fm, rx missed=$rm_"
else
    fail qemu-chain-b2a-copy "loss not accounted for (need fwd b_to_a + missed_b == $big, rx pkts + missed == b_to_a): tx '${tx_res:-none}' fwd '${fwd_res:-none}' rx '${rx_res:-none}'"
fi
# 3. Both directions at once: ping (NIC a side) <-> echo (NIC b side)
# through fwd: ARP and ICMP each way, the replies crossing fwd b -> a.
pings=5
chain ping a 0 "txmode=sc" \
    "echo ip=198.18.0.2 duration=25 idle=1500" "echo: ready" echo \
    "ping ip=198.18.0.1 peer=198.18.0.2 count=$pings interval=100" ping
ab=$(key a_to_b "$fwd_res"); ba=$(key b_to_a "$fwd_res")
if [ "$(key received "$tx_res")" = "$pings" ] && [ -n "$ab" ] && [ -n "$ba" ] &&
    [ "$ab" -ge $((pings + 1)) ] && [ "$ba" -ge $((pings + 1)) ] &&
    [ "$(key drops "$fwd_res")" = 0 ]; then
    pass qemu-chain-ping "${secs}s; $(grep -o 'received=[0-9]* rtt_min_us=[0-9]* rtt_avg_us=[0-9]*' <<<"$tx_res"); fwd a_to_b=$ab b_to_a=$ba drops=0"
else
    fail qemu-chain-ping "expected $pings replies through fwd both ways: ping '${tx_res:-none}' fwd '${fwd_res:-none}' echo '${rx_res:-none}'"
fi
exit "$fails"
