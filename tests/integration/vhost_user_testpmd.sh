#!/usr/bin/env bash
# vpio vhost-user with DPDK's virtio-user driver as the front-end (no VM):
# frames both ways between testpmd and `vpio pktgen` through the switch,
# counts exact (sent = received + counted drops; testpmd TX may also count
# up to one virtqueue it enqueued and abandoned at exit); testpmd killed mid-stream
# then a new one on the same socket (no fd or guest-RAM mapping left
# behind); the port process killed and restarted with testpmd as the
# socket server (virtio-user server=1, vpio --client) reconnecting.
#   vhost-testpmd-tx    testpmd txonly -> vhost -> switch -> pktgen rx
#   vhost-testpmd-rx    pktgen tx -> switch -> vhost -> testpmd rxonly
#   vhost-testpmd-kill  testpmd kill -9 mid-stream, a second one works
#   vhost-testpmd-client  vpio --client, killed and restarted, traffic resumes
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/vhost_user_lib.sh"

VQ_SIZE=1024 # virtio-user's largest queue (its default is 256)
checks=(vhost-testpmd-tx vhost-testpmd-rx vhost-testpmd-kill vhost-testpmd-client)
TESTPMD=$(command -v dpdk-testpmd)
if [ -z "$TESTPMD" ]; then
    for c in "${checks[@]}"; do skip "$c: dpdk-testpmd not installed (Debian dpdk-dev / dpdk)"; done
    finish
fi
[ -x "$VPIO" ] || { fail "vhost-testpmd: $VPIO missing"; finish; }
make_tmpdir tmp
sw=vhtp$$
trap 'cleanup; "$VPIO" switch rm -f $sw >/dev/null 2>&1' EXIT
sock=$tmp/vh.sock

# tp_start NAME MODE [VDEV-EXTRA]: a virtio-user testpmd in the background,
# output in $tmp/NAME.out, running until tp_stop NAME closes its stdin
# (testpmd's way to end); tp_ready NAME waits until it forwards.
declare -A tp_pid tp_fd
tp_start() {
    local name=$1 mode=$2 extra=${3:-} fd
    mkfifo "$tmp/$name.in"
    timeout 120 stdbuf -oL "$TESTPMD" --no-huge -m 512 --no-pci --file-prefix=vpio$$ -l 0,1 \
        --vdev "virtio_user0,path=$sock,queues=1$extra" -- --forward-mode="$mode" \
        --auto-start --nb-cores=1 --total-num-mbufs=8192 <"$tmp/$name.in" >"$tmp/$name.out" 2>&1 &
    tp_pid[$name]=$!
    track_pid "${tp_pid[$name]}"
    exec {fd}>"$tmp/$name.in"
    tp_fd[$name]=$fd
}
tp_ready() {
    for _ in $(seq 300); do
        grep -q 'Press enter to exit' "$tmp/$1.out" 2>/dev/null && return 0
        kill -0 "${tp_pid[$1]}" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
tp_stop() {
    exec {tp_fd[$1]}>&-
    wait "${tp_pid[$1]}" 2>/dev/null
}
# the testpmd process itself (timeout's child)
tp_proc() { pgrep -f "file-prefix=vpio$$" | grep -vx "${tp_pid[$1]}" | head -n 1; }

vh_start vh "$sw:vh" "$sock"
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done

# --- guest -> switch ------------------------------------------------------
"$VPIO" pktgen -i "$sw:rx" -f rx -T 60 -W 3 -q >"$tmp/prx.out" 2>&1 &
prx=$!
track_pid $prx
sleep 0.3
tp_start tp_tx txonly
tp_ready tp_tx
sleep 3
tp_stop tp_tx
wait $prx
r=$(vh_result vh)
pr=$(grep '^RESULT' "$tmp/prx.out")
tp_tx=$(tp_count "$tmp/tp_tx.out" TX)
vtx=$(key tx_pkts "$r") vdrop=$(key tx_drops "$r")
prx_n=$(key pkts "$pr") prx_drop=$(key drops "$pr")
echo "testpmd TX=$tp_tx vhost tx=$vtx drops=$vdrop pktgen rx=$prx_n drops=$prx_drop"
if [ -z "$tp_tx" ] || [ "${tp_tx:-0}" -eq 0 ] || [ "${prx_n:-0}" -eq 0 ]; then
    fail "vhost-testpmd-tx: no traffic (testpmd TX=$tp_tx, pktgen rx=$prx_n)"
    tail -n 20 "$tmp/tp_tx.out"
elif left=$((tp_tx - vtx - vdrop)); [ "$left" -lt 0 ] || [ "$left" -gt "$VQ_SIZE" ] ||
    [ "$vtx" -ne "$prx_n" ] || [ "$vdrop" -ne "$prx_drop" ]; then
    fail "vhost-testpmd-tx: counts do not add up (testpmd $tp_tx != vhost $vtx + $vdrop + at most $VQ_SIZE left in the virtqueue, or pktgen $prx_n/$prx_drop)"
else
    # testpmd counts a frame when it enqueues it; what it enqueued after the
    # port's last pass and then abandoned by closing the connection is never
    # seen by the port (at most one ring: $left here)
    pass "vhost-testpmd-tx: testpmd sent $tp_tx = $vtx received by pktgen + $vdrop dropped (pktgen ring full, counted) + $left left in its virtqueue at exit"
fi

# --- switch -> guest ------------------------------------------------------
base_rx=$(key rx_pkts "$r") base_rxd=$(key rx_drops "$r") base_sw=$(key rx_switch_drops "$r")
tp_start tp_rx rxonly
n=20000
if tp_ready tp_rx; then
    sleep 1
    # 40 bursts of 500 (a switch ring holds 4095): most arrive even when the
    # port's thread was asleep; whatever the switch drops is counted
    for _ in $(seq 40); do
        "$VPIO" pktgen -i "$sw:tx" -f tx -n 500 -b 32 -q >>"$tmp/ptx.out" 2>&1
        sleep 0.05
    done
fi
sleep 1
tp_stop tp_rx
r=$(vh_result vh)
tp_rx=$(tp_count "$tmp/tp_rx.out" RX)
vrx=$(( $(key rx_pkts "$r") - base_rx )) vrxd=$(( $(key rx_drops "$r") - base_rxd ))
vsw=$(( $(key rx_switch_drops "$r") - base_sw ))
echo "pktgen sent $n, testpmd RX=$tp_rx, vhost rx=$vrx drops=$vrxd switch ring full=$vsw"
if [ "${tp_rx:-0}" -eq 0 ]; then
    fail "vhost-testpmd-rx: testpmd received nothing"
    tail -n 20 "$tmp/tp_rx.out"
elif [ "$tp_rx" -ne "$vrx" ] || [ "$n" -ne $((vrx + vrxd + vsw)) ]; then
    fail "vhost-testpmd-rx: counts do not add up ($n sent != $tp_rx + $vrxd + $vsw)"
else
    pass "vhost-testpmd-rx: $n sent = $tp_rx received by testpmd + $vrxd + $vsw dropped (counted)"
fi

# --- testpmd killed mid-stream, then a new one ----------------------------
vpid=${vh_pid[vh]}
fd0=$(nfds "$vpid")
"$VPIO" pktgen -i "$sw:rx" -f rx -T 120 -q >"$tmp/prx2.out" 2>&1 &
track_pid $!
tp_start tp_k1 txonly
ok=1
tp_ready tp_k1 || ok=0
sleep 1
m1=$(maps_guest "$vpid")
tp_main=$(tp_proc tp_k1)
[ -n "$tp_main" ] && kill -9 "$tp_main"
tp_stop tp_k1
for _ in $(seq 50); do
    vh_result vh >/dev/null
    grep 'connected=' "$tmp/vh.out" | tail -n 1 | grep -q 'connected=0 ' && break
    sleep 0.2
done
m2=$(maps_guest "$vpid")
fd1=$(nfds "$vpid")
r=$(vh_result vh)
before=$(key tx_pkts "$r")
tp_start tp_k2 txonly
tp_ready tp_k2
sleep 2
tp_stop tp_k2
r=$(vh_result vh)
after=$(key tx_pkts "$r")
echo "fds $fd0 -> $fd1, guest mappings while connected $m1, after kill $m2, tx $before -> $after"
if [ "$ok" -ne 1 ] || [ -z "$tp_main" ]; then
    fail "vhost-testpmd-kill: testpmd did not connect"
elif [ "${m1:-0}" -eq 0 ] || [ "${m2:-1}" -ne 0 ] || [ "$fd1" -ne "$fd0" ]; then
    fail "vhost-testpmd-kill: resources left after the kill (mappings $m1 -> $m2, fds $fd0 -> $fd1)"
elif [ "$after" -le "$before" ]; then
    fail "vhost-testpmd-kill: the second testpmd moved nothing"
else
    pass "vhost-testpmd-kill: kill -9 released its memory and fds; a new testpmd sent $((after - before)) frames"
fi
vh_stop vh

# --- vpio as the client, killed and restarted -----------------------------
rm -f "$sock"
tp_start tp_c txonly ",server=1"
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.2; done
vh_start c1 "$sw:vh" "$sock" --client
for _ in $(seq 60); do # until frames flow (slow under ASan)
    sleep 0.5
    r1=$(vh_result c1)
    [ "$(key tx_pkts "$r1")" -gt 0 ] 2>/dev/null && break
done
kill -9 "${vh_pid[c1]}"
wait "${vh_pid[c1]}" 2>/dev/null
vh_start c2 "$sw:vh" "$sock" --client
for _ in $(seq 60); do
    sleep 0.5
    r2=$(vh_result c2)
    [ "$(key tx_pkts "$r2")" -gt 0 ] 2>/dev/null && break
done
sleep 1
r2=$(vh_result c2)
vh_stop c2
tp_stop tp_c
echo "first port process: $r1"
echo "second port process: $r2"
if [ "$(key tx_pkts "$r1")" -gt 0 ] 2>/dev/null && [ "$(key tx_pkts "$r2")" -gt 0 ] 2>/dev/null; then
    pass "vhost-testpmd-client: the port process killed and restarted; testpmd reconnected and sent $(key tx_pkts "$r2") more frames"
else
    fail "vhost-testpmd-client: no traffic after the restart (first: $(key tx_pkts "$r1"), second: $(key tx_pkts "$r2"))"
    tail -n 5 "$tmp/c2.err" "$tmp/tp_c.out"
fi
finish
