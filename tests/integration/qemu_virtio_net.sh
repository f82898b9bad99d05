#!/usr/bin/env bash
# The guest's virtio-net driver on QEMU's virtio-net-pci (user-space data
# path), two or three VMs on loopback socket netdevs, then over tap + Linux
# bridge in a network namespace:
#   qemu-virtio-ring-msix     pktgen tx -> pktgen rx, COUNT frames, MSI-X:
#                             every frame arrives (drops=0), and the sender
#                             notified less than once per 64-frame batch
#   qemu-virtio-ring-intx     the same with msix=0 (INTx through the IOAPIC)
#   qemu-virtio-udp           udp-send -> udp-recv (socket path), paced: no loss
#   qemu-virtio-ping          ping -> echo: 5/5 replies
#   qemu-virtio-fwd-mixed     pktgen (e1000) -> fwd (e1000 a, virtio-net b)
#                             -> pktgen rx (virtio-net): every frame arrives,
#                             fwd a_to_b == COUNT; then ping (virtio-net)
#                             through fwd to echo (e1000) both ways
#   qemu-virtio-tap-ring      over tap + bridge in a namespace (root, ip, a
#                             bridge): pktgen 1514-byte frames, paced so the
#                             tap queue does not drop: all arrive
#   qemu-virtio-tap-udp       udp-send -> udp-recv over tap: all arrive
# KVM when /dev/kvm is usable, TCG otherwise. Only our own QEMUs are killed;
# the namespace is removed on exit.
set -u
. "$(dirname "$0")/lib/qemu_lib.sh"
qemu_setup qemu-virtio
count=${COUNT:-2000}
ns=vpio-vnet-$$

cleanup_all() {
    qemu_cleanup
    ip netns del "$ns" 2>/dev/null
}
trap cleanup_all EXIT

# qemu_vm NAME NETNS|- ARGS... -- CMDLINE (background: exec so $! is timeout's PID)
qemu_vm() {
    local name=$1 where=$2; shift 2
    local args=()
    while [ "$1" != -- ]; do args+=("$1"); shift; done
    shift
    local pre=()
    [ "$where" != - ] && pre=(ip netns exec "$where")
    exec "${pre[@]}" timeout 60 "$qemu" "${accel[@]}" -machine pc -m 128M -nodefaults \
        -display none -monitor none -serial "file:$tmp/$name.out" -no-reboot \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 "${args[@]}" \
        -kernel "$kernel" -append "$1" >"$tmp/$name.log" 2>&1
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_line() { # FILE PATTERN PID: up to 30 s
    for _ in $(seq 300); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

key() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
result() { grep "^RESULT app=$2" "$tmp/$1.out" 2>/dev/null | tail -1; }

fails=0
pass() { echo "PASS $1 ($mode; $2)"; }
fail() {
    echo "FAIL $1: $2 ($mode)"
    fails=1
    for f in "$tmp"/*.out; do echo "--- $f"; tail -5 "$f"; done
    [ -n "${VERBOSE:-}" ] && { bridge -n "$ns" link; bridge -n "$ns" fdb | grep -v permanent; }
}

rx_mac=52:54:00:12:36:02
tx_mac=52:54:00:12:36:01
vn() { echo "virtio-net-pci,netdev=$1,mac=$2${3:+,$3}"; }

# pair NAME RX_CMD RX_READY TX_CMD RX_DEV_OPTS TX_DEV_OPTS: receiver listens, sender connects.
pair() {
    local name=$1 rxc=$2 ready=$3 txc=$4 p
    p=$(free_port)
    qemu_vm "$name-rx" - -netdev "socket,id=n0,listen=127.0.0.1:$p" -device "$(vn n0 $rx_mac "${5:-}")" -- "$rxc" &
    local rp=$!
    pids+=("$rp")
    if ! wait_line "$tmp/$name-rx.out" "$ready" "$rp"; then
        fail "$name" "receiver not ready"
        return 1
    fi
    qemu_vm "$name-tx" - -netdev "socket,id=n0,connect=127.0.0.1:$p" -device "$(vn n0 $tx_mac "${6:-}")" -- "$txc" &
    local tp=$!
    pids+=("$tp")
    wait "$tp"
    wait "$rp"
    return 0
}

ring_test() { # NAME EXTRA
    local name=$1 extra=$2
    pair "$name" "pktgen rx count=$count timeout=40 idle=3000 $extra" "pktgen: rx ready" \
        "pktgen tx count=$count len=60 batch=64 dst=$rx_mac $extra" || return
    local rx tx
    rx=$(result "$name-rx" pktgen) tx=$(result "$name-tx" pktgen)
    local got kicks want_msix
    got=$(key pkts "$rx") kicks=$(key tdt_writes "$tx")
    want_msix=1
    [[ "$extra" == *msix=0* ]] && want_msix=0
    if [ "$got" = "$count" ] && [ "$(key drops "$rx")" = 0 ] && [ -n "$kicks" ] &&
        [ "$kicks" -lt $((count / 64 + 1)) ] && [ "$(key msix "$rx")" = $want_msix ] &&
        [ "$(key bad_used "$rx")" = 0 ]; then
        pass "$name" "$got/$count frames, $kicks TX notifies, rx irqs $(key irqs "$rx"), msix=$want_msix"
    else
        fail "$name" "rx [$rx] tx [$tx]"
    fi
}

only=${ONLY:-all}
if [ "$only" = all ]; then
ring_test qemu-virtio-ring-msix ""
ring_test qemu-virtio-ring-intx "msix=0"

# Socket path: paced (rate=) so QEMU's socket netdev is not the limit.
pair qemu-virtio-udp "udp-recv ip=198.18.0.2 count=$count timeout=40 idle=3000" "udp-recv: ip" \
    "udp-send ip=198.18.0.1 peer=198.18.0.2 count=$count len=18 rate=20000" && {
    rx=$(result qemu-virtio-udp-rx udp-recv)
    if [ "$(key pkts "$rx")" = "$count" ] && [ "$(key drops "$rx")" = 0 ]; then
        pass qemu-virtio-udp "$count datagrams, no loss"
    else
        fail qemu-virtio-udp "rx [$rx] tx [$(result qemu-virtio-udp-tx udp-send)]"
    fi
}

pair qemu-virtio-ping "echo ip=198.18.0.2 duration=30 idle=3000" "echo: ip" \
    "ping ip=198.18.0.1 peer=198.18.0.2 count=5 interval=100" && {
    r=$(result qemu-virtio-ping-tx ping)
    if [ "$(key received "$r")" = 5 ]; then
        pass qemu-virtio-ping "5/5 replies, rtt avg $(key rtt_avg_us "$r") us"
    else
        fail qemu-virtio-ping "[$r]"
    fi
}

# fwd with an e1000 (a) and a virtio-net (b): sender (e1000) -> fwd -> receiver (virtio-net).
chain_mixed() { # NAME FWD_OPTS RX_CMD RX_READY RX_APP TX_CMD TX_APP
    local name=$1 fo=$2 rxc=$3 ready=$4 rxapp=$5 txc=$6 txapp=$7 p_in p_out
    p_in=$(free_port)
    p_out=$(free_port)
    qemu_vm "$name-rx" - -netdev "socket,id=n0,listen=127.0.0.1:$p_out" -device "$(vn n0 $rx_mac)" -- "$rxc" &
    local rp=$!
    pids+=("$rp")
    wait_line "$tmp/$name-rx.out" "$ready" "$rp" || { fail "$name" "receiver not ready"; return 1; }
    qemu_vm "$name-fwd" - -netdev "socket,id=na,listen=127.0.0.1:$p_in" \
        -device e1000,netdev=na,mac=52:54:00:12:36:11 \
        -netdev "socket,id=nb,connect=127.0.0.1:$p_out" -device "$(vn nb 52:54:00:12:36:12)" \
        -- "fwd a=e1000 b=virtio duration=40 idle=3000 $fo" &
    local fp=$!
    pids+=("$fp")
    wait_line "$tmp/$name-fwd.out" "fwd: ready" "$fp" || { fail "$name" "fwd not ready"; return 1; }
    qemu_vm "$name-tx" - -netdev "socket,id=n0,connect=127.0.0.1:$p_in" \
        -device e1000,netdev=n0,mac=$tx_mac -- "$txc" &
    local tp=$!
    pids+=("$tp")
    wait "$tp"
    wait "$rp"
    wait "$fp"
    rx_res=$(result "$name-rx" "$rxapp") fwd_res=$(result "$name-fwd" fwd) tx_res=$(result "$name-tx" "$txapp")
    return 0
}

n=1000
chain_mixed qemu-virtio-fwd-mixed "" "pktgen rx count=$n timeout=40 idle=3000" "pktgen: rx ready" \
    "pktgen role=rx" "pktgen tx count=$n len=60 dst=$rx_mac" "pktgen role=tx" && {
    if [ "$(key pkts "$rx_res")" = $n ] && [ "$(key a_to_b "$fwd_res")" = $n ] &&
        [ "$(key drops "$fwd_res")" = 0 ]; then
        pass qemu-virtio-fwd-mixed "$n frames e1000 -> fwd -> virtio-net, zero copy"
    else
        fail qemu-virtio-fwd-mixed "rx [$rx_res] fwd [$fwd_res]"
    fi
}
chain_mixed qemu-virtio-fwd-ping "" "ping ip=198.18.0.2 peer=198.18.0.1 count=5 interval=100" "ping: ip" \
    "ping" "echo ip=198.18.0.1 duration=30 idle=4000" "echo" && {
    if [ "$(key received "$rx_res")" = 5 ] && [ "$(key b_to_a "$fwd_res")" -ge 6 ] &&
        [ "$(key a_to_b "$fwd_res")" -ge 6 ]; then
        pass qemu-virtio-fwd-ping "5/5 echoes through fwd both ways"
    else
        fail qemu-virtio-fwd-ping "ping [$rx_res] fwd [$fwd_res]"
    fi
}

fi # only=all

# Over tap + bridge in a namespace.
tap_skip=""
if [ "$(id -u)" != 0 ]; then
    tap_skip="needs root (tap and a namespace)"
elif ! command -v ip >/dev/null; then
    tap_skip="needs iproute2"
elif ! ip netns add "$ns" 2>/dev/null; then
    tap_skip="cannot create a network namespace"
fi
if [ -z "$tap_skip" ]; then
    ip -n "$ns" link set lo up
    # The order bench_env.c uses: each tap enslaved and up, then the bridge.
    { ip -n "$ns" link add br0 type bridge &&
        for t in vtap0 vtap1; do
            ip -n "$ns" tuntap add dev $t mode tap && ip -n "$ns" link set $t master br0 &&
                ip -n "$ns" link set $t up || exit 1
        done && ip -n "$ns" link set br0 up; } || tap_skip="cannot create bridge and taps"
fi
tap_pair() { # NAME RX_CMD READY TX_CMD
    local name=$1
    qemu_vm "$name-rx" "$ns" -netdev tap,id=n0,ifname=vtap1,script=no,downscript=no \
        -device "$(vn n0 $rx_mac)" -- "$2" &
    local rp=$!
    pids+=("$rp")
    wait_line "$tmp/$name-rx.out" "$3" "$rp" || { fail "$name" "receiver not ready"; return 1; }
    qemu_vm "$name-tx" "$ns" -netdev tap,id=n0,ifname=vtap0,script=no,downscript=no \
        -device "$(vn n0 $tx_mac)" -- "$4" &
    local tp=$!
    pids+=("$tp")
    wait "$tp"
    wait "$rp"
    return 0
}
if [ -n "$tap_skip" ]; then
    echo "SKIP qemu-virtio-tap-ring: $tap_skip"
    echo "SKIP qemu-virtio-tap-udp: $tap_skip"
else
    # Unknown unicast floods on the bridge: the receiver need not speak first.
    n=2000
    tap_pair qemu-virtio-tap-ring "pktgen rx count=$n timeout=40 idle=3000" "pktgen: rx ready" \
        "pktgen tx count=$n len=1514 batch=8 dst=$rx_mac burst=8 gap_us=200" && {
        r=$(result qemu-virtio-tap-ring-rx pktgen)
        if [ "$(key pkts "$r")" = $n ]; then
            pass qemu-virtio-tap-ring "$n x 1514-byte frames over tap + bridge"
        else
            fail qemu-virtio-tap-ring "rx [$r] tx [$(result qemu-virtio-tap-ring-tx pktgen)]"
        fi
    }
    tap_pair qemu-virtio-tap-udp "udp-recv ip=198.18.0.2 count=$n timeout=40 idle=3000" "udp-recv: ip" \
        "udp-send ip=198.18.0.1 peer=198.18.0.2 count=$n len=18 rate=10000" && {
        r=$(result qemu-virtio-tap-udp-rx udp-recv)
        if [ "$(key pkts "$r")" = $n ]; then
            pass qemu-virtio-tap-udp "$n datagrams over tap + bridge"
        else
            fail qemu-virtio-tap-udp "rx [$r] tx [$(result qemu-virtio-tap-udp-tx udp-send)]"
        fi
    }
fi
exit $fails
