#!/usr/bin/env bash
# The main job, for a newcomer on a fresh machine: installs what is missing,
# builds everything, then
#   - boots the guest selftest (vpio with KVM; QEMU always, TCG without KVM);
#   - runs `vpio bench --quick`: two VMs per configuration exchanging 60-byte
#     frames guest to guest, vpio (switch or tap) and QEMU side by side, with
#     packets/s, exits and interrupts per packet (without KVM it says so
#     loudly: the vpio rows are not run and QEMU runs under TCG);
#   - host pktgen sender → vpio switch → pktgen receiver, rates printed.
set -u
cd "$(dirname "$0")/.."
scripts/deps.sh bench || exit 1
make -j"$(nproc 2>/dev/null || echo 2)" all >/dev/null || { echo "build failed" >&2; exit 1; }
status=0

echo "=== guest selftest ==="
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
    echo "--- vpio vm (KVM) ---"
    build/vpio vm --kernel build/guest.elf --cmdline selftest --timeout 60 --stats
    [ $? -eq 1 ] || status=1
    echo "--- qemu-system-x86_64 (KVM) ---"
    accel="-enable-kvm -cpu host,-arch-capabilities"
else
    echo "*** /dev/kvm is missing: vpio needs KVM to run a VM; showing the same guest under QEMU (TCG) instead ***"
    accel="-accel tcg -cpu max"
fi
# shellcheck disable=SC2086
timeout 120 qemu-system-x86_64 $accel -m 64M -nographic -no-reboot -kernel build/guest.elf \
    -append selftest -device isa-debug-exit,iobase=0xf4,iosize=0x04
[ $? -eq 1 ] || status=1

echo "=== vpio bench --quick (guest to guest) ==="
build/vpio bench --quick || status=1

if [ -x build/vpio ] && build/vpio --help | grep -q pktgen; then
    echo "=== host pktgen → switch vale-demo → pktgen (60-byte frames, 3 s) ==="
    build/vpio pktgen -i vale-demo:rx -f rx -T 4 >/tmp/vpio-demo-rx.$$ 2>&1 &
    rx=$!
    sleep 0.5
    build/vpio pktgen -i vale-demo:tx -f tx -l 60 -T 3 -b 256 -d ff:ff:ff:ff:ff:ff | tail -n 1
    wait $rx
    tail -n 1 /tmp/vpio-demo-rx.$$
    rm -f /tmp/vpio-demo-rx.$$
    build/vpio switch rm vale-demo >/dev/null 2>&1
fi
exit $status
