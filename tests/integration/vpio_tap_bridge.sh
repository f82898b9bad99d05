#!/usr/bin/env bash
# Two guests under vpio's own VMM (KVM) over Linux tap devices on a Linux
# bridge: the paper's baseline path (`--nic tap:IFNAME`). The bridge and the
# taps live in a network namespace this script creates and deletes, built
# the way `vpio bench` builds its own (src/cli/bench_env.c: netns, lo up,
# bridge vpiobr0, taps vpiotap0/1 enslaved and up); the VMs run inside it
# (`ip netns exec`), so no frame reaches the host's network. Guest addresses
# come from 198.18.0.0/15 only.
#   vpio-tap-pktgen   `pktgen tx count=N dst=RXMAC` -> tap0 -> bridge -> tap1
#                     -> `pktgen rx count=N`: all N arrive (drops=0
#                     missed=0), both exit 1
#   vpio-tap-ping     `ping` -> `echo` over the bridge: 5 of 5 replies
#   vpio-tap-udp      `udp-send count=N rate=R` -> `udp-recv count=N`: no
#                     loss, in order
# N (COUNT=, default 1000). The only buffer between the VMs is the receiving
# tap's queue (the sender's write() runs the bridge and queues the frame on
# the other tap at once); its length is raised from the default 1000 to
# 2000 so that one burst fits even if the receiving VM gets no CPU until it
# is over. Needs root (namespace, taps) and `ip`; otherwise SKIP, like KVM.
set -u
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/vpio_vm_lib.sh"
checks=(vpio-tap-pktgen vpio-tap-ping vpio-tap-udp)
vm_setup "${checks[@]}"
n=${COUNT:-1000}
udp_n=${COUNT_UDP:-1000}

skip_all() {
    local c
    for c in "${checks[@]}"; do skip "$c: $1"; done
    finish
}
[ "$(id -u)" = 0 ] || skip_all "needs root for the network namespace and taps"
command -v ip >/dev/null || skip_all "ip (iproute2) not installed"

ns="vpio-test-$$"
ns_made=0
ns_destroy() {
    # After _vm_cleanup killed our VMs: deleting the namespace removes the
    # bridge and the taps with it.
    [ "$ns_made" = 1 ] && ip netns del "$ns"
    ns_made=0
}
_cleanup_hooks+=(ns_destroy)

# ns_ip ARGS...: `ip -n NS ARGS`; on failure $ns_err says which and why.
# (Everything here runs in this shell, not in $(...): ns_made must stick.)
ns_err=""
ns_ip() {
    ip -n "$ns" "$@" 2>"$tmp/netns.err" && return 0
    ns_err="ip -n $ns $*: $(head -c 200 "$tmp/netns.err")"
    return 1
}
ns_create() {
    if ! ip netns add "$ns" 2>"$tmp/netns.err"; then
        ns_err="ip netns add $ns: $(head -c 200 "$tmp/netns.err")"
        return 1
    fi
    ns_made=1
    ns_ip link set lo up || return 1
    # No IPv6 on the new links: they would send router solicitations and
    # MLD reports onto the bridge.
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 \
        net.ipv6.conf.all.disable_ipv6=1 >/dev/null 2>&1
    ns_ip link add vpiobr0 type bridge || return 1
    local i
    for i in 0 1; do
        ns_ip tuntap add dev "vpiotap$i" mode tap || return 1
        ns_ip link set "vpiotap$i" txqueuelen 2000 || return 1
        ns_ip link set "vpiotap$i" master vpiobr0 || return 1
        ns_ip link set "vpiotap$i" up || return 1
    done
    ns_ip link set vpiobr0 up
}
if ! ns_create; then
    # A machine or container that does not allow namespaces or taps: a
    # limit of the environment, not a failure of vpio.
    skip_all "cannot build the namespace bridge: $ns_err"
fi
vm_prefix=(ip netns exec "$ns")

rx_mac=52:54:00:19:03:02
tx_mac=52:54:00:19:03:01
ip_a=198.18.3.1
ip_b=198.18.3.2

# pair TAG SERVER_CMD READY CLIENT_CMD: the server VM on tap1 boots first
# and says READY (its tap has a carrier from then on), then the client VM on
# tap0.
pair() {
    local tag=$1
    vm_start "$tag-b" 30 "$2" "tap:vpiotap1,mac=$rx_mac"
    wait_line "$tmp/$tag-b.out" "$3" "${vm_pid[$tag-b]}" || echo "server VM $tag-b did not get ready"
    vm_start "$tag-a" 30 "$4" "tap:vpiotap0,mac=$tx_mac"
    vm_wait "$tag-a" "$tag-b"
    vm_show "$tag-b" "$tag-a"
}

# --- pktgen ---------------------------------------------------------------
t0=$SECONDS
pair pg "pktgen rx count=$n timeout=20 idle=3000" "pktgen: rx ready" \
    "pktgen tx count=$n len=60 dst=$rx_mac"
tx=$(result pg-a 'pktgen role=tx')
rx=$(result pg-b 'pktgen role=rx')
if vm_kvm_lost pg-a pg-b; then
    skip "vpio-tap-pktgen: $kvm_why"
elif [ "${vm_rc[pg-a]}" != 1 ] || [ "$(key pkts "$tx")" != "$n" ] || [ "$(key drops "$tx")" != 0 ]; then
    fail "vpio-tap-pktgen: sender: want status 1, pkts=$n drops=0; $(vm_why pg-a 'pktgen role=tx')"
elif [ "${vm_rc[pg-b]}" != 1 ] || [ "$(key pkts "$rx")" != "$n" ] || [ "$(key drops "$rx")" != 0 ] ||
    [ "$(key missed "$rx")" != 0 ]; then
    fail "vpio-tap-pktgen: receiver: want status 1, pkts=$n drops=0 missed=0; $(vm_why pg-b 'pktgen role=rx'); $(ip -n "$ns" -s link show vpiotap1 2>&1 | tr '\n' ' ')"
else
    pass "vpio-tap-pktgen ($((SECONDS - t0))s; $n frames over the bridge in $ns; rx other=$(key other "$rx") irqs=$(key irqs "$rx"))"
fi

# --- ping -> echo -----------------------------------------------------------
t0=$SECONDS
pair ping "echo ip=$ip_b duration=20 idle=1000" "echo: ready" \
    "ping ip=$ip_a peer=$ip_b count=5 interval=100 arp_wait=10"
ping_verdict vpio-tap-ping ping-a ping-b "$ip_b"

# --- UDP stream -------------------------------------------------------------
t0=$SECONDS
rate=${RATE_UDP:-1000}
pair udp "udp-recv ip=$ip_b port=9000 count=$udp_n timeout=25 idle=3000" "udp-recv: ready" \
    "udp-send ip=$ip_a peer=$ip_b port=9000 len=18 count=$udp_n rate=$rate"
udp_verdict vpio-tap-udp udp-a udp-b "$udp_n" "$rate"

echo "bridge $ns at the end:"
ip -n "$ns" -s link show 2>&1 | sed 's/^/  /'
# Delete it now (the EXIT trap would too) to check that it goes.
ns_destroy
if ip netns list 2>/dev/null | grep -qw "$ns"; then
    fail "vpio-tap: namespace $ns not removed"
fi
finish
