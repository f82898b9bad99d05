#!/usr/bin/env bash
# The switch's instructions per frame under callgrind (repeatable whatever
# else the machine does): builds bench/switch_ir.c against build/libvpio.a
# and runs it; prints Ir per frame in sw_forward (inclusive) and in total.
#   bench/switch_ir.sh [COUNT [BATCH]]   (default 200000 frames, batch 256)
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
count=${1:-200000}
batch=${2:-256}
command -v valgrind >/dev/null || { echo "switch_ir: needs valgrind" >&2; exit 1; }
make -s "$BUILD/libvpio.a"
cc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Iinclude -Isrc -pthread \
    bench/switch_ir.c "$BUILD/libvpio.a" -lpthread -lpcap -lxdp -lbpf -o "$BUILD/switch_ir"
out=$(mktemp /tmp/vpio-switch-ir.XXXXXX)
trap 'rm -f "$out"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$out" "$BUILD/switch_ir" "$count" "$batch" 2>/dev/null
total=$(callgrind_annotate "$out" 2>/dev/null | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
fwd=$(callgrind_annotate --inclusive=yes "$out" 2>/dev/null | grep -m1 'forward.c:sw_forward' |
    sed -n 's/^ *\([0-9,]*\) .*/\1/p' | tr -d ,)
awk -v t="$total" -v f="${fwd:-0}" -v n="$count" -v b="$batch" \
    'BEGIN {printf "switch_ir: %d frames, batch %d: %.1f instructions per frame in sw_forward, %.1f in all\n", n, b, f / n, t / n}'
