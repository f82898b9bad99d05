#!/usr/bin/env bash
# Boots build/guest.elf on QEMU (PVH via -kernel) and checks the selftest:
#   qemu-selftest       RESULT line with ok=1, exit status 1 (debug-exit 0)
#   qemu-unknown-app    an unknown app name: clear error, exit status 5
#   qemu-fatal-exception  an uncaught #PF: FATAL line with CR2, exit status 7
# Uses KVM when /dev/kvm is usable, TCG otherwise, and says which.
# Each QEMU runs under `timeout 60`; only our own QEMU PIDs are killed.
set -u
. "$(dirname "$0")/lib/qemu_lib.sh"
qemu_setup qemu-selftest

# run NAME CMDLINE: boots the guest, output in $tmp/NAME.out, status in $tmp/NAME.rc
run() {
    local name=$1 cmdline=$2
    timeout 60 "$qemu" "${accel[@]}" -machine pc -m 64M -nodefaults -display none \
        -monitor none -serial "file:$tmp/$name.out" -no-reboot \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -kernel "$kernel" -append "$cmdline" >"$tmp/$name.log" 2>&1 &
    local pid=$!
    pids+=("$pid")
    wait "$pid"
    echo $? >"$tmp/$name.rc"
    tr -d '\r' <"$tmp/$name.out" >"$tmp/$name.txt" 2>/dev/null || true
    echo "--- guest output ($name: $cmdline) ---"
    cat "$tmp/$name.txt"
    cat "$tmp/$name.log"
}

fails=0
start=$(date +%s%N)
run selftest "selftest"
ms=$((($(date +%s%N) - start) / 1000000))
rc=$(cat "$tmp/selftest.rc")
result=$(grep '^RESULT app=selftest' "$tmp/selftest.txt" | tail -n 1)
if [ "$rc" = 124 ]; then
    echo "FAIL qemu-selftest: timed out after 60 s ($mode)"; fails=1
elif [ -z "$result" ]; then
    echo "FAIL qemu-selftest: no RESULT line (exit status $rc, $mode)"; fails=1
elif ! grep -q ' ok=1 ' <<<"$result"; then
    echo "FAIL qemu-selftest: $result ($mode)"; fails=1
elif [ "$rc" != 1 ]; then
    echo "FAIL qemu-selftest: exit status $rc, want 1 ($mode)"; fails=1
elif ! grep -q '^vpio-guest: boot$' "$tmp/selftest.txt"; then
    echo "FAIL qemu-selftest: no first line 'vpio-guest: boot' ($mode)"; fails=1
else
    echo "PASS qemu-selftest ($mode; ${ms} ms; $result)"
fi

run unknown "no-such-app"
rc=$(cat "$tmp/unknown.rc")
if [ "$rc" = 5 ] && grep -q "unknown app 'no-such-app'" "$tmp/unknown.txt"; then
    echo "PASS qemu-unknown-app ($mode; exit status 5)"
else
    echo "FAIL qemu-unknown-app: exit status $rc, want 5 and an 'unknown app' error ($mode)"
    fails=1
fi
run crash "crash pf"
rc=$(cat "$tmp/crash.rc")
if [ "$rc" = 7 ] && grep -q "FATAL exception 14 (#PF page fault).*cr2=0x100000000000" "$tmp/crash.txt"; then
    echo "PASS qemu-fatal-exception ($mode; exit status 7)"
else
    echo "FAIL qemu-fatal-exception: exit status $rc, want 7 and a FATAL #PF line ($mode)"
    fails=1
fi
exit "$fails"
