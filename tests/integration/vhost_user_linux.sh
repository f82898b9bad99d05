#!/usr/bin/env bash
# Stock Linux guests (Debian's kernel and busybox, unpacked from their
# packages into build/linux-guest by tests/tools/linux_guest.sh, booted by
# QEMU with TCG) on vpio vhost-user ports of a switch:
#   vhost-linux-ping-vpio  Linux pings a vpio guest (e1000, `vpio vm`, app echo)
#   vhost-linux-udp-vpio   UDP both ways: Linux's DNS queries (nslookup) reach
#                          the vpio guest's UDP echo (its RESULT counts them)
#                          and the echoes reach Linux's UDP stack (InDatagrams)
#   vhost-linux-tcp        two Linux guests: 1 MiB over TCP (httpd + wget), md5 equal
#   vhost-linux-qemu-kill  QEMU killed (-9): the port drops its memory and fds,
#                          a new QEMU on the same socket talks again
#   vhost-linux-port-kill  the port process killed and restarted: QEMU
#                          (chardev reconnect=1) comes back, ping works again
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/vhost_user_lib.sh"
. "$(dirname "$0")/lib/vpio_vm_lib.sh"

checks=(vhost-linux-ping-vpio vhost-linux-udp-vpio vhost-linux-tcp vhost-linux-qemu-kill vhost-linux-port-kill)
skip_all() {
    for c in "${checks[@]}"; do skip "$c: $1"; done
    finish
}
QEMU=$(command -v qemu-system-x86_64) || skip_all "qemu-system-x86_64 not installed"
[ -x "$VPIO" ] || { fail "vhost-linux: $VPIO missing"; finish; }
command -v cpio >/dev/null || skip_all "cpio not installed (scripts/deps.sh)"
# our own directory (vpio_vm_lib's $tmp is in /tmp, which other test runs
# on this machine sweep)
tmp=$(cd "$BUILD" && pwd)/vhost-linux.$$
mkdir -p "$tmp"
_tmpdirs+=("$tmp")
gdir=$(tests/tools/linux_guest.sh "$BUILD/linux-guest" 2>"$tmp/dl.err") ||
    skip_all "cannot download Debian's kernel / busybox-static: $(tail -n 1 "$tmp/dl.err")"
tests/tools/linux_initrd.sh "$gdir" "$tmp/initrd.gz" || { fail "vhost-linux: initramfs"; finish; }
sw_new sw vhlx
trap 'cleanup; "$VPIO" switch rm -f $sw >/dev/null 2>&1' EXIT

# lx_start NAME SOCK IP MAC: a Linux guest whose NIC is vhost-user on SOCK;
# its console in $tmp/NAME.out, commands through lx_cmd NAME "...".
declare -A lx_pid lx_fd
lx_start() {
    local name=$1 sock=$2 ip=$3 mac=$4 fd
    rm -f "$tmp/$name.in" "$tmp/$name.out"
    mkfifo "$tmp/$name.in"
    timeout 300 "$QEMU" -accel tcg -cpu max -m 256 -nographic -no-reboot -nodefaults \
        -serial stdio -kernel "$gdir/vmlinuz" -initrd "$tmp/initrd.gz" \
        -append "console=ttyS0 quiet vpio.ip=$ip/24" \
        -object memory-backend-memfd,id=mem,size=256M,share=on -machine memory-backend=mem \
        -chardev "socket,id=c0,path=$sock,reconnect=1" -netdev vhost-user,id=n0,chardev=c0 \
        -device "virtio-net-pci,netdev=n0,vectors=0,mac=$mac" \
        <"$tmp/$name.in" >"$tmp/$name.out" 2>&1 &
    lx_pid[$name]=$!
    track_pid "${lx_pid[$name]}"
    exec {fd}>"$tmp/$name.in"
    lx_fd[$name]=$fd
}
lx_cmd() { printf '%s\n' "$2" >&"${lx_fd[$1]}"; }
# lx_wait NAME PATTERN SECS: until the console shows PATTERN
lx_wait() {
    local i
    for i in $(seq $(($3 * 5))); do
        tr -d '\r' <"$tmp/$1.out" | grep -q -- "$2" && return 0
        kill -0 "${lx_pid[$1]}" 2>/dev/null || return 1
        sleep 0.2
    done
    return 1
}
lx_line() { tr -d '\r' <"$tmp/$1.out" | grep -- "$2" | tail -n 1; }
# lx_kill NAME: kill -9 the QEMU process itself (timeout's child)
lx_kill() {
    local q
    q=$(pgrep -P "${lx_pid[$1]}" | head -n 1)
    [ -n "$q" ] && kill -9 "$q"
    exec {lx_fd[$1]}>&-
    wait "${lx_pid[$1]}" 2>/dev/null
}

ip1=198.18.20.1 ip2=198.18.20.2 ipv=198.18.20.3
vh_start p1 "$sw:l1" "$tmp/l1.sock"
vh_start p2 "$sw:l2" "$tmp/l2.sock"
for _ in $(seq 50); do [ -S "$tmp/l1.sock" ] && [ -S "$tmp/l2.sock" ] && break; sleep 0.1; done
lx_start l1 "$tmp/l1.sock" $ip1 02:00:00:18:14:01
lx_start l2 "$tmp/l2.sock" $ip2 02:00:00:18:14:02
kvm_why=$(kvm_unavailable)
if [ -z "$kvm_why" ] && [ -r "$GUEST" ]; then
    vm_start vm 240 "echo ip=$ipv port=53 duration=200 count=2" "$sw:vm,mac=52:54:00:14:00:03"
fi
if ! lx_wait l1 VPIO-READY 120 || ! lx_wait l2 VPIO-READY 120; then
    for c in "${checks[@]}"; do fail "$c: a Linux guest did not boot"; done
    tail -n 20 "$tmp/l1.out" "$tmp/l2.out" "$tmp/p1.err"
    finish
fi

# --- Linux <-> vpio guest ---------------------------------------------------
if [ -n "$kvm_why" ] || [ ! -r "$GUEST" ]; then
    skip "vhost-linux-ping-vpio: ${kvm_why:-$GUEST missing} (no vpio guest)"
    skip "vhost-linux-udp-vpio: ${kvm_why:-$GUEST missing} (no vpio guest)"
else
    lx_cmd l1 "ping -c 5 -W 3 $ipv > /tmp/p 2>&1; echo PING-\"\"DONE \$(grep -c 'bytes from' /tmp/p)"
    lx_wait l1 'PING-DONE' 60
    got=$(lx_line l1 'PING-DONE' | awk '{print $2}')
    if [ "${got:-0}" -ge 4 ]; then
        pass "vhost-linux-ping-vpio: $got of 5 echo replies from the vpio guest"
    else
        fail "vhost-linux-ping-vpio: ${got:-0} of 5 replies"
        tr -d '\r' <"$tmp/l1.out" | tail -n 12
    fi
    lx_cmd l1 "a=\$(awk '/^Udp: [0-9]/{print \$2}' /proc/net/snmp); nslookup vpio.test $ipv >/dev/null 2>&1; b=\$(awk '/^Udp: [0-9]/{print \$2}' /proc/net/snmp); echo UDP-\"\"DONE \$a \$b"
    lx_wait l1 'UDP-DONE' 60
    vm_wait vm
    line=$(lx_line l1 'UDP-DONE')
    in0=$(echo "$line" | awk '{print $2}') in1=$(echo "$line" | awk '{print $3}')
    er=$(result vm echo)
    echoed=$(key pkts "$er")
    echo "vpio echo: $er; Linux Udp InDatagrams $in0 -> $in1"
    if [ "${echoed:-0}" -ge 1 ] && [ -n "$in1" ] && [ "$in1" -gt "$in0" ]; then
        pass "vhost-linux-udp-vpio: the vpio guest echoed $echoed datagrams from Linux; Linux received $((in1 - in0))"
    else
        fail "vhost-linux-udp-vpio: echoed=${echoed:-0}, Linux InDatagrams $in0 -> $in1"
        vm_show vm | tail -n 15
    fi
fi

# --- TCP between the two Linux guests ---------------------------------------
lx_cmd l2 "dd if=/dev/urandom of=/www/f bs=1024 count=1024 2>/dev/null; echo SUM2 \$(md5sum /www/f); httpd -p 80 -h /www; echo HTTPD-\"\"UP"
lx_wait l2 'HTTPD-UP' 30
lx_cmd l1 "wget -q -O /tmp/f http://$ip2/f; echo SUM1 \$(md5sum /tmp/f); echo WGET-\"\"DONE"
lx_wait l1 'WGET-DONE' 120
s1=$(lx_line l1 '^SUM1 ' | awk '{print $2}') s2=$(lx_line l2 '^SUM2 ' | awk '{print $2}')
if [ -n "$s1" ] && [ "$s1" = "$s2" ]; then
    pass "vhost-linux-tcp: 1 MiB over TCP between two Linux guests, md5 $s1"
else
    fail "vhost-linux-tcp: md5 '$s1' != '$s2'"
    tr -d '\r' <"$tmp/l1.out" | tail -n 8
fi

# --- QEMU killed, a new one on the same socket -------------------------------
ppid2=${vh_pid[p2]}
lx_kill l2
for _ in $(seq 50); do
    vh_result p2 >/dev/null
    grep 'connected=' "$tmp/p2.out" | tail -n 1 | grep -q 'connected=0 ' && break
    sleep 0.2
done
m=$(maps_guest "$ppid2")
f=$(vh_result p2)
lx_start l2 "$tmp/l2.sock" $ip2 02:00:00:18:14:02
ok=0
if lx_wait l2 VPIO-READY 120; then
    lx_cmd l1 "ping -c 3 -W 3 $ip2 > /tmp/p2 2>&1; echo PING2-\"\"DONE \$(grep -c 'bytes from' /tmp/p2)"
    lx_wait l1 'PING2-DONE' 60
    got=$(lx_line l1 'PING2-DONE' | awk '{print $2}')
    [ "${got:-0}" -ge 2 ] && ok=1
fi
if [ "$ok" = 1 ] && [ "$m" = 0 ]; then
    pass "vhost-linux-qemu-kill: after kill -9 the port held no guest memory; the new QEMU answered $got of 3 pings"
else
    fail "vhost-linux-qemu-kill: guest mappings left $m, pings ${got:-0}"
fi

# --- the port process killed and restarted: QEMU reconnects ------------------
kill -9 "${vh_pid[p1]}"
wait "${vh_pid[p1]}" 2>/dev/null
sleep 1
vh_start p1b "$sw:l1" "$tmp/l1.sock"
got=0
if vh_connected p1b 30; then
    sleep 2
    lx_cmd l1 "ping -c 3 -W 3 $ip2 > /tmp/p3 2>&1; echo PING3-\"\"DONE \$(grep -c 'bytes from' /tmp/p3)"
    lx_wait l1 'PING3-DONE' 60
    got=$(lx_line l1 'PING3-DONE' | awk '{print $2}')
fi
if [ "${got:-0}" -ge 2 ]; then
    pass "vhost-linux-port-kill: QEMU reconnected to the restarted port; $got of 3 pings"
else
    fail "vhost-linux-port-kill: ${got:-0} of 3 pings after the restart"
    tail -n 5 "$tmp/p1b.err"
    tr -d '\r' <"$tmp/l1.out" | tail -n 8
fi
lx_cmd l1 "poweroff -f"
lx_cmd l2 "poweroff -f"
sleep 1
finish
