#!/usr/bin/env bash
# Line and function coverage of one libFuzzer target over the sources it is
# meant to reach, from a fresh run:
#   scripts/coverage.sh TARGET [SECONDS [SOURCES...]]
#     TARGET    a name in tests/fuzz (fuzz_guest_net), or a path to a target's .c
#               (e.g. an older version: git show REV:tests/fuzz/fuzz_x.c >/tmp/x.c),
#               or a cmocka test tests/unit/test_*.c: built the same way and run
#               once (SECONDS ignored), the profiles of its forked children merged
#     SECONDS   fuzzing time (default 60)
#     SOURCES   the files to report (default: by target, e.g. guest/net/*.c for
#               fuzz_guest_net, src/switch/*.c for fuzz_arena)
# Builds the target with clang -fprofile-instr-generate -fcoverage-mapping
# -fsanitize=fuzzer (no ASan: the executions are the target's, not the
# sanitizer's), fuzzes for SECONDS from the target's seeds into an empty
# corpus (single process), then merges the profile (llvm-profdata) and
# prints llvm-cov's report for SOURCES and one line
#   COVERAGE target=... seconds=... execs=N lines=covered/total (P%) functions=covered/total (P%)
# Work files in build/coverage/<name>.
set -eu
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/coverage.sh TARGET [SECONDS [SOURCES...]]}
secs=${2:-60}
shift $(($# >= 2 ? 2 : $#))
if [ -f "$target" ]; then
    src=$target
    name=$(basename "$target" .c)
else
    name=$target
    src=tests/fuzz/$name.c
fi
[ -f "$src" ] || { echo "coverage: no $src" >&2; exit 2; }
if [ "${src#tests/unit/}" != "$src" ]; then
    [ $# -gt 0 ] && sources=("$@") || sources=(src/switch/*.c)
    work=build/coverage/$name
    rm -rf "$work"
    mkdir -p "$work"
    # shellcheck disable=SC2046
    "${CC:-clang}" -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude -Isrc -Itests/unit -pthread \
        -fprofile-instr-generate -fcoverage-mapping -o "$work/bin" "$src" \
        $(ls src/vmm/*.c src/dev/*.c src/net/*.c src/switch/*.c src/cli/*.c | grep -v '^src/cli/main.c$') \
        -lcmocka -lpthread -lpcap
    LLVM_PROFILE_FILE="$work/%p.profraw" "$work/bin" >"$work/run.log" 2>&1 || {
        echo "coverage: the test failed (log: $work/run.log)" >&2; exit 1; }
    "${PROFDATA:-llvm-profdata}" merge -sparse -o "$work/run.profdata" "$work"/*.profraw
    "${COV:-llvm-cov}" report "$work/bin" -instr-profile="$work/run.profdata" "${sources[@]}" | tee "$work/report.txt"
    awk -v t="$name" '/^TOTAL/ { fn = $5; fm = $6; ln = $8; lm = $9
        printf "COVERAGE target=%s lines=%d/%d (%.1f%%) functions=%d/%d (%.1f%%)\n",
            t, ln - lm, ln, 100 * (ln - lm) / ln, fn - fm, fn, 100 * (fn - fm) / fn }' "$work/report.txt"
    exit 0
fi
# the seeds of the target's base name (fuzz_guest_net for fuzz_guest_net_old)
base=$(basename "$src" .c)
case "$base" in fuzz_guest_net*) base=fuzz_guest_net ;; fuzz_arena*) base=fuzz_arena ;; esac
if [ $# -gt 0 ]; then
    sources=("$@")
else
    case "$base" in
    fuzz_guest_net) sources=(guest/net/net_*.c) ;;
    fuzz_arena) sources=(src/switch/*.c) ;;
    fuzz_e1000) sources=(src/dev/e1000*.c) ;;
    *) sources=(src/*/*.c) ;;
    esac
fi
CC=${CC:-clang}
PROFDATA=${PROFDATA:-llvm-profdata}
COV=${COV:-llvm-cov}
for t in "$CC" "$PROFDATA" "$COV"; do
    command -v "$t" >/dev/null || { echo "coverage: $t not found (apt-get install clang llvm)" >&2; exit 2; }
done
work=build/coverage/$name
rm -rf "$work"
mkdir -p "$work/corpus"
lib_srcs=$(ls src/vmm/*.c src/dev/*.c src/net/*.c src/switch/*.c src/cli/*.c | grep -v '^src/cli/main.c$')
# -Itests/fuzz: a copy of a target elsewhere still finds its "../../guest/..." includes
# shellcheck disable=SC2086
"$CC" -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude -Isrc -Itests/fuzz -pthread \
    -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping \
    -o "$work/bin" "$src" $lib_srcs -lpthread -lpcap
seeds=()
[ -d "tests/fuzz/seeds/$base" ] && seeds=("tests/fuzz/seeds/$base")
LLVM_PROFILE_FILE="$work/run.profraw" "$work/bin" -max_total_time="$secs" -print_final_stats=1 \
    -rss_limit_mb=2048 "$work/corpus" "${seeds[@]}" >"$work/fuzz.log" 2>&1 || {
    echo "coverage: the target failed (log: $work/fuzz.log)" >&2
    tail -n 20 "$work/fuzz.log" >&2
    exit 1
}
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log")
"$PROFDATA" merge -sparse -o "$work/run.profdata" "$work/run.profraw"
"$COV" report "$work/bin" -instr-profile="$work/run.profdata" "${sources[@]}" | tee "$work/report.txt"
# TOTAL line: Filename Regions Missed Cover Functions Missed Executed Lines Missed Cover ...
awk -v t="$name" -v s="$secs" -v e="${execs:-?}" '/^TOTAL/ {
    fn = $5; fm = $6; ln = $8; lm = $9
    printf "COVERAGE target=%s seconds=%s execs=%s lines=%d/%d (%.1f%%) functions=%d/%d (%.1f%%)\n",
        t, s, e, ln - lm, ln, 100 * (ln - lm) / ln, fn - fm, fn, 100 * (fn - fm) / fn }' "$work/report.txt"
