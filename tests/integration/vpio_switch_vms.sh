#!/usr/bin/env bash
# Two guests under vpio's own VMM (KVM), each with an e1000 on a port of the
# same vpio switch (`--nic SWITCH:PORT`): VM to VM through the switch, no
# QEMU anywhere.
#   vpio-switch-pktgen-classic   `pktgen tx count=N dst=RXMAC` -> `pktgen rx
#                                count=N`, txmode=classic on both: the
#                                receiver gets all N (drops=0, missed=0,
#                                nothing else on the wire), the sender's
#                                descriptors all complete, both exit 1
#   vpio-switch-pktgen-sc        the same with send combining (txmode=sc,
#                                batch=1: the discipline decides on every
#                                frame; on vpio the TX interrupt is raised
#                                before the guest resumes from its TDT write,
#                                so no tail is ever deferred — not asserted)
#   vpio-switch-pktgen-csb       the same with the CSB paravirtual mode: both
#                                guests must report csb=1 (the device side is
#                                on by default with --nic), not a fallback
#   vpio-switch-ping             `ping` -> `echo`: 5 of 5 replies (ARP
#                                flooded, then learned by the switch)
#   vpio-switch-rr-MODE          `udp-rr count=200` -> `echo` (request/
#                                response, one in flight), txmode classic
#                                and csb: all 200 round trips come back
#                                (lost=0, no strays), RTT percentiles are
#                                ordered (0 < p50 <= p99 <= max)
#   vpio-switch-udp              `udp-send count=N rate=R` -> `udp-recv
#                                count=N`: loss counted by sequence number
#                                and reported; at this modest rate it must be
#                                0, in order
# Counts. pktgen sends one unpaced burst of COUNT (default 1000) frames: that
# fits one switch ring (4095 slots), so all of it must arrive even if the
# receiving VM gets no CPU until the burst is over. A burst larger than the
# ring depends on the scheduler on a 2-core machine: with txmode=csb the
# sender's vCPU and its CSB thread can keep both cores busy for the whole
# burst, the receiver does not run, and exactly a ring's worth arrives (the
# switch drops the rest, as it must when a ring is full). The UDP stream
# (COUNT_UDP, default 5000, at RATE_UDP=2000/s) wraps every ring (switch
# 4095, guest RX 1024) and leaves the receiver a second of slack.
# KVM missing or unusable: every check is a SKIP.
set -u
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/vpio_vm_lib.sh"
checks=(vpio-switch-pktgen-classic vpio-switch-pktgen-sc vpio-switch-pktgen-csb
        vpio-switch-ping vpio-switch-rr-classic vpio-switch-rr-csb vpio-switch-udp)
vm_setup "${checks[@]}"
n=${COUNT:-1000}
udp_n=${COUNT_UDP:-5000}
sw_new sw vsw

rx_mac=52:54:00:19:00:02
tx_mac=52:54:00:19:00:01
ip_a=198.18.1.1
ip_b=198.18.1.2

# pair TAG SERVER_CMD READY CLIENT_CMD: the server VM (port TAG-b, rx_mac)
# boots first and says READY, then the client VM (TAG-a, tx_mac); waits for
# both. Each run gets its own ports so a leftover of one cannot feed the next.
pair() {
    local tag=$1
    vm_start "$tag-b" 30 "$2" "$sw:$tag-b,mac=$rx_mac"
    if ! wait_line "$tmp/$tag-b.out" "$3" "${vm_pid[$tag-b]}"; then
        echo "server VM $tag-b did not get ready"
    fi
    vm_start "$tag-a" 30 "$4" "$sw:$tag-a,mac=$tx_mac"
    vm_wait "$tag-a" "$tag-b"
    vm_show "$tag-b" "$tag-a"
}

# pktgen MODE EXTRA_TX_OPTIONS
pktgen() {
    local mode=$1 name="vpio-switch-pktgen-$1" tag="pg-$1" t0=$SECONDS
    pair "$tag" "pktgen rx count=$n timeout=20 idle=3000 txmode=$mode" "pktgen: rx ready" \
        "pktgen tx count=$n len=60 dst=$rx_mac txmode=$mode $2"
    local tx rx csb=0
    tx=$(result "$tag-a" 'pktgen role=tx')
    rx=$(result "$tag-b" 'pktgen role=rx')
    [ "$mode" = csb ] && csb=1
    if vm_kvm_lost "$tag-a" "$tag-b"; then
        skip "$name: $kvm_why"
    elif [ "${vm_rc[$tag-a]}" != 1 ] || [ "$(key pkts "$tx")" != "$n" ] ||
        [ "$(key drops "$tx")" != 0 ] || [ "$(key txmode "$tx")" != "$mode" ] ||
        [ "$(key csb "$tx")" != "$csb" ]; then
        fail "$name: sender: want status 1, pkts=$n drops=0 txmode=$mode csb=$csb; $(vm_why "$tag-a" 'pktgen role=tx')"
    elif [ "${vm_rc[$tag-b]}" != 1 ] || [ "$(key pkts "$rx")" != "$n" ] ||
        [ "$(key drops "$rx")" != 0 ] || [ "$(key missed "$rx")" != 0 ] ||
        [ "$(key other "$rx")" != 0 ] || [ "$(key txmode "$rx")" != "$mode" ] ||
        [ "$(key csb "$rx")" != "$csb" ]; then
        fail "$name: receiver: want status 1, pkts=$n drops=0 missed=0 other=0 txmode=$mode csb=$csb; $(vm_why "$tag-b" 'pktgen role=rx')"
    else
        pass "$name ($((SECONDS - t0))s; $n frames; tx tdt_writes=$(key tdt_writes "$tx") irqs=$(key irqs "$tx"); rx irqs=$(key irqs "$rx") wakeups=$(key wakeups "$rx"))"
    fi
}

pktgen classic ""
pktgen sc "batch=1"
pktgen csb ""

# --- ping -> echo ---------------------------------------------------------
t0=$SECONDS
pair ping "echo ip=$ip_b duration=20 idle=1000" "echo: ready" \
    "ping ip=$ip_a peer=$ip_b count=5 interval=100 arp_wait=10"
ping_verdict vpio-switch-ping ping-a ping-b "$ip_b" "$rx_mac"

# --- UDP request/response ---------------------------------------------------
rr() {
    local mode=$1 name="vpio-switch-rr-$1" tag="rr-$1" t0=$SECONDS
    pair "$tag" "echo ip=$ip_b duration=20 idle=1500 txmode=$mode" "echo: ready" \
        "udp-rr ip=$ip_a peer=$ip_b count=200 arp_wait=10 txmode=$mode"
    local c
    c=$(result "$tag-a" udp-rr)
    local p50 p99 mx
    p50=$(key rtt_p50_ns "$c"); p99=$(key rtt_p99_ns "$c"); mx=$(key rtt_max_ns "$c")
    if vm_kvm_lost "$tag-a" "$tag-b"; then
        skip "$name: $kvm_why"
    elif [ "${vm_rc[$tag-a]}" != 1 ] || [ "$(key trans "$c")" != 200 ] ||
        [ "$(key lost "$c")" != 0 ] || [ "$(key stray "$c")" != 0 ] ||
        [ "$(key txmode "$c")" != "$mode" ] || [ -z "$p50" ] || [ "$p50" -le 0 ] ||
        [ "$p99" -lt "$p50" ] || [ "$mx" -lt "$p99" ]; then
        fail "$name: want status 1, trans=200 lost=0 stray=0, 0 < p50 <= p99 <= max; $(vm_why "$tag-a" udp-rr)"
    else
        pass "$name ($((SECONDS - t0))s; 200 round trips, p50 $((p50 / 1000)) us, p99 $((p99 / 1000)) us, tps=$(key tps "$c"))"
    fi
}
rr classic
rr csb

# --- UDP stream -----------------------------------------------------------
t0=$SECONDS
rate=${RATE_UDP:-2000}
pair udp "udp-recv ip=$ip_b port=9000 count=$udp_n timeout=25 idle=3000" "udp-recv: ready" \
    "udp-send ip=$ip_a peer=$ip_b port=9000 len=18 count=$udp_n rate=$rate"
udp_verdict vpio-switch-udp udp-a udp-b "$udp_n" "$rate"

# The switch goes with the run (the EXIT trap does it too, on any path).
"$VPIO" switch rm -f "$sw" >/dev/null 2>&1
[ -e "/dev/shm/vpio-$sw" ] && fail "vpio-switch: switch $sw not removed"
finish
