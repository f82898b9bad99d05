#!/usr/bin/env bash
# Switch + pktgen between processes: tx -> rx, one tx -> two rx (broadcast
# and unknown-unicast flood), `vpio switch` listing/removal, a dead port owner
# reclaimed, a hostile peer scribbling on a receiver's ring (the victim
# and the sender survive, errors are reported, the rest keeps forwarding),
# a hostile peer truncating the arena file (nobody dies of SIGBUS), and
# senders killed mid-stream (their pending leases expire; no wedged ring).
# Everything it creates (/dev/shm/vpio-it<pid>*, processes, the helper
# binary) is removed on exit.
set -u
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
VPIO=$BUILD/vpio
SW=it$$
tmp=$(mktemp -d /tmp/vpio-swtest.XXXXXX)
pids=()
fails=0

cleanup() {
    # TERM first: `timeout` passes it on to its child
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    sleep 0.2
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -f /dev/shm/vpio-"$SW" /dev/shm/vpio-"$SW"-*
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); }
# field NAME FILE: value of NAME= in the RESULT line of FILE
field() { sed -n "s/^RESULT .* $1=\([0-9]*\).*/\1/p" "$2" | tail -n 1; }

if [ ! -x "$VPIO" ]; then
    echo "FAIL switch_pktgen: $VPIO not built"
    exit 1
fi

# wait_port SWITCH PORT: until `vpio switch show` lists the port (<= 3 s)
wait_port() {
    for _ in $(seq 60); do
        "$VPIO" switch show "$1" 2>/dev/null | grep -q " $2 " && return 0
        sleep 0.05
    done
    return 1
}

# ---- 1. two processes: tx -> rx ----
N=2000000
timeout 20 "$VPIO" pktgen -i $SW:b -f rx -T 10 -W 0.4 -q >"$tmp/rx1" 2>&1 &
pids+=($!); rxpid=$!
if wait_port $SW b; then
    timeout 20 "$VPIO" pktgen -i $SW:a -f tx -n $N -b 256 -l 60 -d 02:00:00:00:00:99 -q >"$tmp/tx1" 2>&1
    txrc=$?
    wait $rxpid; rxrc=$?
    tp=$(field pkts "$tmp/tx1"); td=$(field drops "$tmp/tx1"); rp=$(field pkts "$tmp/rx1")
    rd=$(field drops "$tmp/rx1")
    if [ $txrc -ne 0 ] || [ $rxrc -ne 0 ] || [ -z "$tp" ] || [ -z "$rp" ]; then
        fail two_proc "exit tx=$txrc rx=$rxrc"; cat "$tmp/tx1" "$tmp/rx1"
    elif [ "$tp" -eq 0 ] || [ "$tp" -ne "$rp" ] || [ $((tp + td)) -ne $N ] || [ "$td" -ne "$rd" ]; then
        fail two_proc "tx pkts=$tp drops=$td, rx pkts=$rp drops=$rd (N=$N)"
    else
        pass "two_proc (tx $tp delivered + $td dropped = $N, rx $rp)"
    fi
else
    fail two_proc "rx port did not appear"
fi

# ---- 2. one tx to two rx: broadcast, then unknown unicast ----
for dst in ff:ff:ff:ff:ff:ff 02:00:00:00:00:77; do
    name=three_proc_bcast; [ $dst = ff:ff:ff:ff:ff:ff ] || name=three_proc_flood
    N=500000
    timeout 20 "$VPIO" pktgen -i $SW:c -f rx -T 10 -W 0.4 -q >"$tmp/rxc" 2>&1 & pids+=($!); p1=$!
    timeout 20 "$VPIO" pktgen -i $SW:d -f rx -T 10 -W 0.4 -q >"$tmp/rxd" 2>&1 & pids+=($!); p2=$!
    if wait_port $SW c && wait_port $SW d; then
        timeout 20 "$VPIO" pktgen -i $SW:e -f tx -n $N -b 64 -d $dst -q >"$tmp/txe" 2>&1
        txrc=$?
        wait $p1; r1=$?; wait $p2; r2=$?
        cp=$(field pkts "$tmp/rxc"); cd_=$(field drops "$tmp/rxc")
        dp=$(field pkts "$tmp/rxd"); dd=$(field drops "$tmp/rxd")
        tp=$(field pkts "$tmp/txe"); td=$(field drops "$tmp/txe")
        if [ $txrc -ne 0 ] || [ $r1 -ne 0 ] || [ $r2 -ne 0 ] || [ -z "$cp" ] || [ -z "$dp" ] || [ -z "$tp" ]; then
            fail $name "exit tx=$txrc rx=$r1,$r2"
        elif [ $((cp + cd_)) -ne $N ] || [ $((dp + dd)) -ne $N ] || [ "$cp" -eq 0 ] || [ "$dp" -eq 0 ] || [ $((tp + td)) -ne $N ]; then
            fail $name "rx c=$cp+$cd_ d=$dp+$dd tx=$tp+$td, N=$N"
        else
            pass "$name (rx c $cp + $cd_ dropped, rx d $dp + $dd dropped, N=$N)"
        fi
    else
        fail $name "rx ports did not appear"
    fi
done

# ---- 3. vpio switch: listing, dead owner reclaimed ----
# (no `timeout` wrapper: we need the pktgen's own pid; -T bounds it)
"$VPIO" pktgen -i $SW:dead -f rx -T 10 -q >/dev/null 2>&1 & pids+=($!); dpid=$!
if wait_port $SW dead; then
    if "$VPIO" switch | grep -q "^$SW " && "$VPIO" switch show $SW | grep -E " dead +$dpid +yes " >/dev/null; then
        pass switch_list
    else
        fail switch_list "port 'dead' with pid $dpid not listed"; "$VPIO" switch show $SW
    fi
    kill -9 $dpid; wait $dpid 2>/dev/null
    if "$VPIO" switch show $SW | grep -q " dead "; then
        fail dead_owner_reclaim "port of a killed owner still listed"
    elif ! timeout 10 "$VPIO" pktgen -i $SW:dead -f rx -T 0.2 -q >"$tmp/re" 2>&1; then
        fail dead_owner_reclaim "cannot reopen the port: $(cat "$tmp/re")"
    else
        pass dead_owner_reclaim
    fi
else
    fail switch_list "port did not appear"
fi

# ---- 4. hostile peer scribbles on a receiver's ring ----
helper=$tmp/sw_scribble
if ! cc -std=c11 -D_GNU_SOURCE -O1 -Iinclude -Isrc -pthread -o "$helper" tests/tools/sw_scribble.c \
        src/switch/*.c 2>"$tmp/cc"; then
    fail corruption "cannot build the helper: $(head -5 "$tmp/cc")"
else
    timeout 20 "$VPIO" pktgen -i $SW:victim -f rx -T 2 -q >"$tmp/victim" 2>&1 & pids+=($!); vpid=$!
    timeout 20 "$VPIO" pktgen -i $SW:w -f rx -T 2 -q >"$tmp/w" 2>&1 & pids+=($!); wpid=$!
    if wait_port $SW victim && wait_port $SW w; then
        timeout 20 "$VPIO" pktgen -i $SW:s -f tx -T 1.6 -b 32 -q >"$tmp/s" 2>&1 & pids+=($!); spid=$!
        timeout 10 "$helper" $SW victim 1 >"$tmp/scr" 2>&1; hrc=$?
        wait $spid; src=$?; wait $vpid; vrc=$?; wait $wpid; wrc=$?
        ve=$(field errs "$tmp/victim"); wp=$(field pkts "$tmp/w"); we=$(field errs "$tmp/w")
        sp=$(field pkts "$tmp/s")
        if [ $hrc -ne 0 ]; then
            fail corruption "helper failed: $(cat "$tmp/scr")"
        elif [ $vrc -ne 0 ] || [ -z "$ve" ]; then
            fail corruption_victim_survives "victim exit $vrc: $(tail -3 "$tmp/victim")"
        elif [ "$ve" -eq 0 ]; then
            fail corruption_victim_reports "victim reported no errors: $(cat "$tmp/victim")"
        elif [ $src -ne 0 ] || [ -z "$sp" ]; then
            fail corruption_sender_survives "sender exit $src"
        elif [ $wrc -ne 0 ] || [ -z "$wp" ] || [ "$wp" -eq 0 ] || [ "$we" -ne 0 ]; then
            fail corruption_others_forward "bystander exit $wrc pkts=$wp errs=$we"
        else
            pass "corruption (victim errs=$ve, bystander pkts=$wp, $(cat "$tmp/scr" | tr -d '\n'))"
        fi
    else
        fail corruption "ports did not appear"
    fi
fi

# ---- 5. hostile peer truncates the arena file under live ports ----
# Every process has the whole arena mapped; the guard (src/switch/guard.c)
# turns the SIGBUS into "arena broken": calls fail with -ENXIO and are
# counted, nobody dies.
SWT=$SW-trunc
timeout 20 "$VPIO" pktgen -i $SWT:victim -f rx -T 2 -q >"$tmp/tv" 2>&1 & pids+=($!); vpid=$!
if wait_port $SWT victim; then
    timeout 20 "$VPIO" pktgen -i $SWT:s -f tx -T 1.6 -b 32 -q >"$tmp/ts" 2>&1 & pids+=($!); spid=$!
    sleep 0.5
    truncate -s 0 /dev/shm/vpio-$SWT; trc=$?
    wait $spid; src=$?; wait $vpid; vrc=$?
    vp=$(field pkts "$tmp/tv"); ve=$(field errs "$tmp/tv"); se=$(field errs "$tmp/ts")
    if [ $trc -ne 0 ]; then
        fail truncate "truncate failed"
    elif [ $vrc -ne 0 ] || [ -z "$ve" ]; then
        fail truncate_victim_survives "victim exit $vrc: $(tail -3 "$tmp/tv")"
    elif [ $src -ne 0 ] || [ -z "$se" ]; then
        fail truncate_sender_survives "sender exit $src: $(tail -3 "$tmp/ts")"
    elif [ "$ve" -eq 0 ] || [ "$se" -eq 0 ] || [ "$vp" -eq 0 ]; then
        fail truncate_reports "victim pkts=$vp errs=$ve, sender errs=$se"
    else
        pass "truncate (victim pkts=$vp before, errs=$ve; sender errs=$se; both exit 0)"
    fi
else
    fail truncate "victim port did not appear"
fi
rm -f /dev/shm/vpio-$SWT

# ---- 6. senders killed (likely mid-lease) while another keeps sending ----
# A sender killed between reserving slots in the receiver's ring and
# publishing them leaves a pending lease; the next sender (or the
# receiver's poll) expires it once its owner is gone. If that failed, the
# ring would stay wedged and the receiver (-W 0.5: exits 0.5 s after the
# last frame) would stop early instead of receiving until the live sender
# ends.
SWK=$SW-kill
t0=$(date +%s.%N)
timeout 20 "$VPIO" pktgen -i $SWK:r -f rx -T 8 -W 0.5 -q >"$tmp/kr" 2>&1 & pids+=($!); krpid=$!
if wait_port $SWK r; then
    timeout 20 "$VPIO" pktgen -i $SWK:a -f tx -T 4 -b 256 -q >"$tmp/ka" 2>&1 & pids+=($!); kapid=$!
    for i in $(seq 12); do
        "$VPIO" pktgen -i $SWK:k$i -f tx -T 5 -b 256 -l 1514 -q >/dev/null 2>&1 & kp=$!
        sleep 0.15
        kill -9 $kp 2>/dev/null; wait $kp 2>/dev/null
    done
    # the receiver first: it must not end (idle) before the live sender
    wait $krpid; krrc=$?
    t1=$(date +%s.%N)
    wait $kapid; karc=$?
    kp_=$(field pkts "$tmp/kr"); ka=$(field pkts "$tmp/ka")
    dur=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    if [ $karc -ne 0 ] || [ $krrc -ne 0 ] || [ -z "$kp_" ] || [ "$kp_" -eq 0 ]; then
        fail killed_senders "exit a=$karc r=$krrc, rx pkts=$kp_"
    elif awk -v d="$dur" 'BEGIN { exit !(d < 3.5) }'; then
        fail killed_senders "receiver stopped after ${dur}s (wedged ring?), rx pkts=$kp_"
    else
        pass "killed_senders (12 senders killed mid-stream; rx got $kp_ frames and ran ${dur}s, live sender delivered $ka)"
    fi
else
    fail killed_senders "rx port did not appear"
fi
rm -f /dev/shm/vpio-$SWK

# ---- 7. bad arguments, rm ----
out=$("$VPIO" pktgen -i $SW:x -f tx -l 5 2>&1); rc=$?
if [ $rc -eq 2 ] && echo "$out" | grep -q -- "-l 5"; then pass pktgen_bad_args; else fail pktgen_bad_args "rc=$rc: $out"; fi
if "$VPIO" switch rm $SW >/dev/null && [ ! -e /dev/shm/vpio-$SW ]; then
    pass switch_rm
else
    fail switch_rm "arena still there"
fi

[ $fails -eq 0 ]
