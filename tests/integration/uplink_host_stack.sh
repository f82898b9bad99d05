#!/usr/bin/env bash
# The host's network stack as a real peer of a guest, through an uplink: a
# veth pair, one end (198.18.20.1/24) in namespace H, the other end the
# uplink of a vpio switch (`vpio uplink`, run in namespace S) with a
# `vpio vm` guest (198.18.20.2) on the switch.
#   uplink-host-linux-ping   Linux's ping -> the guest's echo: 5 of 5
#                            replies, and the guest counts 5 requests
#   uplink-host-guest-ping   the guest's ping -> Linux: 5 of 5 replies
#                            (the guest ARPs for Linux's address)
#   uplink-host-udp-to-linux guest udp-send count=N -> a python3 socket on
#                            Linux: N datagrams, in order
#   uplink-host-udp-to-guest a python3 socket -> guest udp-recv count=N:
#                            N datagrams, loss 0, in order
# Mode: UPLINK_MODE (default auto: AF_XDP if it loads, else AF_PACKET).
# Needs root and network namespaces; KVM for the guest (else SKIP).
set -u
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/vpio_vm_lib.sh"
. "$(dirname "$0")/lib/uplink_lib.sh"
checks=(uplink-host-linux-ping uplink-host-guest-ping uplink-host-udp-to-linux uplink-host-udp-to-guest)
up_need "${checks[@]}"
vm_setup "${checks[@]}"
mode=${UPLINK_MODE:-auto}
n=${COUNT_UDP:-1000}
udp="$(dirname "$0")/uplink_udp.py"
sw_new sw uph
up_ns H uph || { fail "uplink-host: namespace"; finish; }
up_ns S ups || { fail "uplink-host: namespace"; finish; }
ip link add vh netns "$H" type veth peer name vu netns "$S" || { fail "uplink-host: veth"; finish; }
up_quiet_if "$H" vh
up_quiet_if "$S" vu
ip -n "$H" addr add 198.18.20.1/24 dev vh
lip=198.18.20.1
gip=198.18.20.2
gmac=52:54:00:20:00:02
up_start up "$S" "$sw:up" vu "$mode" || { fail "uplink-host: vpio uplink did not start: $(cat "$tmp/up.uperr")"; finish; }
echo "uplink: $(head -n 1 "$tmp/up.uperr")"
# Right after AF_XDP attaches to a veth, frames it transmits reach the peer
# only about a second later (kernel-side settling, seen on this machine; not
# with AF_PACKET): let that pass before Linux starts pinging.
sleep 1.5

# --- Linux ping -> guest echo ---------------------------------------------
t0=$SECONDS
vm_start echo 30 "echo ip=$gip duration=25 idle=2000" "$sw:g1,mac=$gmac"
if wait_line "$tmp/echo.out" "echo: ready" "${vm_pid[echo]}"; then
    pout=$(ip netns exec "$H" ping -n -c 5 -i 0.2 -W 2 "$gip" 2>&1)
fi
vm_wait echo
vm_show echo
e=$(result echo echo)
got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"${pout:-}")
if vm_kvm_lost echo; then
    skip "uplink-host-linux-ping: $kvm_why"
elif [ "$got" != 5 ] || [ "$(key icmp "$e")" != 5 ]; then
    fail "uplink-host-linux-ping: Linux got '${got}' of 5 replies, guest icmp=$(key icmp "$e"): $(tail -n 2 <<<"${pout:-}" | tr '\n' '|')"
else
    pass "uplink-host-linux-ping ($((SECONDS - t0))s; 5 of 5, $(grep -o 'rtt.*' <<<"$pout"))"
fi

# --- guest ping -> Linux --------------------------------------------------
t0=$SECONDS
vm_start ping 30 "ping ip=$gip peer=$lip count=5 interval=100 arp_wait=10" "$sw:g2,mac=$gmac"
vm_wait ping
vm_show ping
p=$(result ping ping)
if vm_kvm_lost ping; then
    skip "uplink-host-guest-ping: $kvm_why"
elif [ "${vm_rc[ping]}" != 1 ] || [ "$(key received "$p")" != 5 ] || [ "$(key loss "$p")" != 0 ]; then
    fail "uplink-host-guest-ping: want 5 of 5 replies; $(vm_why ping ping)"
else
    pass "uplink-host-guest-ping ($((SECONDS - t0))s; $(grep -o 'received=[0-9]* rtt_min_us=[0-9]* rtt_avg_us=[0-9]*' <<<"$p"))"
fi

# --- guest udp-send -> Linux ----------------------------------------------
t0=$SECONDS
ip netns exec "$H" python3 "$udp" recv "$lip" 9000 "$n" 25 >"$tmp/lrecv.out" 2>&1 &
lr=$!
track_pid $lr
wait_line "$tmp/lrecv.out" ready $lr
vm_start usend 30 "udp-send ip=$gip peer=$lip port=9000 len=18 count=$n rate=1000" "$sw:g3,mac=$gmac"
vm_wait usend
wait $lr
vm_show usend
s=$(result usend udp-send)
r=$(grep '^RESULT' "$tmp/lrecv.out")
if vm_kvm_lost usend; then
    skip "uplink-host-udp-to-linux: $kvm_why"
elif [ "$(key pkts "$s")" != "$n" ] || [ "$(key drops "$s")" != 0 ]; then
    fail "uplink-host-udp-to-linux: sender: $(vm_why usend udp-send)"
elif [ "$(key pkts "$r")" != "$n" ] || [ "$(key ooo "$r")" != 0 ]; then
    fail "uplink-host-udp-to-linux: Linux received: '$r' (want pkts=$n ooo=0)"
else
    pass "uplink-host-udp-to-linux ($((SECONDS - t0))s; $n datagrams at 1000/s, Linux got $(key pkts "$r") in order)"
fi

# --- Linux -> guest udp-recv ----------------------------------------------
t0=$SECONDS
vm_start urecv 30 "udp-recv ip=$gip port=9000 count=$n timeout=25 idle=3000" "$sw:g4,mac=$gmac"
if wait_line "$tmp/urecv.out" "udp-recv: ready" "${vm_pid[urecv]}"; then
    ip netns exec "$H" ping -n -c 1 -W 2 "$gip" >/dev/null 2>&1 # ARP first
    ip netns exec "$H" python3 "$udp" send "$gip" 9000 "$n" 1000 18 >"$tmp/lsend.out" 2>&1
fi
vm_wait urecv
vm_show urecv
r=$(result urecv udp-recv)
if vm_kvm_lost urecv; then
    skip "uplink-host-udp-to-guest: $kvm_why"
elif [ "$(key pkts "$r")" != "$n" ] || [ "$(key drops "$r")" != 0 ] || [ "$(key ooo "$r")" != 0 ]; then
    fail "uplink-host-udp-to-guest: want pkts=$n drops=0 ooo=0; $(vm_why urecv udp-recv); linux: $(cat "$tmp/lsend.out" 2>/dev/null)"
else
    pass "uplink-host-udp-to-guest ($((SECONDS - t0))s; $n datagrams at 1000/s from Linux, guest got $(key pkts "$r"), loss 0)"
fi

up_stop up
echo "uplink counters: $(grep '^RESULT' "$tmp/up.up")"
[ "$(up_counter up rx_bad_desc)" = 0 ] || fail "uplink-host: bad ring entries: $(grep '^RESULT' "$tmp/up.up")"
finish
