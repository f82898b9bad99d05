#!/usr/bin/env bash
# Two QEMU VMs with virtio-net on DPDK testpmd's two vhost-user ports
# (forward-mode io), the same guest image as `vpio bench`: pktgen (ring API)
# or udp-send/udp-recv (socket API), one run per frame size, SECONDS each.
# Prints the receiver's RESULT line and testpmd's CPU use. Until the
# qemu-virtio+dpdk rows are wired into `vpio bench`, this is how they are
# measured (docs/results.md, "virtio-net peers").
#   bench/virtio_dpdk_pair.sh [ring|socket] [60 1514 ...]
set -u
api=${1:-ring}
shift || true
sizes=${*:-60 1514}
secs=${SECONDS_RUN:-5}
kernel=${KERNEL:-build/guest.elf}
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; [ -n "${KEEP:-}" ] && echo "logs in $tmp" || rm -rf "$tmp"' EXIT
vm() { # NAME SOCK MAC CPU CMDLINE
    exec taskset -c "$4" timeout $((secs + 60)) qemu-system-x86_64 -enable-kvm -cpu host,-arch-capabilities \
        -machine pc,memory-backend=mem -m 128M -object memory-backend-memfd,id=mem,size=128M,share=on \
        -nodefaults -display none -monitor none -serial "file:$tmp/$1.out" -no-reboot \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 -chardev "socket,id=c0,path=$2" \
        -netdev vhost-user,id=n0,chardev=c0 -device "virtio-net-pci,netdev=n0,mac=$3,rx_queue_size=1024,tx_queue_size=1024" \
        -kernel "$kernel" -append "$5" >"$tmp/$1.log" 2>&1
}
for len in $sizes; do
    rm -f "$tmp"/*.sock "$tmp"/*.out
    # --stats-period: testpmd runs until signalled instead of reading stdin
    # (a "sleep |" feed was seen to end it at once here).
    (exec dpdk-testpmd --no-huge -m 512 --no-pci --file-prefix="vb$$-$len" -l 0,1 \
        --vdev "net_vhost0,iface=$tmp/a.sock" --vdev "net_vhost1,iface=$tmp/b.sock" -- \
        --forward-mode=io --auto-start --nb-cores=1 --total-num-mbufs=8192 --stats-period=1000 \
        </dev/null >"$tmp/testpmd.log" 2>&1) &
    tp=$!
    pids+=("$tp")
    for _ in $(seq 100); do [ -S "$tmp/b.sock" ] && [ -S "$tmp/a.sock" ] && break; sleep 0.2; done
    sleep 1
    if [ "$api" = ring ]; then
        rxc="pktgen rx timeout=$((secs + 30)) idle=1000"
        txc="pktgen tx len=$len duration=$secs batch=512 dst=52:54:00:12:38:02"
        ready="pktgen: rx ready"
    else
        rxc="udp-recv ip=198.18.0.2 timeout=$((secs + 30)) idle=1000"
        txc="udp-send ip=198.18.0.1 peer=198.18.0.2 len=$((len - 42)) duration=$secs"
        ready="udp-recv: ready"
    fi
    vm rx "$tmp/b.sock" 52:54:00:12:38:02 1 "$rxc" &
    rp=$!
    pids+=("$rp")
    for _ in $(seq 300); do grep -q "$ready" "$tmp/rx.out" 2>/dev/null && break; sleep 0.1; done
    tpid=""
    for p in $(pgrep dpdk-testpmd); do grep -q "vb$$-$len" "/proc/$p/cmdline" 2>/dev/null && tpid=$p; done
    t0=$(awk '{print $14+$15}' "/proc/${tpid:-0}/stat" 2>/dev/null || echo 0)
    vm tx "$tmp/a.sock" 52:54:00:12:38:01 0 "$txc" &
    txp=$!
    pids+=("$txp")
    wait "$txp"
    wait "$rp"
    t1=$(awk '{print $14+$15}' "/proc/${tpid:-0}/stat" 2>/dev/null || echo 0)
    cpus=$(ps -L -o psr=,pcpu=,comm= -p "${tpid:-0}" 2>/dev/null | tr -s ' ' | tr '\n' ';')
    kill -INT "$tp" 2>/dev/null
    wait "$tp" 2>/dev/null
    grep -E "RX-packets|TX-packets" "$tmp/testpmd.log" | tail -n 2 | tr -s ' ' | tr '\n' ' '
    echo
    echo "len=$len api=$api testpmd_cpu_ticks=$(( ${t1:-0} - ${t0:-0} )) (1/100 s) testpmd_threads(cpu,%cpu,name)=[$cpus]"
    grep "^RESULT" "$tmp/rx.out" | cut -c1-330
    grep "^RESULT" "$tmp/tx.out" | cut -c1-200
done
