#!/usr/bin/env bash
# Runs every unit test binary (cmocka) and every integration script, then
# prints one summary line: "N passed, N failed, N skipped".
#
# Integration scripts (tests/integration/*.sh) report each check on stdout as
#   PASS <name> | FAIL <name>: <why> | SKIP <name>: <why>
# and exit non-zero if anything failed. A script that exits non-zero without
# printing a FAIL line is counted as one failure.
set -u
BUILD=${BUILD:-build}
export BUILD
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
passed=0 failed=0 skipped=0
failures=()
log_dir="$BUILD/test-logs"
mkdir -p "$log_dir"
# Every FAIL line with its script and time, for scripts/test.sh to repeat at
# the very end: a CI record that keeps only the tail still names them.
fail_list="$BUILD/test-failures"
: >"$fail_list"

for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    out="$log_dir/$name.log"
    "$t" >"$out" 2>&1
    rc=$?
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -n 1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -n 1)
    p=${p:-0}; f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$f" -ne 0 ]; then
        failures+=("$name")
        echo "FAIL unit/$name (log: $out)" | tee -a "$fail_list"
        sed -n '/FAILED\|ERROR\|Failure\|error:/p' "$out" | head -n 20
    else
        echo "PASS unit/$name ($p cases)"
    fi
done

# INTEGRATION_ONLY="a b": run only these scripts (`make check` passes the
# Makefile's SAN_INTEGRATION: the ones whose host side is vpio's own code).
# Shared libraries live in tests/integration/lib/ and are not tests; a
# *lib.sh left at the top level is not run either.
for s in tests/integration/*.sh; do
    [ -f "$s" ] || continue
    name=$(basename "$s" .sh)
    case "$name" in lib | *_lib) continue ;; esac
    if [ -n "${INTEGRATION_ONLY:-}" ] && ! printf ' %s ' "$INTEGRATION_ONLY" | grep -q " $name "; then
        continue
    fi
    out="$log_dir/$name.log"
    started=$SECONDS
    bash "$s" >"$out" 2>&1
    rc=$?
    took=$((SECONDS - started))
    p=$(grep -c '^PASS ' "$out"); f=$(grep -c '^FAIL ' "$out"); k=$(grep -c '^SKIP ' "$out")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "FAIL integration/$name: exit status $rc without a FAIL line" | tee -a "$fail_list"
    fi
    echo "  [$name] took ${took}s"
    grep -E '^(PASS|FAIL|SKIP) ' "$out" | sed "s|^|  [$name] |"
    if [ "$f" -ne 0 ]; then
        failures+=("$name")
        echo "  (log: $out)"; tail -n 30 "$out" | sed 's/^/    | /'
        grep '^FAIL ' "$out" | sed "s|^|[$name after ${took}s] |" >>"$fail_list"
    fi
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + k))
done

if [ "$skipped" -gt 0 ]; then
    echo "NOTE: $skipped check(s) SKIPPED (see SKIP lines above) — they did not run and did not pass."
fi
echo "$passed $failed $skipped" >"$BUILD/test-summary"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
