#!/usr/bin/env bash
# Two QEMU VMs running build/guest.elf exchange frames over QEMU's e1000:
# `pktgen rx count=N` listens on a loopback socket netdev, `pktgen tx` on the
# other VM connects and sends N frames to the receiver's MAC.
#   qemu-e1000-tx   the sender's RESULT line: pkts=N, exit status 1
#   qemu-e1000-rx   the receiver's RESULT line: pkts=N drops=0, exit status 1
# KVM when /dev/kvm is usable, TCG otherwise. Only our own QEMUs are killed.
set -u
. "$(dirname "$0")/lib/qemu_lib.sh"
qemu_setup qemu-e1000
count=${COUNT:-1000}

# A free loopback port: ask the kernel for one.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)))
rx_mac=52:54:00:12:34:51
tx_mac=52:54:00:12:34:52

vm() {   # vm NAME NETDEV MAC CMDLINE
    timeout 60 "$qemu" "${accel[@]}" -machine pc -m 64M -nodefaults -display none \
        -monitor none -serial "file:$tmp/$1.out" -no-reboot \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -netdev "socket,id=n0,$2" -device "e1000,netdev=n0,mac=$3" \
        -kernel "$kernel" -append "$4" >"$tmp/$1.log" 2>&1
}

vm rx "listen=127.0.0.1:$port" "$rx_mac" "pktgen rx count=$count timeout=40" &
rx_pid=$!
pids+=("$rx_pid")
for _ in $(seq 200); do
    grep -q 'pktgen: rx ready' "$tmp/rx.out" 2>/dev/null && break
    kill -0 "$rx_pid" 2>/dev/null || break
    sleep 0.1
done
vm tx "connect=127.0.0.1:$port" "$tx_mac" "pktgen tx count=$count len=60 dst=$rx_mac" &
tx_pid=$!
pids+=("$tx_pid")
wait "$tx_pid"; tx_rc=$?
wait "$rx_pid"; rx_rc=$?

for n in rx tx; do
    tr -d '\r' <"$tmp/$n.out" >"$tmp/$n.txt" 2>/dev/null || true
    echo "--- $n guest output ---"; cat "$tmp/$n.txt" "$tmp/$n.log"
done
tx_res=$(grep '^RESULT app=pktgen role=tx' "$tmp/tx.txt" | tail -n 1)
rx_res=$(grep '^RESULT app=pktgen role=rx' "$tmp/rx.txt" | tail -n 1)
fails=0
if [ "$tx_rc" = 1 ] && grep -q " pkts=$count " <<<"$tx_res"; then
    echo "PASS qemu-e1000-tx ($mode; $tx_res)"
else
    echo "FAIL qemu-e1000-tx: exit status $tx_rc, result '${tx_res:-none}' ($mode)"; fails=1
fi
if [ "$rx_rc" = 1 ] && grep -q " pkts=$count " <<<"$rx_res" && grep -q " drops=0 " <<<"$rx_res"; then
    echo "PASS qemu-e1000-rx ($mode; $rx_res)"
else
    echo "FAIL qemu-e1000-rx: exit status $rx_rc, result '${rx_res:-none}' ($mode)"; fails=1
fi
exit "$fails"
