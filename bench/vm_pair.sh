#!/usr/bin/env bash
# Two vpio VMs on one switch, the sender on CPU 0 and the receiver on CPU 1:
# guest `pktgen` (ring API) or `udp-send`/`udp-recv` (socket API), one run,
# both RESULT lines and each thread's CPU use printed. For trying one
# configuration by hand; `vpio bench` runs the whole table.
#   bench/vm_pair.sh [options]
#     -a ring|socket   API (default ring)
#     -m MODE          txmode: classic, sc or csb (default classic)
#     -t SECONDS       how long the sender runs (default 4)
#     -l BYTES         frame length (default 60)
#     -r N             descriptors per e1000 ring in both guests (ring=, default 4096)
#     -b N             pktgen frames per sync (default: half the ring)
#     -g "OPTS"        more guest options for both VMs (e.g. "itr=195 napi=0")
#     -v "OPTS"        more `vpio vm` options for both (e.g. "--halt-poll-ns 200000")
#     -n "OPTS"        more --nic options for both (e.g. ",csb_poll_us=10")
#     -P               do not pin the VMs
# Uses its own switch (/dev/shm/vpio-pair<pid>), removed at the end.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/.."
api=ring mode=classic secs=4 len=60 ring=4096 batch="" gopts="" vopts="" nopts="" pin=1
while getopts "a:m:t:l:r:b:g:v:n:Ph" o; do
    case $o in
    a) api=$OPTARG ;; m) mode=$OPTARG ;; t) secs=$OPTARG ;; l) len=$OPTARG ;;
    r) ring=$OPTARG ;; b) batch=$OPTARG ;; g) gopts=$OPTARG ;; v) vopts=$OPTARG ;; n) nopts=$OPTARG ;;
    P) pin=0 ;;
    *) sed -n '2,18p' "$0"; exit 2 ;;
    esac
done
case $api in ring | socket) ;; *) echo "vm_pair: -a ring|socket" >&2; exit 2 ;; esac
[ -n "$batch" ] || batch=$((ring / 2))
gopts="ring=$ring $gopts"
[ -r /dev/kvm ] && [ -w /dev/kvm ] || { echo "vm_pair: needs /dev/kvm" >&2; exit 1; }
sw=pair$$
tmp=$(mktemp -d /tmp/vpio-pair.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -f "/dev/shm/vpio-$sw"
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
rx_mac=52:54:00:32:00:02 tx_mac=52:54:00:32:00:01
if [ "$api" = ring ]; then
    rx_cmd="pktgen rx timeout=$((secs + 20)) idle=1000 txmode=$mode $gopts"
    tx_cmd="pktgen tx len=$len duration=$secs batch=$batch dst=$rx_mac txmode=$mode $gopts"
else
    rx_cmd="udp-recv ip=198.18.0.2 port=9000 timeout=$((secs + 20)) idle=1000 txmode=$mode $gopts"
    tx_cmd="udp-send ip=198.18.0.1 peer=198.18.0.2 port=9000 len=$((len - 42)) duration=$secs txmode=$mode $gopts"
fi
cpus() { [ "$pin" = 1 ] && echo "--cpus $1"; }
# shellcheck disable=SC2046,SC2086
"$BUILD/vpio" vm $(cpus 1) $vopts --kernel "$BUILD/guest.elf" --timeout $((secs + 30)) --stats \
    --nic "$sw:rx,mac=$rx_mac$nopts" --cmdline "$rx_cmd" >"$tmp/rx" 2>&1 &
rx=$!
pids+=("$rx")
sleep 0.3
# shellcheck disable=SC2046,SC2086
"$BUILD/vpio" vm $(cpus 0) $vopts --kernel "$BUILD/guest.elf" --timeout $((secs + 30)) --stats \
    --nic "$sw:tx,mac=$tx_mac$nopts" --cmdline "$tx_cmd" >"$tmp/tx" 2>&1 &
tx=$!
pids+=("$tx")
# CPU per thread over the middle of the run
snap() { for t in /proc/$1/task/*; do echo "$(cat "$t/comm" 2>/dev/null) $(cut -d' ' -f1 "$t/schedstat" 2>/dev/null)"; done; }
sleep "$(awk -v s="$secs" 'BEGIN {print s / 2}')"
a_tx=$(snap "$tx"); a_rx=$(snap "$rx"); t0=$(date +%s%N)
sleep 1
b_tx=$(snap "$tx"); b_rx=$(snap "$rx"); t1=$(date +%s%N)
wait "$tx"; wait "$rx"
for side in tx rx; do
    grep -a "^RESULT" "$tmp/$side" | tail -n 1 | tr -d '\r'
done
cpu() { # before after
    paste -d' ' <(echo "$1") <(echo "$2") |
        awk -v dt=$((t1 - t0)) '$2 != "" && $4 != "" {p = 100 * ($4 - $2) / dt; if (p >= 1) printf " %s %.0f%%", $1, p}'
}
echo "CPU sender:$(cpu "$a_tx" "$b_tx")  receiver:$(cpu "$a_rx" "$b_rx")"
