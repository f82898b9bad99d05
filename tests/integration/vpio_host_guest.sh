#!/usr/bin/env bash
# The host's `vpio pktgen` and a guest under vpio's own VMM (KVM) on the same
# vpio switch: the guest's e1000 is a switch port itself (`--nic SW:PORT`),
# no relay in between (qemu_switch_host_guest.sh does the same with QEMU and
# `vpio qemu-port`).
#   vpio-host-guest-h2g        host `vpio pktgen -f tx -n N -d GUESTMAC` ->
#                              switch -> guest `pktgen rx count=N`: all N
#                              arrive (host drops=0; guest drops=0 missed=0
#                              other=0), guest exit status 1, host 0
#   vpio-host-guest-g2h        guest `pktgen tx count=N dst=HOSTMAC` ->
#                              switch -> host `vpio pktgen -f rx -n N`: all
#                              N arrive (host drops=0 errs=0)
#   vpio-host-guest-h2g-burst  host sends COUNT_BURST frames unpaced, far
#                              faster than the guest takes them: the switch
#                              drops what does not fit the guest's port ring
#                              (host delivered + drops == COUNT_BURST), and
#                              of what it delivered the VMM loses nothing:
#                              guest pkts == host delivered (the e1000 model
#                              leaves frames in the switch ring while the
#                              guest has no free descriptor), and the guest's
#                              NIC counts the ones the switch dropped as
#                              missed (MPC == host drops)
# N (COUNT=, default 1000) fits one switch ring (4095), so the strict checks
# do not depend on when the receiving side gets a CPU. KVM missing or
# unusable: every check is a SKIP.
set -u
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/vpio_vm_lib.sh"
vm_setup vpio-host-guest-h2g vpio-host-guest-g2h vpio-host-guest-h2g-burst
n=${COUNT:-1000}
big=${COUNT_BURST:-5000}
sw_new sw vhg

guest_mac=52:54:00:19:01:02
host_mac=02:00:00:19:01:01

# wait_port PORT: until `vpio switch show` lists it (5 s at most)
wait_port() {
    for _ in $(seq 100); do
        "$VPIO" switch show "$sw" 2>/dev/null | grep -q " $1 " && return 0
        sleep 0.05
    done
    return 1
}

host_result() { grep '^RESULT app=pktgen' "$tmp/$1" 2>/dev/null | tail -n 1; }

# h2g NAME TAG COUNT GUEST_RX_OPTIONS: the guest listens on port TAG-g, the
# host sends COUNT frames from port TAG-h; sets g, h, host_rc.
h2g() {
    local tag=$2 count=$3
    vm_start "$tag-g" 30 "pktgen rx timeout=20 $4" "$sw:$tag-g,mac=$guest_mac"
    wait_line "$tmp/$tag-g.out" 'pktgen: rx ready' "${vm_pid[$tag-g]}" ||
        echo "guest $tag-g did not get ready"
    timeout 30 "$VPIO" pktgen -i "$sw:$tag-h" -f tx -n "$count" -l 60 -d "$guest_mac" \
        -s "$host_mac" -T 20 -q >"$tmp/$tag-host.out" 2>&1
    host_rc=$?
    vm_wait "$tag-g"
    vm_show "$tag-g"
    echo "host: $(cat "$tmp/$tag-host.out")"
    g=$(result "$tag-g" 'pktgen role=rx')
    h=$(host_result "$tag-host.out")
}

# --- host -> guest, one ring's worth: every frame -------------------------
t0=$SECONDS
h2g vpio-host-guest-h2g h2g "$n" "count=$n idle=3000"
if vm_kvm_lost h2g-g; then
    skip "vpio-host-guest-h2g: $kvm_why"
elif [ "$host_rc" != 0 ] || [ "$(key pkts "$h")" != "$n" ] || [ "$(key drops "$h")" != 0 ]; then
    fail "vpio-host-guest-h2g: host pktgen: want status 0, pkts=$n drops=0; status $host_rc: $(tail -n 2 "$tmp/h2g-host.out" | tr '\n' '|')"
elif [ "${vm_rc[h2g-g]}" != 1 ] || [ "$(key pkts "$g")" != "$n" ] || [ "$(key drops "$g")" != 0 ] ||
    [ "$(key missed "$g")" != 0 ] || [ "$(key other "$g")" != 0 ]; then
    fail "vpio-host-guest-h2g: guest: want status 1, pkts=$n drops=0 missed=0 other=0; $(vm_why h2g-g 'pktgen role=rx')"
else
    pass "vpio-host-guest-h2g ($((SECONDS - t0))s; host sent $n, guest received $(key pkts "$g") irqs=$(key irqs "$g") syncs=$(key syncs "$g"))"
fi

# --- guest -> host ----------------------------------------------------------
t0=$SECONDS
timeout 40 "$VPIO" pktgen -i "$sw:g2h-h" -f rx -n "$n" -T 25 -W 3 -q >"$tmp/g2h-host.out" 2>&1 &
hrx=$!
track_pid "$hrx"
# The host port must exist before the guest sends: a frame to an unknown MAC
# is flooded to the ports there are, and there would be none.
wait_port g2h-h || echo "host rx port did not appear"
vm_start g2h-g 30 "pktgen tx count=$n len=60 dst=$host_mac" "$sw:g2h-g,mac=$guest_mac"
vm_wait g2h-g
wait "$hrx"
host_rc=$?
vm_show g2h-g
echo "host: $(cat "$tmp/g2h-host.out")"
g=$(result g2h-g 'pktgen role=tx')
h=$(host_result g2h-host.out)
if vm_kvm_lost g2h-g; then
    skip "vpio-host-guest-g2h: $kvm_why"
elif [ "${vm_rc[g2h-g]}" != 1 ] || [ "$(key pkts "$g")" != "$n" ] || [ "$(key drops "$g")" != 0 ]; then
    fail "vpio-host-guest-g2h: guest: want status 1, pkts=$n drops=0; $(vm_why g2h-g 'pktgen role=tx')"
elif [ "$host_rc" != 0 ] || [ "$(key pkts "$h")" != "$n" ] || [ "$(key drops "$h")" != 0 ] ||
    [ "$(key errs "$h")" != 0 ]; then
    fail "vpio-host-guest-g2h: host pktgen rx: want status 0, pkts=$n drops=0 errs=0; status $host_rc: $(tail -n 2 "$tmp/g2h-host.out" | tr '\n' '|')"
else
    pass "vpio-host-guest-g2h ($((SECONDS - t0))s; guest sent $n tdt_writes=$(key tdt_writes "$g"), host received $(key pkts "$h"))"
fi

# --- host -> guest, a burst larger than the rings: loss only in the switch --
t0=$SECONDS
h2g vpio-host-guest-h2g-burst burst "$big" "idle=1500"
hp=$(key pkts "$h"); hd=$(key drops "$h"); gp=$(key pkts "$g")
if vm_kvm_lost burst-g; then
    skip "vpio-host-guest-h2g-burst: $kvm_why"
elif [ "$host_rc" != 0 ] || [ -z "$hp" ] || [ -z "$hd" ] || [ $((hp + hd)) -ne "$big" ]; then
    fail "vpio-host-guest-h2g-burst: host pktgen: want status 0 and pkts + drops == $big; status $host_rc: $(tail -n 2 "$tmp/burst-host.out" | tr '\n' '|')"
elif [ "${vm_rc[burst-g]}" != 1 ] || [ "$gp" != "$hp" ] || [ "$(key missed "$g")" != "$hd" ] ||
    [ "$(key other "$g")" != 0 ]; then
    fail "vpio-host-guest-h2g-burst: the switch delivered $hp frames to the guest's port and dropped $hd, the guest received ${gp:-none} and missed $(key missed "$g") (want all delivered, the dropped ones as missed in MPC, status 1); $(vm_why burst-g 'pktgen role=rx')"
else
    pass "vpio-host-guest-h2g-burst ($((SECONDS - t0))s; host offered $big: switch delivered $hp, dropped $hd (port ring full); guest received $gp, missed $hd)"
fi

"$VPIO" switch rm -f "$sw" >/dev/null 2>&1
[ -e "/dev/shm/vpio-$sw" ] && fail "vpio-host-guest: switch $sw not removed"
finish
