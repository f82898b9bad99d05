#!/usr/bin/env bash
# Host pktgen <-> QEMU guest pktgen through the vpio switch: the host side is
# `vpio pktgen` on a switch port, the guest is the project's kernel on QEMU's
# e1000, its `-netdev socket` attached to the same switch by `vpio qemu-port`.
# Needs no KVM (TCG when /dev/kvm is missing).
#   host-guest-pktgen-h2g   host `vpio pktgen -f tx -n N -d GUESTMAC` -> switch
#                           -> qemu-port -> guest `pktgen rx count=N`; N=500
#                           (fits the switch ring and the guest's RX ring):
#                           every frame arrives, no drops anywhere
#   host-guest-pktgen-g2h   guest `pktgen tx count=N dst=HOSTMAC` -> qemu-port
#                           -> switch -> host `vpio pktgen -f rx -n N`; N=500:
#                           every frame arrives
#   host-guest-pktgen-h2g-burst, -g2h-burst   the same with N=2000: the host
#                           pktgen (h2g) or the relay (g2h) outruns the other
#                           side, and losses are allowed only where counted:
#                           h2g: host tx pkts + drops (the relay's switch ring
#                           was full) == N, relay from_switch == host pkts ==
#                           guest pkts + guest missed (MPC); g2h: guest sent
#                           N, relay to_switch + drops == N, host pkts ==
#                           to_switch, host pkts + host drops == N
#   host-fwd-host           host `vpio pktgen -f tx -n N` -> switch 1 ->
#                           qemu-port -> the `fwd` VM (two e1000s) ->
#                           qemu-port -> switch 2 -> host `vpio pktgen -f rx`;
#                           N=500: every frame arrives, fwd a_to_b == N
# COUNT= and COUNT_BURST= change N.
# The switch is removed at the end; only our own processes are killed.
set -u
. "$(dirname "$0")/lib/lib.sh"
make_tmpdir tmp
qemu=$(command -v qemu-system-x86_64 || true)
[ -n "$qemu" ] || { skip "host-guest-pktgen: qemu-system-x86_64 not installed"; finish; }
[ -r "$GUEST" ] || { fail "host-guest-pktgen: $GUEST missing (make guest)"; finish; }
[ -x "$VPIO" ] || { fail "host-guest-pktgen: $VPIO missing (make)"; finish; }
if [ -z "$(kvm_unavailable)" ]; then
    accel=(-enable-kvm -cpu host,-arch-capabilities); mode=kvm
else
    accel=(-accel tcg -cpu max); mode="tcg: $(kvm_unavailable)"
fi
n=${COUNT:-500}
big=${COUNT_BURST:-2000}
sw="hgp$$"
sw2="hgp$$b"
cleanup_switch() {
    "$VPIO" switch rm -f "$sw" >/dev/null 2>&1
    "$VPIO" switch rm -f "$sw2" >/dev/null 2>&1
}
trap 'cleanup; cleanup_switch' EXIT

guest_mac=52:54:00:12:37:02
host_mac=02:00:00:00:37:01

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
        echo $((20000 + RANDOM % 20000))
}

key() {  # key NAME LINE: the value of NAME=... in LINE
    sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"
}

# attach PORTNAME TCPPORT: a qemu-port relay (ends when its QEMU disconnects)
attach() {
    "$VPIO" qemu-port -i "$sw:$1" -l "127.0.0.1:$2" -T 60 -q >"$tmp/relay-$1.out" 2>&1 &
    relay_pid=$!
    track_pid "$relay_pid"
    for _ in $(seq 50); do grep -q listening "$tmp/relay-$1.out" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}

# guest NAME TCPPORT CMDLINE (background; sets guest_pid)
guest() {
    timeout 45 "$qemu" "${accel[@]}" -machine pc -m 64M -nodefaults -display none \
        -monitor none -serial "file:$tmp/$1.out" -no-reboot \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -netdev "socket,id=n0,connect=127.0.0.1:$2" -device "e1000,netdev=n0,mac=$guest_mac" \
        -kernel "$GUEST" -append "$3" >"$tmp/$1.log" 2>&1 &
    guest_pid=$!
    track_pid "$guest_pid"
}

result_of() {  # result_of FILE PATTERN: the last RESULT line matching
    tr -d '\r' <"$1" 2>/dev/null | grep "^RESULT app=$2" | tail -n 1
}

# h2g TAG N STRICT: host -> guest; STRICT=1: every frame must arrive
h2g() {
    local tag=$1 n=$2 strict=$3
    t0=$SECONDS
    p=$(free_port)
    if attach "g1$tag" "$p"; then
        guest "h2g$tag" "$p" "pktgen rx count=$n timeout=30 idle=3000"
        for _ in $(seq 300); do
            grep -q 'pktgen: rx ready' "$tmp/h2g$tag.out" 2>/dev/null && break
            kill -0 "$guest_pid" 2>/dev/null || break
            sleep 0.1
        done
        "$VPIO" pktgen -i "$sw:h1$tag" -f tx -n "$n" -l 60 -d "$guest_mac" -s "$host_mac" -q \
            >"$tmp/host-tx$tag.out" 2>&1
        wait "$guest_pid"
        wait "$relay_pid"
        host=$(grep '^RESULT' "$tmp/host-tx$tag.out" | tail -n 1)
        g=$(result_of "$tmp/h2g$tag.out" 'pktgen role=rx')
        relay=$(grep '^RESULT' "$tmp/relay-g1$tag.out" | tail -n 1)
        echo "host:  $host"; echo "guest: $g"; echo "relay: $relay"
        hp=$(key pkts "$host"); hd=$(key drops "$host")
        gp=$(key pkts "$g"); gm=$(key missed "$g"); rf=$(key from_switch "$relay")
        s=$((SECONDS - t0))
        if [ -n "$hp" ] && [ -n "$gp" ] && [ -n "$rf" ] && [ "$gp" -gt 0 ] &&
            [ $((hp + hd)) -eq "$n" ] && [ "$rf" -eq "$hp" ] && [ $((gp + gm)) -eq "$rf" ] &&
            { [ "$strict" = 0 ] || [ "$gp" -eq "$n" ]; }; then
            pass "host-guest-pktgen-h2g$tag ($mode; ${s}s; host sent $n: delivered=$hp switch_drops=$hd; relay from_switch=$rf; guest pkts=$gp missed=$gm pps=$(key pps "$g"))"
        else
            fail "host-guest-pktgen-h2g$tag: counts do not add up (N=$n): host '$host' relay '$relay' guest '${g:-none}'"
        fi
    else
        fail "host-guest-pktgen-h2g$tag: relay did not start: $(cat "$tmp/relay-g1$tag.out")"
    fi
}

# g2h TAG N STRICT: guest -> host; STRICT=1: every frame must arrive
g2h() {
    local tag=$1 n=$2 strict=$3
    t0=$SECONDS
    p=$(free_port)
    "$VPIO" pktgen -i "$sw:h2$tag" -f rx -n "$n" -T 40 -W 5 -q >"$tmp/host-rx$tag.out" 2>&1 &
    hrx_pid=$!
    track_pid "$hrx_pid"
    if attach "g2$tag" "$p"; then
        guest "g2h$tag" "$p" "pktgen tx count=$n len=60 dst=$host_mac delay=200"
        wait "$guest_pid"
        wait "$hrx_pid"
        wait "$relay_pid"
        host=$(grep '^RESULT' "$tmp/host-rx$tag.out" | tail -n 1)
        g=$(result_of "$tmp/g2h$tag.out" 'pktgen role=tx')
        relay=$(grep '^RESULT' "$tmp/relay-g2$tag.out" | tail -n 1)
        echo "guest: $g"; echo "relay: $relay"; echo "host:  $host"
        hp=$(key pkts "$host"); hd=$(key drops "$host")
        gp=$(key pkts "$g"); rt=$(key to_switch "$relay"); rd=$(key drops "$relay")
        s=$((SECONDS - t0))
        if [ "$gp" = "$n" ] && [ "$(key drops "$g")" = 0 ] && [ -n "$rt" ] && [ -n "$hp" ] &&
            [ $((rt + rd)) -eq "$n" ] && [ "$hp" -eq "$rt" ] && [ "$hp" -gt 0 ] &&
            [ $((hp + hd)) -eq "$n" ] && { [ "$strict" = 0 ] || [ "$hp" -eq "$n" ]; }; then
            pass "host-guest-pktgen-g2h$tag ($mode; ${s}s; guest sent $n pps=$(key pps "$g"); relay to_switch=$rt drops=$rd; host pkts=$hp drops=$hd)"
        else
            fail "host-guest-pktgen-g2h$tag: counts do not add up (N=$n): guest '${g:-none}' relay '$relay' host '$host'"
        fi
    else
        fail "host-guest-pktgen-g2h$tag: relay did not start: $(cat "$tmp/relay-g2$tag.out")"
    fi
}

# h2f2h N: host pktgen -> switch 1 -> qemu-port -> fwd VM (NIC a -> NIC b)
# -> qemu-port -> switch 2 -> host pktgen rx; every frame must arrive.
h2f2h() {
    local n=$1
    t0=$SECONDS
    local pa pb ra rb
    pa=$(free_port); pb=$(free_port)
    [ "$pa" = "$pb" ] && pb=$((pa + 1))
    "$VPIO" pktgen -i "$sw2:hr" -f rx -n "$n" -T 40 -W 5 -q >"$tmp/fwd-host-rx.out" 2>&1 &
    hrx_pid=$!
    track_pid "$hrx_pid"
    attach fa "$pa" || { fail "host-fwd-host: relay a did not start"; return; }
    ra=$relay_pid
    sw_save=$sw; sw=$sw2
    attach fb "$pb" || { sw=$sw_save; fail "host-fwd-host: relay b did not start"; return; }
    sw=$sw_save
    rb=$relay_pid
    timeout 45 "$qemu" "${accel[@]}" -machine pc -m 64M -nodefaults -display none \
        -monitor none -serial "file:$tmp/fwd.out" -no-reboot \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -netdev "socket,id=na,connect=127.0.0.1:$pa" -device "e1000,netdev=na,mac=52:54:00:12:37:11" \
        -netdev "socket,id=nb,connect=127.0.0.1:$pb" -device "e1000,netdev=nb,mac=52:54:00:12:37:12" \
        -kernel "$GUEST" -append "fwd count=$n idle=2000 duration=30" >"$tmp/fwd.log" 2>&1 &
    local fwd_pid=$!
    track_pid "$fwd_pid"
    for _ in $(seq 300); do
        grep -q 'fwd: ready' "$tmp/fwd.out" 2>/dev/null && break
        kill -0 "$fwd_pid" 2>/dev/null || break
        sleep 0.1
    done
    "$VPIO" pktgen -i "$sw:ht" -f tx -n "$n" -l 60 -d 02:00:00:00:37:99 -s "$host_mac" -q \
        >"$tmp/fwd-host-tx.out" 2>&1
    wait "$fwd_pid"; wait "$hrx_pid"; wait "$ra"; wait "$rb"
    local htx hrx f rela relb
    htx=$(grep '^RESULT' "$tmp/fwd-host-tx.out" | tail -n 1)
    hrx=$(grep '^RESULT' "$tmp/fwd-host-rx.out" | tail -n 1)
    f=$(result_of "$tmp/fwd.out" fwd)
    rela=$(grep '^RESULT' "$tmp/relay-fa.out" | tail -n 1)
    relb=$(grep '^RESULT' "$tmp/relay-fb.out" | tail -n 1)
    echo "host tx: $htx"; echo "relay a: $rela"; echo "fwd:     $f"; echo "relay b: $relb"; echo "host rx: $hrx"
    s=$((SECONDS - t0))
    if [ "$(key pkts "$htx")" = "$n" ] && [ "$(key from_switch "$rela")" = "$n" ] &&
        [ "$(key a_to_b "$f")" = "$n" ] && [ "$(key b_to_a "$f")" = 0 ] &&
        [ "$(key drops "$f")" = 0 ] && [ "$(key to_switch "$relb")" = "$n" ] &&
        [ "$(key pkts "$hrx")" = "$n" ]; then
        pass "host-fwd-host ($mode; ${s}s; host tx $n -> switch $sw -> fwd VM a_to_b=$n pps=$(key pps "$f") wakeups=$(key wakeups "$f") -> switch $sw2 -> host rx pkts=$n)"
    else
        fail "host-fwd-host: expected $n end to end: host tx '$htx' relay a '$rela' fwd '${f:-none}' relay b '$relb' host rx '$hrx'"
    fi
}

# A burst that fits the switch ring (4095) and the guest's RX ring: exact.
h2g "" "$n" 1
g2h "" "$n" 1
# A burst four times larger: losses only where counted.
h2g -burst "$big" 0
g2h -burst "$big" 0
# The fwd VM as a middlebox between two switches.
h2f2h "$n"
"$VPIO" switch show "$sw" 2>/dev/null | sed 's/^/switch: /'
"$VPIO" switch show "$sw2" 2>/dev/null | sed 's/^/switch: /'
cleanup_switch
if [ -e "/dev/shm/vpio-$sw" ] || [ -e "/dev/shm/vpio-$sw2" ]; then
    fail "host-guest-pktgen: switch $sw or $sw2 not removed"
fi
finish
