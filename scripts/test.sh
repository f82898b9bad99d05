#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, then
#   1. builds everything and runs unit + integration tests,
#   2. runs them again built with AddressSanitizer + UBSan,
#   3. runs every libFuzzer target for a bounded time (FUZZ_SECONDS, default 15).
# Ends with one line: "N passed, N failed, N skipped" over all three.
set -u
cd "$(dirname "$0")/.."
scripts/deps.sh test || exit 1
jobs=$(nproc 2>/dev/null || echo 2)
total_p=0 total_f=0 total_s=0
add_summary() { # $1 = summary file ("passed failed skipped"), missing = one failure
    if [ -f "$1" ]; then
        read -r p f s <"$1"
    else
        p=0 f=1 s=0
    fi
    total_p=$((total_p + p)); total_f=$((total_f + f)); total_s=$((total_s + s))
}

mkdir -p build/san build/fuzz
echo "=== 1/3 build and test (gcc -O2) ==="
rm -f build/test-summary build/test-failures
if make -j"$jobs" all unit >build/make.log 2>&1 || { cat build/make.log; false; }; then
    make --no-print-directory test
fi
add_summary build/test-summary

echo "=== 2/3 build and test under AddressSanitizer + UBSan ==="
mkdir -p build/san
rm -f build/san/test-summary build/san/test-failures
if make -j"$jobs" BUILD=build/san SAN=1 OPT=-O1 all unit >build/san-make.log 2>&1 || { cat build/san-make.log; false; }; then
    # unit tests and the integration scripts the Makefile's SAN_INTEGRATION
    # names (those whose host side is vpio's code; the guest-only QEMU
    # tests ran in pass 1 and would run the same QEMU and guest again)
    make --no-print-directory check
fi
add_summary build/san/test-summary

echo "=== 3/3 fuzz targets (${FUZZ_SECONDS:-15} s each) ==="
rm -f build/fuzz/fuzz-summary
if make -j"$jobs" fuzz-build >build/fuzz-make.log 2>&1 || { cat build/fuzz-make.log; false; }; then
    make --no-print-directory fuzz-run FUZZ_SECONDS="${FUZZ_SECONDS:-15}"
fi
add_summary build/fuzz/fuzz-summary

for f in build/test-failures build/san/test-failures; do
    if [ -s "$f" ]; then
        echo "=== failed checks ($f; logs in $(dirname "$f")/test-logs) ==="
        cat "$f"
    fi
done
echo
echo "$total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" -eq 0 ]
