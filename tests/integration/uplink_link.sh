#!/usr/bin/env bash
# Link down/up and interface deletion under an uplink while traffic runs.
# Two namespaces A and B joined by a veth pair, a switch and an uplink in
# each; host `vpio pktgen` on both switches (no VMs). Per mode:
#   uplink-cli                 usage errors, a missing interface, --help
#   uplink-auto-fallback       --mode auto where AF_XDP cannot bind (queue 5
#                              of a one-queue veth): one line why, AF_PACKET
#   uplink-link-MODE-base      `vpio switch show` lists the port with the
#                              interface's name; N frames from a pktgen on switch A reach a
#                              pktgen on switch B across the wire: exactly N
#   uplink-link-packet-limits  a 20000-byte frame (MTU raised on the wire)
#                              is counted in rx_oversize (read with SIGUSR1)
#                              and dropped; a normal frame after it crosses
#                              (runts cannot be sent through Linux: the unit
#                              test covers them)
#   uplink-link-MODE-flap      with background traffic running, A's end of
#                              the wire goes down for 1 s and comes back: the
#                              uplink says so, keeps its port and resumes on
#                              its own; then exactly N frames cross again
#   uplink-link-MODE-recreate  with background traffic running, the veth
#                              pair is deleted (both uplinks see their
#                              interface disappear) and re-created under the
#                              same names (new ifindex): both resume; exactly
#                              N frames cross; both uplinks are still the
#                              processes started at the beginning
# Needs root and network namespaces (else SKIP). AF_XDP not loadable: its
# checks SKIP with the reason.
set -u
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/vpio_vm_lib.sh"
. "$(dirname "$0")/lib/uplink_lib.sh"
modes=(${UPLINK_MODES:-packet xdp})
checks=(uplink-cli uplink-auto-fallback)
for m in "${modes[@]}"; do checks+=("uplink-link-$m-base" "uplink-link-$m-flap" "uplink-link-$m-recreate"); done
case " ${modes[*]} " in *" packet "*) checks+=(uplink-link-packet-limits) ;; esac
up_need "${checks[@]}"
[ -x "$VPIO" ] || { fail "uplink-link: $VPIO missing (make)"; finish; }
n=${COUNT:-500}
up_ns A ula || { fail "uplink-link: namespace"; finish; }
up_ns B ulb || { fail "uplink-link: namespace"; finish; }
wire() {
    ip link add wa netns "$A" type veth peer name wb netns "$B" || return 1
    up_quiet_if "$A" wa
    up_quiet_if "$B" wb
}
wire || { fail "uplink-link: veth"; finish; }

# count FILE PATTERN: lines matching
count() { grep -c "$2" "$1" 2>/dev/null; }
# gone_and_back LOG: the uplink saw its link go and came back on the new
# one. Netlink may show a deleted veth end as "down" before it is gone,
# and the new link can appear before the uplink looks again: then the
# log says "down", then "up (ifindex NEW)" instead of "disappeared".
gone_and_back() {
    local first last
    first=$(sed -n 's/.*(ifindex \([0-9]*\)).*/\1/p' "$1" | head -n 1)
    last=$(sed -n 's/.*(ifindex \([0-9]*\)): resumed.*/\1/p' "$1" | tail -n 1)
    [ "$(count "$1" "disappeared")" -ge 1 ] || { [ -n "$last" ] && [ "$last" != "$first" ]; }
}
# wait_count FILE PATTERN N: until FILE has N lines matching (15 s)
wait_count() {
    for _ in $(seq 150); do
        [ "$(count "$1" "$2")" -ge "$3" ] && return 0
        sleep 0.1
    done
    return 1
}
# cross SWA SWB TAG: N frames A -> B; echoes the rx RESULT line
cross() {
    local out="$tmp/rx-$3"
    ip netns exec "$B" "$VPIO" pktgen -i "$2:rx" -f rx -n "$n" -T 15 -W 3 -q >"$out" 2>&1 &
    local rp=$!
    track_pid $rp
    sleep 0.5
    ip netns exec "$A" "$VPIO" pktgen -i "$1:tx" -f tx -n "$n" -b 16 -q >/dev/null 2>&1
    wait $rp
    grep '^RESULT' "$out"
}
# background traffic (about 2500 frames/s) until bg_stop
bg_start() {
    ( while :; do
        ip netns exec "$A" "$VPIO" pktgen -i "$1:bg" -f tx -n 50 -b 10 -d 02:00:00:00:00:bb -q >/dev/null 2>&1
        ip netns exec "$B" "$VPIO" pktgen -i "$2:bg" -f tx -n 50 -b 10 -d 02:00:00:00:00:aa -q >/dev/null 2>&1
        sleep 0.02
    done ) &
    bg=$!
    track_pid $bg
}
bg_stop() { kill $bg 2>/dev/null; wait $bg 2>/dev/null; sleep 0.5; }

# --- the command line, the fallback notice ---
t0=$SECONDS
"$VPIO" uplink >"$tmp/cli1" 2>&1; rc1=$?
"$VPIO" uplink -i "cli$$:p" --if nosuchif$$ >"$tmp/cli2" 2>&1; rc2=$?
"$VPIO" uplink -i "cli$$:p" --if wa --burst 0 >"$tmp/cli3" 2>&1; rc3=$?
"$VPIO" uplink --help >"$tmp/cli4" 2>&1; rc4=$?
if [ $rc1 = 2 ] && [ $rc2 = 1 ] && grep -q "no interface nosuchif" "$tmp/cli2" && [ $rc3 = 2 ] &&
    [ $rc4 = 0 ] && grep -q "usage: vpio uplink" "$tmp/cli4"; then
    pass "uplink-cli (usage errors exit 2, a missing interface exits 1 saying so, --help 0)"
else
    fail "uplink-cli: statuses $rc1 $rc2 $rc3 $rc4: $(cat "$tmp/cli1" "$tmp/cli2" "$tmp/cli3" | tr '\n' '|')"
fi
"$VPIO" switch rm -f "cli$$" >/dev/null 2>&1
# auto mode on a queue AF_XDP cannot bind (veth has one): one line why, then AF_PACKET
ip netns exec "$A" timeout 2 "$VPIO" uplink -i "fb$$:p" --if wa --queue 5 >"$tmp/fb" 2>&1
"$VPIO" switch rm -f "fb$$" >/dev/null 2>&1
if grep -q "AF_XDP not usable (AF_XDP on wa queue 5: .*); falling back to AF_PACKET" "$tmp/fb" &&
    grep -q "<-> wa .*AF_PACKET" "$tmp/fb" && grep -q "^RESULT app=uplink .* mode=packet" "$tmp/fb"; then
    pass "uplink-auto-fallback ($(grep -m1 'not usable' "$tmp/fb"))"
else
    fail "uplink-auto-fallback: $(tr '\n' '|' <"$tmp/fb")"
fi

for mode in "${modes[@]}"; do
    if [ "$mode" = xdp ]; then
        why=$(up_xdp_why "$A" wa)
        if [ -n "$why" ]; then
            for c in base flap recreate; do skip "uplink-link-xdp-$c: $why"; done
            continue
        fi
    fi
    sw_new swa "ulka$mode"
    sw_new swb "ulkb$mode"
    t0=$SECONDS
    if ! up_start "a-$mode" "$A" "$swa:up" wa "$mode" || ! up_start "b-$mode" "$B" "$swb:up" wb "$mode"; then
        fail "uplink-link-$mode-base: vpio uplink did not start: $(cat "$tmp/a-$mode.uperr" "$tmp/b-$mode.uperr" | tr '\n' '|')"
        continue
    fi
    ea="$tmp/a-$mode.uperr" eb="$tmp/b-$mode.uperr"
    # both ends may start "down" (carrier not yet on): wait until attached
    wait_count "$ea" "<->\|resumed" 1
    wait_count "$eb" "<->\|resumed" 1
    r=$(cross "$swa" "$swb" "$mode-base")
    show=$("$VPIO" switch show "$swa")
    if ! grep -Eq "^ +[0-9]+ +up +${up_pid[a-$mode]} +yes .* wa$" <<<"$show"; then
        fail "uplink-link-$mode-base: vpio switch show does not list port up with interface wa: $show"
    elif [ "$(key pkts "$r")" = "$n" ]; then
        pass "uplink-link-$mode-base ($((SECONDS - t0))s; $n of $n frames across)"
    else
        fail "uplink-link-$mode-base: want pkts=$n: '$r'; $(tail -n 2 "$ea" | tr '\n' '|')"
    fi

    # --- frames that cannot cross (AF_PACKET: the kernel hands over any
    # length; AF_XDP drops them itself and counts them in rx_kernel_drops) ---
    if [ "$mode" = packet ]; then
        t0=$SECONDS
        ip -n "$A" link set wa mtu 65000 && ip -n "$B" link set wb mtu 65000
        ip netns exec "$A" python3 -c '
import socket
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("wa", 0))
hdr = b"\xff" * 6 + b"\x02\0\0\0\0\x01" + b"\x88\xb5"
s.send(hdr + bytes(20000 - 14))  # longer than the switch largest frame (16384)
s.send(hdr + bytes(100 - 14))    # and a normal one after it
' || echo "raw send failed"
        sleep 0.5
        kill -USR1 "${up_pid[b-$mode]}"
        sleep 0.3
        ip -n "$A" link set wa mtu 1500 && ip -n "$B" link set wb mtu 1500
        big=$(up_counter "b-$mode" rx_oversize) got=$(up_counter "b-$mode" rx_frames)
        if [ "$big" = 1 ] && [ "$got" = $((n + 1)) ]; then
            pass "uplink-link-packet-limits ($((SECONDS - t0))s; a 20000-byte frame counted in rx_oversize, the 100-byte one after it crossed; read on SIGUSR1)"
        else
            fail "uplink-link-packet-limits: want rx_oversize=1 rx_frames=$((n + 1)) on SIGUSR1: $(grep '^RESULT' "$tmp/b-$mode.up" | tail -n 1)"
        fi
    fi

    # --- down / up ---
    t0=$SECONDS
    ups_a=$(count "$ea" "resumed")
    bg_start "$swa" "$swb"
    sleep 0.5
    ip -n "$A" link set wa down
    wait_count "$ea" "is down" 1
    sleep 1
    ip -n "$A" link set wa up
    wait_count "$ea" "resumed" $((ups_a + 1))
    wait_count "$eb" "resumed" 1
    sleep 0.3
    bg_stop
    r=$(cross "$swa" "$swb" "$mode-flap")
    if ! kill -0 "${up_pid[a-$mode]}" 2>/dev/null; then
        fail "uplink-link-$mode-flap: uplink A died: $(tail -n 3 "$ea" | tr '\n' '|')"
    elif [ "$(count "$ea" "is down")" -lt 1 ] || [ "$(count "$ea" "resumed")" -le "$ups_a" ]; then
        fail "uplink-link-$mode-flap: uplink A did not report down and resumed: $(tr '\n' '|' <"$ea")"
    elif [ "$(key pkts "$r")" != "$n" ]; then
        fail "uplink-link-$mode-flap: after the flap want pkts=$n: '$r'; A: $(tail -n 2 "$ea" | tr '\n' '|')"
    else
        pass "uplink-link-$mode-flap ($((SECONDS - t0))s; down, up, resumed; $n of $n frames after)"
    fi

    # --- delete and re-create ---
    t0=$SECONDS
    ups_a=$(count "$ea" "resumed")
    ups_b=$(count "$eb" "resumed")
    bg_start "$swa" "$swb"
    sleep 0.5
    ip -n "$A" link del wa
    wait_count "$ea" "disappeared" 1
    wait_count "$eb" "disappeared" 1
    sleep 0.5
    wire
    wait_count "$ea" "resumed" $((ups_a + 1))
    wait_count "$eb" "resumed" $((ups_b + 1))
    sleep 0.3
    bg_stop
    r=$(cross "$swa" "$swb" "$mode-recreate")
    if ! kill -0 "${up_pid[a-$mode]}" 2>/dev/null || ! kill -0 "${up_pid[b-$mode]}" 2>/dev/null; then
        fail "uplink-link-$mode-recreate: an uplink died: A: $(tail -n 2 "$ea" | tr '\n' '|') B: $(tail -n 2 "$eb" | tr '\n' '|')"
    elif ! gone_and_back "$ea" || ! gone_and_back "$eb" ||
        [ "$(count "$ea" "resumed")" -le "$ups_a" ] || [ "$(count "$eb" "resumed")" -le "$ups_b" ]; then
        fail "uplink-link-$mode-recreate: want both to report disappeared and resumed: A: $(tr '\n' '|' <"$ea") B: $(tr '\n' '|' <"$eb")"
    elif [ "$(key pkts "$r")" != "$n" ]; then
        fail "uplink-link-$mode-recreate: after re-creation want pkts=$n: '$r'"
    else
        pass "uplink-link-$mode-recreate ($((SECONDS - t0))s; gone and back on both sides, new ifindex; $n of $n frames after)"
    fi
    up_stop "a-$mode"
    up_stop "b-$mode"
    echo "uplink A ($mode): $(tr '\n' '|' <"$ea")"
    echo "uplink A ($mode): $(grep '^RESULT' "$tmp/a-$mode.up")"
    echo "uplink B ($mode): $(grep '^RESULT' "$tmp/b-$mode.up")"
    "$VPIO" switch rm -f "$swa" >/dev/null 2>&1
    "$VPIO" switch rm -f "$swb" >/dev/null 2>&1
done
finish
