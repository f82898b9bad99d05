#!/usr/bin/env bash
# Boot time of the guest selftest: wall time from launching the VMM to the
# guest's first serial line and to the VM's exit, for vpio (when /dev/kvm is
# usable) and QEMU (KVM when usable, otherwise TCG — reported as such).
# Usage: bench/boot_time.sh [RUNS]   (default 5; medians are printed)
set -u
cd "$(dirname "$0")/.."
runs=${1:-5}
BUILD=${BUILD:-build}
guest=$BUILD/guest.elf
[ -r "$guest" ] || { echo "build the guest first (make)" >&2; exit 1; }

# time_run CMD...: prints "first_ms exit_ms status"
time_run() {
    local fifo t0 first="" line st
    fifo=$(mktemp -u /tmp/vpio-boot.XXXXXX)
    mkfifo "$fifo"
    t0=$(date +%s%N)
    "$@" >"$fifo" 2>/dev/null &
    local pid=$!
    while IFS= read -r line; do
        [ -z "$first" ] && first=$(( ($(date +%s%N) - t0) / 1000 ))
    done <"$fifo"
    wait "$pid"; st=$?
    local end=$(( ($(date +%s%N) - t0) / 1000 ))
    rm -f "$fifo"
    echo "${first:-0} $end $st"
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "n/a"}'; }

measure() { # label cmd...
    local label=$1; shift
    local firsts=() exits=() r ok=1
    for _ in $(seq "$runs"); do
        r=$(time_run "$@")
        firsts+=("$(echo "$r" | awk '{print $1}')")
        exits+=("$(echo "$r" | awk '{print $2}')")
        [ "$(echo "$r" | awk '{print $3}')" = 1 ] || ok=0
    done
    local f e
    f=$(printf '%s\n' "${firsts[@]}" | median)
    e=$(printf '%s\n' "${exits[@]}" | median)
    printf '| %-34s | %8.1f | %8.1f | %s |\n' "$label" "$(awk "BEGIN {print $f/1000}")" \
        "$(awk "BEGIN {print $e/1000}")" "$([ $ok = 1 ] && echo ok || echo FAILED)"
}

echo "| VMM | first line (ms) | exit (ms) | selftest |"
echo "| --- | ---: | ---: | --- |"
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
    measure "vpio vm (KVM)" "$BUILD/vpio" vm --kernel "$guest" --cmdline selftest --timeout 60
    measure "qemu-system-x86_64 (KVM)" qemu-system-x86_64 -enable-kvm -cpu host,-arch-capabilities \
        -m 64M -nographic -no-reboot -kernel "$guest" -append selftest \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04
else
    echo "| vpio vm | – | – | not run: /dev/kvm missing |"
    measure "qemu-system-x86_64 (TCG, no KVM)" qemu-system-x86_64 -accel tcg -cpu max \
        -m 64M -nographic -no-reboot -kernel "$guest" -append selftest \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04
fi
echo
echo "medians of $runs runs; $(nproc) cores; $(date -u +%Y-%m-%d)"
