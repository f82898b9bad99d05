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
add_summary() { # $1 = build dir
    if [ -f "$1/test-summary" ]; then
        read -r p f s <"$1/test-summary"
    else
        p=0 f=1 s=0
    fi
    total_p=$((total_p + p)); total_f=$((total_f + f)); total_s=$((total_s + s))
}

mkdir -p build/san build/fuzz
echo "=== 1/3 build and test (gcc -O2) ==="
rm -f build/test-summary
if make -j"$jobs" all unit >build/make.log 2>&1 || { cat build/make.log; false; }; then
    make --no-print-directory test
fi
add_summary build

echo "=== 2/3 build and test under AddressSanitizer + UBSan ==="
mkdir -p build/san
rm -f build/san/test-summary
if make -j"$jobs" BUILD=build/san SAN=1 OPT=-O1 all unit >build/san-make.log 2>&1 || { cat build/san-make.log; false; }; then
    # Integration scripts whose host side is vpio's code (the guest-only QEMU
    # tests ran in pass 1 and would run the same QEMU and guest again).
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        INTEGRATION_ONLY="vm_boot switch_pktgen qemu_switch host_guest_pktgen vpio_switch_vms vpio_host_guest vpio_chain vpio_tap_bridge vpio_csb_gaps vhost_user_testpmd" \
        make --no-print-directory BUILD=build/san SAN=1 OPT=-O1 test
fi
add_summary build/san

echo "=== 3/3 fuzz targets (${FUZZ_SECONDS:-15} s each) ==="
make -j"$jobs" fuzz-build >build/fuzz-make.log 2>&1 || { cat build/fuzz-make.log; total_f=$((total_f + 1)); }
for f in build/fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    n=$(basename "$f")
    mkdir -p "build/fuzz/corpus-$n"
    seeds=""
    [ -d "tests/fuzz/seeds/$n" ] && seeds="tests/fuzz/seeds/$n"
    if "$f" -max_total_time="${FUZZ_SECONDS:-15}" -rss_limit_mb=2048 -print_final_stats=1 "build/fuzz/corpus-$n" $seeds \
        >"build/fuzz/$n.log" 2>&1; then
        echo "PASS fuzz/$n ($(grep -o 'stat::number_of_executed_units: [0-9]*' "build/fuzz/$n.log" | awk '{print $2}') runs)"
        total_p=$((total_p + 1))
    else
        echo "FAIL fuzz/$n (log: build/fuzz/$n.log)"; tail -n 40 "build/fuzz/$n.log"
        total_f=$((total_f + 1))
    fi
done

echo
echo "$total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" -eq 0 ]
