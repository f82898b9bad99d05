#!/usr/bin/env bash
# The guest network stack end to end on QEMU's e1000: two VMs running
# build/guest.elf, joined by a QEMU socket netdev on loopback (one listens,
# the other connects), addresses from 198.18.0.0/15.
#   qemu-net-ping         `ping` -> `echo`: every echo request answered (ARP, ICMP;
#                         the responder's MAC set with mac=)
#   qemu-net-udp-stream   `udp-send` -> `udp-recv`, N 18-byte datagrams (60-byte
#                         frames) paced at 5000/s: all arrive (loss counted by
#                         sequence number must be 0)
#   qemu-net-udp-1472     the same with 1472-byte datagrams (1514-byte frames)
#   qemu-net-udp-blast    N 60-byte frames unpaced: the receiver may be overrun
#                         (TCG); every datagram is accounted for: received +
#                         drops = N, and drops = NIC missed + socket + stack drops
#   qemu-net-udp-sc       the blast with the send-combining driver discipline
#                         (txmode=sc: deferred TDT writes flushed by the glue)
#   qemu-net-bad-ip       an address outside 198.18.0.0/15 is refused (status 5)
# KVM when /dev/kvm is usable, TCG otherwise. Every QEMU runs under
# `timeout`; only our own QEMU PIDs are killed (trap on exit).
set -u
. "$(dirname "$0")/lib/qemu_lib.sh"
qemu_setup qemu-net
count=${COUNT:-10000}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' \
        2>/dev/null || echo $((20000 + RANDOM % 20000))
}

mac_a=52:54:00:12:35:01
mac_b=52:54:00:12:35:02
ip_a=198.18.0.1
ip_b=198.18.0.2

# vm NAME NETDEV MAC CMDLINE: one guest; serial in $tmp/NAME.out, status in $tmp/NAME.rc
vm() {
    timeout 90 "$qemu" "${accel[@]}" -machine pc -m 64M -nodefaults -display none \
        -monitor none -serial "file:$tmp/$1.out" -no-reboot \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -netdev "socket,id=n0,$2" -device "e1000,netdev=n0,mac=$3" \
        -kernel "$kernel" -append "$4" >"$tmp/$1.log" 2>&1
    echo $? >"$tmp/$1.rc"
}

# pair NAME SERVER_CMDLINE READY_TEXT CLIENT_CMDLINE: the server VM (B)
# listens; once it prints READY_TEXT the client VM (A) connects. Waits for both.
pair() {
    local name=$1 port
    port=$(free_port)
    vm "$name-b" "listen=127.0.0.1:$port" "$mac_b" "$2" &
    local b=$!
    pids+=("$b")
    for _ in $(seq 600); do
        grep -q "$3" "$tmp/$name-b.out" 2>/dev/null && break
        kill -0 "$b" 2>/dev/null || break
        sleep 0.1
    done
    vm "$name-a" "connect=127.0.0.1:$port" "$mac_a" "$4" &
    local a=$!
    pids+=("$a")
    wait "$a"
    wait "$b"
    for side in a b; do
        tr -d '\r' <"$tmp/$name-$side.out" >"$tmp/$name-$side.txt" 2>/dev/null || true
        echo "--- $name-$side guest output ---"
        cat "$tmp/$name-$side.txt" "$tmp/$name-$side.log"
    done
}

result() { grep "^RESULT app=$2 " "$tmp/$1.txt" 2>/dev/null | tail -n 1; }
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }
fails=0

# --- ping ---------------------------------------------------------------
# The echo side also takes its MAC from mac= (not QEMU's): ARP must say so.
mac_override=52:54:00:12:35:22
pair ping "echo ip=$ip_b duration=60 idle=3000 mac=$mac_override" "echo: ready" \
    "ping ip=$ip_a peer=$ip_b count=5 interval=100"
res=$(result ping-a ping)
echo_res=$(result ping-b echo)
rc=$(cat "$tmp/ping-a.rc" 2>/dev/null)
if [ "$rc" = 1 ] && [ "$(field "$res" received)" = 5 ] &&
    [ "$(field "$echo_res" icmp)" = 5 ] &&
    grep -q "peer $ip_b is at $mac_override" "$tmp/ping-a.txt"; then
    echo "PASS qemu-net-ping ($mode; $res; $echo_res)"
else
    echo "FAIL qemu-net-ping: exit status $rc, result '${res:-none}', echo '${echo_res:-none}' ($mode)"
    fails=1
fi

# --- UDP streams ----------------------------------------------------------
stream() {   # stream NAME LEN COUNT RATE STRICT(1: no loss allowed) [OPTIONS for both]
    local name=$1 len=$2 n=$3 rate=$4 strict=$5 opts=${6:-}
    pair "$name" "udp-recv ip=$ip_b port=9000 count=$n timeout=70 idle=10000 $opts" \
        "udp-recv: ready" "udp-send ip=$ip_a peer=$ip_b port=9000 len=$len count=$n rate=$rate $opts"
    local tx rx rc_a rc_b
    tx=$(result "$name-a" udp-send)
    rx=$(result "$name-b" udp-recv)
    rc_a=$(cat "$tmp/$name-a.rc" 2>/dev/null)
    rc_b=$(cat "$tmp/$name-b.rc" 2>/dev/null)
    local got drops explained
    got=$(field "$rx" pkts)
    drops=$(field "$rx" drops)
    explained=$(($(field "$rx" nic_missed) + $(field "$rx" sock_drops) + $(field "$rx" stack_drops)))
    if [ "$rc_a" != 1 ] || [ "$(field "$tx" pkts)" != "$n" ]; then
        echo "FAIL qemu-net-$name: sender exit status $rc_a, result '${tx:-none}' ($mode)"; fails=1
    elif [ "$rc_b" != 1 ] || [ -z "$got" ]; then
        echo "FAIL qemu-net-$name: receiver exit status $rc_b, result '${rx:-none}' ($mode)"; fails=1
    elif [ "$strict" = 1 ] && { [ "$got" != "$n" ] || [ "$drops" != 0 ]; }; then
        echo "FAIL qemu-net-$name: $got of $n datagrams arrived, drops=$drops ($mode; $rx)"; fails=1
    elif [ $((got + drops)) != "$n" ] || [ "$drops" != "$explained" ]; then
        echo "FAIL qemu-net-$name: loss not accounted for: received $got + drops $drops != $n" \
            "or drops != nic_missed + sock_drops + stack_drops = $explained ($mode; $rx)"
        fails=1
    else
        echo "PASS qemu-net-$name ($mode; sent $n, received $got, loss $drops; $rx)"
    fi
}
stream udp-stream 18 "$count" 5000 1
stream udp-1472 1472 $((count / 5)) 5000 1
stream udp-blast 18 "$count" 0 0
stream udp-sc 18 $((count / 2)) 0 0 "txmode=sc"

# --- configuration errors ------------------------------------------------
timeout 60 "$qemu" "${accel[@]}" -machine pc -m 64M -nodefaults -display none \
    -monitor none -serial "file:$tmp/badip.out" -no-reboot \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -kernel "$kernel" -append "udp-recv ip=10.0.0.1" >"$tmp/badip.log" 2>&1 &
pids+=("$!")
wait "$!"
echo $? >"$tmp/badip.rc"
tr -d '\r' <"$tmp/badip.out" >"$tmp/badip.txt" 2>/dev/null || true
rc=$(cat "$tmp/badip.rc" 2>/dev/null)
if [ "$rc" = 5 ] && grep -q "not an address in 198.18.0.0/15" "$tmp/badip.txt"; then
    echo "PASS qemu-net-bad-ip ($mode; exit status 5)"
else
    echo "FAIL qemu-net-bad-ip: exit status $rc, want 5 and an address error ($mode)"
    cat "$tmp/badip.txt"; fails=1
fi
exit "$fails"
