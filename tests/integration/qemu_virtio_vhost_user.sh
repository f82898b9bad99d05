#!/usr/bin/env bash
# The guest's virtio-net driver against a back-end nobody here wrote: DPDK
# testpmd's vhost-user ports (net_vhost0/1, forward-mode io: a two-port
# switch). Two QEMU VMs, guest RAM in a shared memfd:
#   qemu-vhost-dpdk-ring   pktgen tx -> testpmd -> pktgen rx, COUNT frames
#                          in paced bursts, counted exactly: testpmd took
#                          all COUNT from the sender, the receiver got
#                          exactly what testpmd sent it (testpmd counts the
#                          rest as TX-dropped: no buffer posted, which on
#                          two cores happens while testpmd polls the
#                          receiver's CPU), some arrived, and no side saw a
#                          bad used entry
#   qemu-vhost-dpdk-ping   ping -> echo through testpmd: 5/5 replies
#   qemu-vhost-dpdk-udp    udp-send -> udp-recv, paced at 5000/s (the
#                          receiver shares its CPU with testpmd's poller
#                          and must run every ~25 ms): all arrive
# Needs dpdk-testpmd (Debian dpdk), /dev/kvm (vhost-user without KVM needs
# vectors=0 on QEMU 7.2; this test uses KVM). Only our own processes are
# killed; sockets live in a temp dir.
set -u
. "$(dirname "$0")/lib/qemu_lib.sh"
qemu_setup qemu-vhost-dpdk
count=${COUNT:-5000}
testpmd=$(command -v dpdk-testpmd || true)
names="qemu-vhost-dpdk-ring qemu-vhost-dpdk-ping qemu-vhost-dpdk-udp"
if [ -z "$testpmd" ]; then
    for n in $names; do echo "SKIP $n: dpdk-testpmd not installed (scripts/deps.sh test: dpdk)"; done
    exit 0
fi
if [ "$mode" != kvm ]; then
    for n in $names; do echo "SKIP $n: needs /dev/kvm ($mode)"; done
    exit 0
fi

fails=0
pass() { echo "PASS $1 ($mode; $2)"; }
fail() {
    echo "FAIL $1: $2 ($mode)"
    fails=1
    for f in "$tmp"/$1*.out "$tmp"/testpmd.log; do echo "--- $f"; tail -6 "$f"; done
}
key() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
result() { grep "^RESULT app=$2" "$tmp/$1.out" 2>/dev/null | tail -1; }
wait_line() { # FILE PATTERN PID: up to 30 s
    for _ in $(seq 300); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# One testpmd per test: two vhost-user server sockets, io forwarding 0<->1.
start_testpmd() { # NAME
    rm -f "$tmp/a.sock" "$tmp/b.sock"
    # --stats-period: testpmd runs until signalled instead of reading stdin
    # (a "sleep |" feed was seen to end it at once here).
    (exec "$testpmd" --no-huge -m 512 --no-pci --file-prefix="vv$$-$1" -l 0,1 \
        --vdev "net_vhost0,iface=$tmp/a.sock" --vdev "net_vhost1,iface=$tmp/b.sock" -- \
        --forward-mode=io --auto-start --nb-cores=1 --total-num-mbufs=8192 --stats-period=1000 \
        </dev/null >"$tmp/testpmd.log" 2>&1) &
    tp_pid=$!
    pids+=("$tp_pid")
    for _ in $(seq 150); do
        if [ -S "$tmp/a.sock" ] && [ -S "$tmp/b.sock" ]; then
            sleep 1 # testpmd starts forwarding after it made the sockets
            return 0
        fi
        sleep 0.2
    done
    return 1
}
stop_testpmd() {
    kill -INT "$tp_pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$tp_pid" 2>/dev/null || break; sleep 0.1; done
    kill "$tp_pid" 2>/dev/null
    wait "$tp_pid" 2>/dev/null
}

qemu_vm() { # NAME SOCK MAC CMDLINE (background)
    exec timeout 60 "$qemu" "${accel[@]}" -machine pc,memory-backend=mem -m 128M \
        -object memory-backend-memfd,id=mem,size=128M,share=on -nodefaults -display none \
        -monitor none -serial "file:$tmp/$1.out" -no-reboot \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -chardev "socket,id=c0,path=$2" -netdev vhost-user,id=n0,chardev=c0 \
        -device "virtio-net-pci,netdev=n0,mac=$3" -kernel "$kernel" -append "$4" \
        >"$tmp/$1.log" 2>&1
}

rx_mac=52:54:00:12:37:02
tx_mac=52:54:00:12:37:01
run_pair() { # NAME RX_CMD READY TX_CMD
    local name=$1
    start_testpmd "$name" || { fail "$name" "testpmd sockets did not appear"; stop_testpmd; return 1; }
    qemu_vm "$name-rx" "$tmp/b.sock" $rx_mac "$2" &
    local rp=$!
    pids+=("$rp")
    wait_line "$tmp/$name-rx.out" "$3" "$rp" || { fail "$name" "receiver not ready"; stop_testpmd; return 1; }
    qemu_vm "$name-tx" "$tmp/a.sock" $tx_mac "$4" &
    local tp=$!
    pids+=("$tp")
    wait "$tp"
    wait "$rp"
    stop_testpmd
    return 0
}

run_pair qemu-vhost-dpdk-ring "pktgen rx count=$count timeout=40 idle=3000" "pktgen: rx ready" \
    "pktgen tx count=$count len=60 batch=32 dst=$rx_mac burst=64 gap_us=300" && {
    r=$(result qemu-vhost-dpdk-ring-rx pktgen) t=$(result qemu-vhost-dpdk-ring-tx pktgen)
    # testpmd's exit statistics: port 0 faces the sender, port 1 the receiver
    tp_stat() { # PORT FIELD
        sed -n "/Forward statistics for port $1 /,/-------------$/p" "$tmp/testpmd.log" |
            sed -n "s/.*$2: *\([0-9]*\).*/\1/p" | head -n 1
    }
    in0=$(tp_stat 0 RX-packets) out1=$(tp_stat 1 TX-packets) drop1=$(tp_stat 1 TX-dropped)
    got=$(key pkts "$r")
    if [ "$(key pkts "$t")" = "$count" ] && [ "$in0" = "$count" ] && [ -n "$out1" ] &&
        [ "$got" = "$out1" ] && [ $((out1 + drop1)) = "$count" ] && [ "$got" -gt 0 ] &&
        [ "$(key bad_used "$r")" = 0 ] && [ "$(key bad_used "$t")" = 0 ]; then
        pass qemu-vhost-dpdk-ring "$count sent, $in0 taken by testpmd; $got received = the $out1 testpmd sent on ($drop1 more dropped by testpmd: no receive buffer); TX notifies $(key tdt_writes "$t"), rx irqs $(key irqs "$r")"
    else
        fail qemu-vhost-dpdk-ring "rx [$r] tx [$t] testpmd: port 0 RX $in0, port 1 TX $out1 dropped $drop1"
    fi
}
run_pair qemu-vhost-dpdk-ping "echo ip=198.18.0.2 duration=30 idle=3000" "echo: ip" \
    "ping ip=198.18.0.1 peer=198.18.0.2 count=5 interval=100" && {
    r=$(result qemu-vhost-dpdk-ping-tx ping)
    if [ "$(key received "$r")" = 5 ]; then
        pass qemu-vhost-dpdk-ping "5/5 replies, rtt avg $(key rtt_avg_us "$r") us"
    else
        fail qemu-vhost-dpdk-ping "[$r]"
    fi
}
run_pair qemu-vhost-dpdk-udp "udp-recv ip=198.18.0.2 count=$count timeout=40 idle=3000" "udp-recv: ip" \
    "udp-send ip=198.18.0.1 peer=198.18.0.2 count=$count len=18 rate=5000" && {
    r=$(result qemu-vhost-dpdk-udp-rx udp-recv)
    if [ "$(key pkts "$r")" = "$count" ]; then
        pass qemu-vhost-dpdk-udp "$count datagrams, no loss"
    else
        fail qemu-vhost-dpdk-udp "rx [$r] tx [$(result qemu-vhost-dpdk-udp-tx udp-send)]"
    fi
}
exit $fails
