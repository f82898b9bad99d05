#!/usr/bin/env bash
# A middlebox chain of three guests under vpio's own VMM (KVM), two vpio
# switches:
#   sender VM --switch 1-- [NIC a] fwd VM [NIC b] --switch 2-- receiver VM
# The fwd VM has two e1000s (two --nic options: PCI slots 1 and 2, GSIs 16
# and 17, each NIC its own interrupt), each a port of its own switch.
#   vpio-chain-a2b-swap   `pktgen tx count=N` on switch 1 -> fwd (zero-copy
#                         buffer swap, txmode=classic) -> `pktgen rx
#                         count=N` on switch 2: all N arrive (drops=0
#                         missed=0), fwd a_to_b == N, b_to_a == 0, drops == 0
#   vpio-chain-b2a-csb    the other direction (sender on switch 2, NIC b),
#                         fwd copy=1, txmode=csb in all three VMs: the same
#                         counts, and every NIC reports csb=1
#   vpio-chain-ping       `ping` on switch 1 <-> `echo` on switch 2 through
#                         fwd (ARP and ICMP both ways): 5 of 5 replies, fwd
#                         counts frames in both directions, drops == 0
# N (COUNT=, default 1000) fits every ring on the way (switch 4095, guest RX
# 1024; fwd holds frames in its RX ring while its TX ring is full), so no
# frame may be lost however the three VMs share the CPUs. KVM missing or
# unusable: every check is a SKIP.
set -u
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/vpio_vm_lib.sh"
vm_setup vpio-chain-a2b-swap vpio-chain-b2a-csb vpio-chain-ping
n=${COUNT:-1000}
sw_new sw1 vch
sw_new sw2 vch2_

tx_mac=52:54:00:19:02:01
rx_mac=52:54:00:19:02:03
fwd_a_mac=52:54:00:19:02:11
fwd_b_mac=52:54:00:19:02:12

# chain TAG SIDE FWD_OPTIONS RX_CMD RX_READY TX_CMD: the receiver boots first
# (until RX_READY), then fwd (until "fwd: ready"), then the sender. SIDE a:
# the sender is on switch 1 (fwd's NIC a), the receiver on switch 2; SIDE b:
# the other way round. Waits for all three.
chain() {
    local tag=$1 side=$2 sw_tx=$sw1 sw_rx=$sw2
    [ "$side" = b ] && { sw_tx=$sw2; sw_rx=$sw1; }
    vm_start "$tag-rx" 30 "$4" "$sw_rx:$tag-rx,mac=$rx_mac"
    wait_line "$tmp/$tag-rx.out" "$5" "${vm_pid[$tag-rx]}" || echo "receiver $tag-rx did not get ready"
    vm_start "$tag-fwd" 30 "fwd duration=20 $3" "$sw1:$tag-fa,mac=$fwd_a_mac" "$sw2:$tag-fb,mac=$fwd_b_mac"
    wait_line "$tmp/$tag-fwd.out" 'fwd: ready' "${vm_pid[$tag-fwd]}" || echo "fwd $tag-fwd did not get ready"
    vm_start "$tag-tx" 30 "$6" "$sw_tx:$tag-tx,mac=$tx_mac"
    vm_wait "$tag-tx" "$tag-fwd" "$tag-rx"
    vm_show "$tag-tx" "$tag-fwd" "$tag-rx"
    tx=$(result "$tag-tx" "${7:-pktgen role=tx}")
    f=$(result "$tag-fwd" fwd)
    rx=$(result "$tag-rx" "${8:-pktgen role=rx}")
}

# pktgen_chain NAME TAG SIDE MODE FWD_OPTIONS: N frames end to end
pktgen_chain() {
    local name=$1 tag=$2 side=$3 mode=$4 t0=$SECONDS
    local ab=a_to_b ba=b_to_a csb=0
    [ "$side" = b ] && { ab=b_to_a; ba=a_to_b; }
    [ "$mode" = csb ] && csb=1
    chain "$tag" "$side" "count=$n idle=2000 txmode=$mode $5" \
        "pktgen rx count=$n timeout=20 idle=3000 txmode=$mode" 'pktgen: rx ready' \
        "pktgen tx count=$n len=60 dst=$rx_mac txmode=$mode"
    if vm_kvm_lost "$tag-tx" "$tag-fwd" "$tag-rx"; then
        skip "$name: $kvm_why"
    elif [ "${vm_rc[$tag-tx]}" != 1 ] || [ "$(key pkts "$tx")" != "$n" ] ||
        [ "$(key drops "$tx")" != 0 ] || [ "$(key csb "$tx")" != "$csb" ]; then
        fail "$name: sender: want status 1, pkts=$n drops=0 csb=$csb; $(vm_why "$tag-tx" 'pktgen role=tx')"
    elif [ "${vm_rc[$tag-fwd]}" != 1 ] || [ "$(key "$ab" "$f")" != "$n" ] ||
        [ "$(key "$ba" "$f")" != 0 ] || [ "$(key drops "$f")" != 0 ] ||
        [ "$(key a_csb "$f")" != "$csb" ] || [ "$(key b_csb "$f")" != "$csb" ]; then
        fail "$name: fwd: want status 1, $ab=$n $ba=0 drops=0 a_csb=b_csb=$csb; $(vm_why "$tag-fwd" fwd)"
    elif [ "${vm_rc[$tag-rx]}" != 1 ] || [ "$(key pkts "$rx")" != "$n" ] ||
        [ "$(key drops "$rx")" != 0 ] || [ "$(key missed "$rx")" != 0 ] ||
        [ "$(key other "$rx")" != 0 ] || [ "$(key csb "$rx")" != "$csb" ]; then
        fail "$name: receiver: want status 1, pkts=$n drops=0 missed=0 other=0 csb=$csb; $(vm_why "$tag-rx" 'pktgen role=rx')"
    else
        pass "$name ($((SECONDS - t0))s; $n frames; fwd $ab=$n mode=$(key mode "$f") wakeups=$(key wakeups "$f") irqs_a=$(key irqs_a "$f") irqs_b=$(key irqs_b "$f"))"
    fi
}

pktgen_chain vpio-chain-a2b-swap a2b a classic ""
pktgen_chain vpio-chain-b2a-csb b2a b csb "copy=1"

# --- ping <-> echo through fwd ---------------------------------------------
t0=$SECONDS
chain ping a "idle=1500" "echo ip=198.18.2.2 duration=20 idle=1500" 'echo: ready' \
    "ping ip=198.18.2.1 peer=198.18.2.2 count=5 interval=100 arp_wait=10" ping echo
ab=$(key a_to_b "$f"); ba=$(key b_to_a "$f")
if vm_kvm_lost ping-tx ping-fwd ping-rx; then
    skip "vpio-chain-ping: $kvm_why"
elif [ "${vm_rc[ping-tx]}" != 1 ] || [ "$(key received "$tx")" != 5 ] || [ "$(key loss "$tx")" != 0 ]; then
    fail "vpio-chain-ping: want status 1 and 5 of 5 replies; $(vm_why ping-tx ping)"
elif [ "${vm_rc[ping-rx]}" != 1 ] || [ "$(key icmp "$rx")" != 5 ]; then
    fail "vpio-chain-ping: echo should answer 5 requests; $(vm_why ping-rx echo)"
elif [ "${vm_rc[ping-fwd]}" != 1 ] || [ -z "$ab" ] || [ -z "$ba" ] || [ "$ab" -lt 6 ] ||
    [ "$ba" -lt 6 ] || [ "$(key drops "$f")" != 0 ]; then
    fail "vpio-chain-ping: fwd should carry ARP + 5 ICMP each way (>= 6) without drops; $(vm_why ping-fwd fwd)"
else
    pass "vpio-chain-ping ($((SECONDS - t0))s; $(grep -o 'received=[0-9]* rtt_min_us=[0-9]* rtt_avg_us=[0-9]*' <<<"$tx"); fwd a_to_b=$ab b_to_a=$ba drops=0)"
fi

"$VPIO" switch rm -f "$sw1" >/dev/null 2>&1
"$VPIO" switch rm -f "$sw2" >/dev/null 2>&1
{ [ -e "/dev/shm/vpio-$sw1" ] || [ -e "/dev/shm/vpio-$sw2" ]; } && fail "vpio-chain: switch $sw1 or $sw2 not removed"
finish
