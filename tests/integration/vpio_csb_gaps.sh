#!/usr/bin/env bash
# The CSB's race-free sleep with real vCPUs, ioeventfd kicks and irqfd
# interrupts: two guests under vpio, txmode=csb on both, the sender sends
# bursts of random length (1..BURST frames) with idle gaps of random length
# (0..GAP_US us) in between, so the guest's TX, the host's CSB I/O threads,
# the switch backend's receive thread and the receiving guest all keep
# going to sleep and being woken, in every order.
#   vpio-csb-bursts-gaps   no frame is lost: every one arrives or was
#                          dropped, and counted, by the switch (the
#                          receiver's port ring was full: a receiver that did
#                          not get a CPU in time) -- rx pkts + the sender's
#                          backend drops = COUNT, and the receiver's NIC
#                          counted those as missed (MPC); the sender's
#                          ring drains (drops=0 in its RESULT, which a lost
#                          kick would break: the guest kicks once per host
#                          sleep); both exit within their timeouts (a lost
#                          wake-up of the receiver would leave it to the 1 ms
#                          timer tick: slower, still correct)
# COUNT (default 100000), BURST (default 300, below the switch ring),
# GAP_US (default 2000), SEED. A long run (docs/results.md):
#   COUNT=40000000 GAP_US=1000 TIMEOUT=900 bash tests/integration/vpio_csb_gaps.sh
set -u
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/vpio_vm_lib.sh"
check=vpio-csb-bursts-gaps
vm_setup "$check"
n=${COUNT:-100000}
burst=${BURST:-300}
gap=${GAP_US:-2000}
seed=${SEED:-$$}
secs=${TIMEOUT:-60}
sw_new sw vcg

rx_mac=52:54:00:19:05:02
tx_mac=52:54:00:19:05:01
t0=$SECONDS
vm_start rx "$secs" "pktgen rx count=$n timeout=$((secs - 5)) idle=5000 txmode=csb" \
    "$sw:rx,mac=$rx_mac"
wait_line "$tmp/rx.out" "pktgen: rx ready" "${vm_pid[rx]}" || echo "receiver did not get ready"
vm_start tx "$secs" \
    "pktgen tx count=$n len=60 batch=512 burst=$burst gap_us=$gap seed=$seed dst=$rx_mac txmode=csb" \
    "$sw:tx,mac=$tx_mac"
vm_wait tx rx
vm_show rx tx
tx=$(result tx 'pktgen role=tx')
rx=$(result rx 'pktgen role=rx')
# frames the switch would not take (the receiver's ring full), from the
# sender's --stats line of its e1000
sw_drops=$(sed -n 's/^vpio stats: e1000-0 .* drops=\([0-9]*\) .*/\1/p' "$tmp/tx.err" | tail -n 1)
got=$(key pkts "$rx")
if vm_kvm_lost tx rx; then
    skip "$check: $kvm_why"
elif [ "${vm_rc[tx]}" != 1 ] || [ "$(key pkts "$tx")" != "$n" ] || [ "$(key drops "$tx")" != 0 ] ||
    [ "$(key csb "$tx")" != 1 ] || [ -z "$sw_drops" ]; then
    fail "$check: sender: want status 1, pkts=$n drops=0 csb=1 and its --stats; $(vm_why tx 'pktgen role=tx')"
elif [ "${vm_rc[rx]}" != 1 ] && [ "${vm_rc[rx]}" != 3 ]; then
    fail "$check: receiver: status ${vm_rc[rx]} (1, or 3 when the switch dropped some); $(vm_why rx 'pktgen role=rx')"
elif [ -z "$got" ] || [ $((got + sw_drops)) != "$n" ] || [ "$(key missed "$rx")" != "$sw_drops" ] ||
    [ "$(key csb "$rx")" != 1 ]; then
    fail "$check: received ${got:-?} + dropped by the switch ${sw_drops} != $n sent (missed $(key missed "$rx")): a frame was lost; $(vm_why rx 'pktgen role=rx')"
else
    pass "$check ($((SECONDS - t0))s; $n frames in $(key gaps "$tx") bursts, seed $seed: $got received, $sw_drops dropped by the switch (receiver's ring full); tx kicks $(key tdt_writes "$tx") irqs $(key irqs "$tx"); rx irqs $(key irqs "$rx"))"
fi
"$VPIO" switch rm -f "$sw" >/dev/null 2>&1
finish
