# Shared set-up of the guest-on-QEMU integration scripts (sourced):
#   qemu_setup NAME   finds QEMU and the guest image (SKIP / FAIL and exit
#                     when missing), picks KVM when /dev/kvm is usable and
#                     TCG otherwise (accel array, $mode says which), makes a
#                     temp dir $tmp and a $pids array that are cleaned up on
#                     exit: only the QEMUs the script started are killed.
BUILD=${BUILD:-build}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
cd "$root" || exit 1
kernel="$BUILD/guest.elf"

qemu_cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$tmp"
}

qemu_setup() {
    qemu=$(command -v qemu-system-x86_64 || true)
    if [ -z "$qemu" ]; then
        echo "SKIP $1: qemu-system-x86_64 not installed (scripts/deps.sh test)"
        exit 0
    fi
    if [ ! -f "$kernel" ]; then
        echo "FAIL $1: $kernel missing (make guest)"
        exit 1
    fi
    # /dev/kvm usable is what counts: a paravirtual KVM (KVM-PVM, our build
    # machine) has no vmx/svm flag in /proc/cpuinfo and runs QEMU fine.
    if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
        accel=(-enable-kvm -cpu host,-arch-capabilities)
        mode="kvm"
    else
        accel=(-accel tcg -cpu max)
        if [ -e /dev/kvm ]; then mode="tcg: /dev/kvm not usable"; else mode="tcg: /dev/kvm missing"; fi
    fi
    tmp=$(mktemp -d)
    pids=()
    trap qemu_cleanup EXIT
}
