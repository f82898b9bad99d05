#!/usr/bin/env bash
# Two hosts: namespaces A and B joined by a veth pair (the wire), a vpio
# switch in each with its uplink on its end of the wire (every vpio process
# of host A runs in namespace A, those of B in B; the switches have
# different names), a `vpio vm` guest on each switch. Per mode (AF_XDP,
# AF_PACKET):
#   uplink-2hosts-MODE-ping   guest A's ping -> guest B's echo: 5 of 5,
#                             B's echo counts 5 requests, ARP across the wire
#   uplink-2hosts-MODE-udp    guest A udp-send count=N rate=R -> guest B
#                             udp-recv count=N: loss 0, in order
# With OVERLAY=1 (uplink_overlay.sh) the uplinks sit instead on a Linux VXLAN
# device in each namespace (id 42, port 4789) over the wire, which then
# carries 198.18.21.1 and .2: the guests talk through the overlay.
# AF_XDP not loadable in a namespace: its checks SKIP with the reason.
# Needs root and network namespaces; KVM for the guests (else SKIP).
set -u
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/vpio_vm_lib.sh"
. "$(dirname "$0")/lib/uplink_lib.sh"
overlay=${OVERLAY:-0}
tag=2hosts
[ "$overlay" = 1 ] && tag=overlay
modes=(${UPLINK_MODES:-xdp packet})
checks=()
for m in "${modes[@]}"; do checks+=("uplink-$tag-$m-ping" "uplink-$tag-$m-udp"); done
up_need "${checks[@]}"
vm_setup "${checks[@]}"
n=${COUNT_UDP:-1000}
rate=${RATE_UDP:-1000}
up_ns A upa || { fail "uplink-$tag: namespace"; finish; }
up_ns B upb || { fail "uplink-$tag: namespace"; finish; }
ip link add wa netns "$A" type veth peer name wb netns "$B" || { fail "uplink-$tag: veth"; finish; }
up_quiet_if "$A" wa
up_quiet_if "$B" wb
ifa=wa ifb=wb
if [ "$overlay" = 1 ]; then
    ip -n "$A" addr add 198.18.21.1/24 dev wa
    ip -n "$B" addr add 198.18.21.2/24 dev wb
    ip -n "$A" link add vx0 type vxlan id 42 local 198.18.21.1 remote 198.18.21.2 dstport 4789 dev wa ||
        { fail "uplink-$tag: vxlan device"; finish; }
    ip -n "$B" link add vx0 type vxlan id 42 local 198.18.21.2 remote 198.18.21.1 dstport 4789 dev wb
    up_quiet_if "$A" vx0
    up_quiet_if "$B" vx0
    ifa=vx0 ifb=vx0
fi
mac_a=52:54:00:21:00:01
mac_b=52:54:00:21:00:02
ip_a=198.18.22.1
ip_b=198.18.22.2

for mode in "${modes[@]}"; do
    if [ "$mode" = xdp ]; then
        why=$(up_xdp_why "$A" "$ifa")
        if [ -n "$why" ]; then
            skip "uplink-$tag-xdp-ping: $why"
            skip "uplink-$tag-xdp-udp: $why"
            continue
        fi
    fi
    sw_new swa "u${tag:0:2}a$mode"
    sw_new swb "u${tag:0:2}b$mode"
    if ! up_start "a-$mode" "$A" "$swa:up" "$ifa" "$mode" || ! up_start "b-$mode" "$B" "$swb:up" "$ifb" "$mode"; then
        fail "uplink-$tag-$mode-ping: vpio uplink did not start: $(cat "$tmp/a-$mode.uperr" "$tmp/b-$mode.uperr" | tr '\n' '|')"
        continue
    fi
    echo "uplink A: $(head -n 1 "$tmp/a-$mode.uperr")"
    # --- ping -> echo ---
    t0=$SECONDS
    vm_prefix=(ip netns exec "$B")
    vm_start "pb-$mode" 30 "echo ip=$ip_b duration=20 idle=1000" "$swb:g,mac=$mac_b"
    wait_line "$tmp/pb-$mode.out" "echo: ready" "${vm_pid[pb-$mode]}" || echo "echo VM did not get ready"
    vm_prefix=(ip netns exec "$A")
    vm_start "pa-$mode" 30 "ping ip=$ip_a peer=$ip_b count=5 interval=100 arp_wait=10" "$swa:g,mac=$mac_a"
    vm_wait "pa-$mode" "pb-$mode"
    vm_show "pb-$mode" "pa-$mode"
    ping_verdict "uplink-$tag-$mode-ping" "pa-$mode" "pb-$mode" "$ip_b" "$mac_b"
    # --- UDP stream ---
    t0=$SECONDS
    vm_prefix=(ip netns exec "$B")
    vm_start "ub-$mode" 30 "udp-recv ip=$ip_b port=9000 count=$n timeout=25 idle=3000" "$swb:g,mac=$mac_b"
    wait_line "$tmp/ub-$mode.out" "udp-recv: ready" "${vm_pid[ub-$mode]}" || echo "udp-recv VM did not get ready"
    vm_prefix=(ip netns exec "$A")
    vm_start "ua-$mode" 30 "udp-send ip=$ip_a peer=$ip_b port=9000 len=18 count=$n rate=$rate" "$swa:g,mac=$mac_a"
    vm_wait "ua-$mode" "ub-$mode"
    vm_show "ub-$mode" "ua-$mode"
    udp_verdict "uplink-$tag-$mode-udp" "ua-$mode" "ub-$mode" "$n" "$rate"
    vm_prefix=()
    up_stop "a-$mode"
    up_stop "b-$mode"
    echo "uplink A ($mode): $(grep '^RESULT' "$tmp/a-$mode.up")"
    echo "uplink B ($mode): $(grep '^RESULT' "$tmp/b-$mode.up")"
    for s in a b; do
        [ "$(up_counter "$s-$mode" rx_bad_desc)" = 0 ] || fail "uplink-$tag-$mode: side $s counted bad ring entries"
    done
    "$VPIO" switch rm -f "$swa" >/dev/null 2>&1
    "$VPIO" switch rm -f "$swb" >/dev/null 2>&1
done
finish
