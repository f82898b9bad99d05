# Helpers for integration scripts: result lines and cleanup of what a test
# started (only its own processes, by PID).
BUILD=${BUILD:-build}
VPIO=${VPIO:-$BUILD/vpio}
GUEST=${GUEST:-$BUILD/guest.elf}
_pids=()
_tmpdirs=()
_failed=0

pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; _failed=1; }
skip() { echo "SKIP $*"; echo "WARNING: skipped: $*" >&2; }

# Background a command and remember its PID for cleanup.
track_pid() { _pids+=("$1"); }
# make_tmpdir VAR: a temp dir removed at exit, its path in $VAR (not
# $(make_tmpdir): in a subshell the record of it for cleanup would be lost).
make_tmpdir() { local d; d=$(mktemp -d /tmp/vpio-test.XXXXXX); _tmpdirs+=("$d"); printf -v "$1" '%s' "$d"; }

cleanup() {
    local p d
    for p in "${_pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${_pids[@]}"; do wait "$p" 2>/dev/null; done
    for d in "${_tmpdirs[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT

# Why KVM cannot be used here, or empty if it can.
kvm_unavailable() {
    if [ ! -e /dev/kvm ]; then
        echo "/dev/kvm missing (no hardware virtualization on this machine)"
    elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
        echo "/dev/kvm not accessible to $(id -un)"
    fi
}

finish() { exit "$_failed"; }
