#!/usr/bin/env bash
# One VM transmitting 60-byte frames (issue 4's measurement): guest
# `pktgen tx` on its e1000, to a null sink and to the vpio switch (a host
# `vpio pktgen -f rx` on another port receives), classic driver, device
# moderation off and on, on vpio and on QEMU's e1000 with the same guest.
# QEMU's null sink is a net hub with no other port (`-netdev hubport`);
# QEMU reaches the switch through `vpio qemu-port`.
#
# Per row: frames/s the guest sent, VM exits per frame (vpio: counted by the
# VMM; QEMU: counted by the guest, its register accesses plus the ICR read of
# each interrupt), interrupts per frame the guest took (both; with KVM's
# in-kernel IOAPIC here a level-triggered interrupt reaches the guest twice,
# see docs/results.md), the median of REPS runs.
#
#   bench/tx_single.sh [SECONDS [REPS]]      (default 3 s, 3 runs)
#   BATCHES="1 512"  frames per TDT write (1: the per-packet classic driver)
#   BUILD=dir        use dir/vpio and dir/guest.elf (default build)
# The VM runs on CPU 0, the host receiver on CPU 1.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/.."
VPIO=$BUILD/vpio
GUEST=$BUILD/guest.elf
T=${1:-3}
REPS=${2:-3}
BATCHES=${BATCHES:-1 512}
SW=txs$$
MAC=52:54:00:31:00:01
tmp=$(mktemp -d /tmp/vpio-txsingle.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -f "/dev/shm/vpio-$SW"
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
[ -r /dev/kvm ] && [ -w /dev/kvm ] || { echo "tx_single: needs /dev/kvm" >&2; exit 1; }
command -v qemu-system-x86_64 >/dev/null || { echo "tx_single: needs qemu-system-x86_64" >&2; exit 1; }

# key=value from the guest's RESULT line / vpio's --stats lines
result() { grep '^RESULT app=pktgen role=tx ' "$2" | tail -n 1 | grep -o " $1=[0-9]*" | cut -d= -f2; }
vmm_exits() { sed -n 's/^vpio stats: exits total=\([0-9]*\).*/\1/p' "$1" | tail -n 1; }
median() { sort -g | awk '{a[NR]=$1} END {print NR ? a[int((NR+1)/2)] : "n/a"}'; }

# Moderation "on" is both halves: the device emulates it (mitigation=on) and
# the guest programs it as Linux's e1000 driver does by default.
guest_cmd() { # batch mitigation
    local mod=""
    [ "$2" = on ] && mod=" itr=195 tidv=8 tadv=32 rdtr=0 radv=8"
    echo "pktgen tx len=60 duration=$T batch=$1 dst=ff:ff:ff:ff:ff:ff txmode=classic napi=0$mod"
}

# host receiver on the switch (only to have the frames go somewhere real)
host_rx() {
    taskset -c 1 "$VPIO" pktgen -i "$SW:host" -f rx -T $((T + 30)) -W 3 -q >"$tmp/hostrx.log" 2>&1 &
    hostrx=$!
    pids+=("$hostrx")
}

run_vpio() { # sink mitigation batch -> "pps exits_per_pkt irqs_per_pkt"
    local nic
    if [ "$1" = null ]; then nic="null,mac=$MAC,mitigation=$2"; else nic="$SW:vm,mac=$MAC,mitigation=$2"; fi
    [ "$1" = switch ] && host_rx
    "$VPIO" vm --cpus 0 --kernel "$GUEST" --timeout $((T + 30)) --stats --nic "$nic" \
        --cmdline "$(guest_cmd "$3" "$2")" >"$tmp/out" 2>&1
    [ "$1" = switch ] && { kill "$hostrx" 2>/dev/null; wait "$hostrx" 2>/dev/null; }
    local pkts pps exits irqs
    pkts=$(result pkts "$tmp/out"); pps=$(result pps "$tmp/out")
    exits=$(vmm_exits "$tmp/out"); irqs=$(result irqs "$tmp/out")
    [ -n "$pkts" ] && [ "$pkts" -gt 0 ] || { echo "0 0 0"; return; }
    awk -v p="$pps" -v n="$pkts" -v e="$exits" -v i="$irqs" 'BEGIN {printf "%d %.4f %.4f\n", p, e/n, i/n}'
}

run_qemu() { # sink mitigation batch
    local netdev relay=""
    if [ "$1" = null ]; then
        netdev="hubport,id=n0,hubid=0"
    else
        local port=$((30000 + $$ % 20000))
        host_rx
        "$VPIO" qemu-port -i "$SW:qemu" -l "127.0.0.1:$port" -T $((T + 60)) -q >"$tmp/relay.log" 2>&1 &
        relay=$!
        pids+=("$relay")
        for _ in $(seq 100); do grep -q listening "$tmp/relay.log" 2>/dev/null && break; sleep 0.05; done
        netdev="socket,id=n0,connect=127.0.0.1:$port"
    fi
    taskset -c 0 timeout $((T + 60)) qemu-system-x86_64 -enable-kvm -cpu host,-arch-capabilities \
        -m 64M -nographic -no-reboot -nodefaults -serial stdio -kernel "$GUEST" \
        -append "$(guest_cmd "$3" "$2")" -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -netdev "$netdev" -device "e1000,netdev=n0,mac=$MAC,mitigation=$2" >"$tmp/out" 2>&1
    if [ -n "$relay" ]; then
        kill "$relay" "$hostrx" 2>/dev/null; wait "$relay" "$hostrx" 2>/dev/null
    fi
    local pkts pps regs irqs
    pkts=$(result pkts "$tmp/out"); pps=$(result pps "$tmp/out")
    regs=$(result reg_accesses "$tmp/out")
    irqs=$(result irqs "$tmp/out")
    [ -n "$pkts" ] && [ "$pkts" -gt 0 ] || { echo "0 0 0"; return; }
    awk -v p="$pps" -v n="$pkts" -v e="$regs" -v i="$irqs" 'BEGIN {printf "%d %.4f %.4f\n", p, (e+i)/n, i/n}'
}

echo "| VMM | sink | moderation | frames per TDT write | frames/s | exits/frame | irqs/frame |"
echo "| --- | --- | --- | ---: | ---: | ---: | ---: |"
for batch in $BATCHES; do
    for sink in null switch; do
        for mit in off on; do
            for vmm in vpio qemu; do
                pps=() ex=() ir=()
                for _ in $(seq "$REPS"); do
                    r=$("run_$vmm" "$sink" "$mit" "$batch")
                    pps+=("$(echo "$r" | cut -d' ' -f1)")
                    ex+=("$(echo "$r" | cut -d' ' -f2)")
                    ir+=("$(echo "$r" | cut -d' ' -f3)")
                done
                label=$vmm; [ "$vmm" = qemu ] && label="qemu (guest-counted exits)"
                printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$sink" "$mit" "$batch" \
                    "$(printf '%s\n' "${pps[@]}" | median)" "$(printf '%s\n' "${ex[@]}" | median)" \
                    "$(printf '%s\n' "${ir[@]}" | median)"
            done
        done
    done
done
