#!/bin/sh
# Source-based coverage of the e1000 model (src/dev) reached by the
# fuzz_e1000 corpus: builds the target with clang's
# -fprofile-instr-generate -fcoverage-mapping (no sanitizers), replays every
# input of the corpus directories once (-runs=0), merges the profile with
# llvm-profdata and prints llvm-cov's per-file report (lines, functions,
# regions) for src/dev, then the functions no input reached.
#
#   scripts/coverage-e1000.sh [--src FUZZER.c] [--out DIR] [CORPUS_DIR...]
#
# Defaults: the target tests/fuzz/fuzz_e1000.c, output in build/cov-e1000,
# corpus build/fuzz/corpus-fuzz_e1000 (what `make fuzz` grows) and
# tests/fuzz/seeds/fuzz_e1000. `make coverage-e1000` runs it with the
# defaults. Needs clang, llvm-profdata and llvm-cov (Debian: clang, llvm).
set -eu

src=tests/fuzz/fuzz_e1000.c
out=build/cov-e1000
while [ $# -gt 0 ]; do
    case "$1" in
    --src) src=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
    --) shift; break ;;
    -*) echo "coverage-e1000: unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
done
if [ $# -eq 0 ]; then
    set --
    [ -d build/fuzz/corpus-fuzz_e1000 ] && set -- "$@" build/fuzz/corpus-fuzz_e1000
    [ -d tests/fuzz/seeds/fuzz_e1000 ] && set -- "$@" tests/fuzz/seeds/fuzz_e1000
fi
for d in "$@"; do
    [ -d "$d" ] || { echo "coverage-e1000: no corpus directory $d" >&2; exit 2; }
done
[ $# -gt 0 ] || { echo "coverage-e1000: no corpus (run make fuzz first)" >&2; exit 2; }

for tool in clang llvm-profdata llvm-cov; do
    command -v $tool >/dev/null || { echo "coverage-e1000: $tool not found" >&2; exit 2; }
done

mkdir -p "$out"
lib_srcs=$(ls src/vmm/*.c src/dev/*.c src/net/*.c src/switch/*.c)
cli_srcs=$(ls src/cli/*.c | grep -v '^src/cli/main\.c$')
bin=$out/fuzz_e1000
# shellcheck disable=SC2086 # the source lists are word lists
clang -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude -Isrc -pthread \
    -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping \
    -o "$bin" "$src" $lib_srcs $cli_srcs -lpthread -lpcap

rm -f "$out"/*.profraw
n=$(find "$@" -type f | wc -l)
echo "coverage-e1000: replaying $n inputs from $*" >&2
# The replay must not stop at a crashing input: each one is run once.
LLVM_PROFILE_FILE="$out/replay-%p.profraw" "$bin" -runs=0 -rss_limit_mb=2048 \
    "$@" >"$out/replay.log" 2>&1 || echo "coverage-e1000: replay exited $? (see $out/replay.log)" >&2
llvm-profdata merge -sparse "$out"/*.profraw -o "$out/e1000.profdata"

echo "== src/dev coverage ($n inputs, $(basename "$src"))"
llvm-cov report "$bin" -instr-profile="$out/e1000.profdata" src/dev/*.c
echo
echo "== src/dev functions not reached"
llvm-cov report "$bin" -instr-profile="$out/e1000.profdata" -show-functions src/dev/*.c |
    awk '/^File / { f = $2; gsub(/.*\/|[\x27:]/, "", f) }
         $1 ~ /^[A-Za-z_]/ && $1 != "TOTAL" && NF >= 10 && $7 == "0.00%" { print "  " f ": " $1 }'
