#!/usr/bin/env bash
# Two QEMU guests (QEMU's e1000, the project's guest) talking through the
# vpio switch: each QEMU connects its `-netdev socket` to a `vpio qemu-port`
# attached to the same switch. Needs no KVM (TCG when /dev/kvm is missing).
#   qemu-switch-ping   ping -> echo through the switch (ARP flooded, then learned)
#   qemu-switch-udp    a paced UDP stream arrives complete; the switch's port
#                      counters account for it
set -u
. "$(dirname "$0")/lib/lib.sh"
make_tmpdir tmp
qemu=$(command -v qemu-system-x86_64 || true)
[ -n "$qemu" ] || { skip "qemu-switch: qemu-system-x86_64 not installed"; finish; }
[ -r "$GUEST" ] || { fail "qemu-switch: $GUEST missing (make guest)"; finish; }
if [ -z "$(kvm_unavailable)" ]; then
    accel=(-enable-kvm -cpu host,-arch-capabilities); mode=kvm
else
    accel=(-accel tcg -cpu max); mode="tcg: $(kvm_unavailable)"
fi
sw="qsw$$"
cleanup_switch() { "$VPIO" switch rm -f "$sw" >/dev/null 2>&1; }
trap 'cleanup; cleanup_switch' EXIT

port_base=$((20000 + ($$ % 20000)))

# attach NAME TCPPORT: a qemu-port relay for one guest
attach() {
    "$VPIO" qemu-port -i "$sw:$1" -l "127.0.0.1:$2" -T 120 -q >"$tmp/relay-$1.out" 2>&1 &
    track_pid $!
    for _ in $(seq 50); do grep -q listening "$tmp/relay-$1.out" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}

# guest NAME TCPPORT MAC CMDLINE (background)
guest() {
    timeout 100 "$qemu" "${accel[@]}" -machine pc -m 64M -nodefaults -display none \
        -monitor none -serial "file:$tmp/$1.out" -no-reboot \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -netdev "socket,id=n0,connect=127.0.0.1:$2" -device "e1000,netdev=n0,mac=$3" \
        -kernel "$GUEST" -append "$4" >"$tmp/$1.log" 2>&1 &
    track_pid $!
}

wait_result() { # NAME APP: waits up to 90 s for the RESULT line
    for _ in $(seq 900); do
        grep -q "^RESULT app=$2" "$tmp/$1.out" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

run_pair() { # TAG SERVER_CMD CLIENT_CMD SERVER_APP CLIENT_APP
    local tag=$1
    local pa=$((port_base + ${#tag})) pb=$((port_base + 100 + ${#tag}))
    attach "$tag-a" "$pa" && attach "$tag-b" "$pb" || { fail "qemu-switch-$tag: relay did not start"; return 1; }
    guest "$tag-b" "$pb" 52:54:00:12:36:02 "$2"
    sleep 2
    guest "$tag-a" "$pa" 52:54:00:12:36:01 "$3"
    wait_result "$tag-a" "$5" && wait_result "$tag-b" "$4"
}

if run_pair ping "echo ip=198.18.0.2 duration=60 idle=1500" \
    "ping ip=198.18.0.1 peer=198.18.0.2 count=5 interval=100" echo ping; then
    line=$(grep '^RESULT app=ping' "$tmp/ping-a.out")
    if echo "$line" | grep -q 'received=5'; then
        pass "qemu-switch-ping ($mode; $(echo "$line" | grep -o 'rtt_avg_us=[0-9]*'))"
    else
        fail "qemu-switch-ping: $line"
    fi
else
    fail "qemu-switch-ping: no RESULT ($(tail -n 2 "$tmp"/ping-*.out 2>/dev/null | tr '\n' ' '))"
fi

n=2000
if run_pair udp "udp-recv ip=198.18.0.2 count=$n timeout=80 idle=5000" \
    "udp-send ip=198.18.0.1 peer=198.18.0.2 count=$n rate=2000 len=18" udp-recv udp-send; then
    rx=$(grep '^RESULT app=udp-recv' "$tmp/udp-b.out")
    got=$(echo "$rx" | grep -o ' pkts=[0-9]*' | cut -d= -f2)
    # The sender's relay put every datagram (plus ARP) into the switch.
    for _ in $(seq 50); do grep -q '^RESULT' "$tmp/relay-udp-a.out" && break; sleep 0.1; done
    relay=$(grep '^RESULT' "$tmp/relay-udp-a.out")
    into=$(echo "$relay" | grep -o 'to_switch=[0-9]*' | cut -d= -f2)
    if [ "${got:-0}" -eq "$n" ] && [ "${into:-0}" -ge "$n" ]; then
        pass "qemu-switch-udp ($mode; $n datagrams, $(echo "$rx" | grep -o ' pps=[0-9]*'), relay: $relay)"
    else
        fail "qemu-switch-udp: received ${got:-none} of $n; relay: ${relay:-no RESULT}; $rx"
    fi
else
    fail "qemu-switch-udp: no RESULT ($(tail -n 2 "$tmp"/udp-*.out 2>/dev/null | tr '\n' ' '))"
fi
finish
