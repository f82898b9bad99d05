#!/usr/bin/env bash
# The CSB where it was designed to pay off (issue 15): one VM sending
# 60-byte frames (guest `pktgen tx`, ring API, half a ring per sync) through
# the switch to a host `vpio pktgen -f rx`, with the VM's CSB thread on the
# other core, next to the same VM without the CSB (classic driver: one TDT
# write per sync). Placement: the VM's vCPU and its other threads on CPU 0;
# its `csb-io` thread and the host receiver (sleeping in the switch futex,
# not busy-polling) on CPU 1. The VM starts on both CPUs (--cpus 0-1) and
# each thread is pinned once it exists.
# Per row, the median of REPS runs: frames/s the guest sent, frames/s the
# host received, VM exits per frame (counted by the VMM), interrupts per
# frame the guest took.
#   bench/csb_host_rx.sh [SECONDS [REPS]]     (default 3 s, 3 runs)
#   BUILD=dir   use dir/vpio and dir/guest.elf (default build)
#   RING=N      the guest's e1000 ring (ring=, default 4096; N/2 frames per sync)
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/.."
VPIO=$BUILD/vpio
GUEST=$BUILD/guest.elf
T=${1:-3}
REPS=${2:-3}
RING=${RING:-4096}
SW=csbh$$
MAC=52:54:00:31:00:02
tmp=$(mktemp -d /tmp/vpio-csbhost.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    "$VPIO" switch rm -f "$SW" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
[ -r /dev/kvm ] && [ -w /dev/kvm ] || { echo "csb_host_rx: needs /dev/kvm" >&2; exit 1; }
[ "$(nproc)" -ge 2 ] || { echo "csb_host_rx: needs two CPUs" >&2; exit 1; }

tx_key() { grep '^RESULT app=pktgen role=tx ' "$2" | tail -n 1 | grep -o " $1=[0-9]*" | cut -d= -f2; }
rx_key() { grep '^RESULT app=pktgen role=rx ' "$2" | tail -n 1 | grep -o " $1=[0-9]*" | cut -d= -f2; }
vmm_exits() { sed -n 's/^vpio stats: exits total=\([0-9]*\).*/\1/p' "$1" | tail -n 1; }
median() { sort -g | awk '{a[NR]=$1} END {print NR ? a[int((NR+1)/2)] : "n/a"}'; }

# pin_threads PID: csb-io on CPU 1, every other thread of the VM on CPU 0
pin_threads() {
    local t comm
    for t in /proc/"$1"/task/*; do
        comm=$(cat "$t/comm" 2>/dev/null) || continue
        if [ "$comm" = csb-io ]; then
            taskset -p -c 1 "${t##*/}" >/dev/null
        else
            taskset -p -c 0 "${t##*/}" >/dev/null
        fi
    done
}

run() { # MODE -> "tx_pps rx_pps exits_per_frame irqs_per_frame"
    taskset -c 1 "$VPIO" pktgen -i "$SW:host" -f rx -T $((T + 30)) -W 2 -q >"$tmp/rx.log" 2>&1 &
    local rx=$!
    pids+=("$rx")
    "$VPIO" vm --cpus 0-1 --kernel "$GUEST" --timeout $((T + 30)) --stats --nic "$SW:vm,mac=$MAC" \
        --cmdline "pktgen tx len=60 duration=$T batch=$((RING / 2)) ring=$RING dst=ff:ff:ff:ff:ff:ff txmode=$1" \
        >"$tmp/vm.log" 2>&1 &
    local vm=$!
    pids+=("$vm")
    # pin as soon as the VM's threads exist (the CSB thread starts when the
    # guest enables the CSB), then once more a little later
    for _ in 1 2 3 4 5 6 7 8 9 10; do sleep 0.1; pin_threads "$vm"; done
    sleep 0.5
    pin_threads "$vm"
    wait "$vm"
    wait "$rx"
    local pkts pps exits irqs rpps
    pkts=$(tx_key pkts "$tmp/vm.log") pps=$(tx_key pps "$tmp/vm.log")
    exits=$(vmm_exits "$tmp/vm.log") irqs=$(tx_key irqs "$tmp/vm.log")
    rpps=$(rx_key pps "$tmp/rx.log")
    [ -n "$pkts" ] && [ "$pkts" -gt 0 ] || { echo "0 0 0 0"; return; }
    awk -v p="$pps" -v r="${rpps:-0}" -v n="$pkts" -v e="${exits:-0}" -v i="${irqs:-0}" \
        'BEGIN {printf "%d %d %.4f %.4f\n", p, r, e / n, i / n}'
}

echo "csb_host_rx: $T s per run, $REPS runs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| guest driver | sent frames/s | received frames/s (host) | exits/frame | irqs/frame |"
echo "| --- | ---: | ---: | ---: | ---: |"
for mode in classic csb; do
    tx=() rx=() ex=() ir=()
    for _ in $(seq "$REPS"); do
        r=$(run "$mode")
        tx+=("$(echo "$r" | cut -d' ' -f1)")
        rx+=("$(echo "$r" | cut -d' ' -f2)")
        ex+=("$(echo "$r" | cut -d' ' -f3)")
        ir+=("$(echo "$r" | cut -d' ' -f4)")
    done
    printf '| %s | %s | %s | %s | %s |\n' "$mode" "$(printf '%s\n' "${tx[@]}" | median)" \
        "$(printf '%s\n' "${rx[@]}" | median)" "$(printf '%s\n' "${ex[@]}" | median)" \
        "$(printf '%s\n' "${ir[@]}" | median)"
done
