# Shared set-up of the integration scripts that boot the guest under vpio's
# own VMM (`vpio vm`, KVM), sourced after lib/lib.sh (tests/run.sh runs the
# scripts in tests/integration/, never the ones in lib/).
#   vm_setup CHECK...      FAIL and exit when vpio or the guest is missing;
#                          when KVM cannot be used, SKIP every named check
#                          and exit (a check that did not run never passes)
#   vm_start NAME SECS CMDLINE NIC...
#                          one VM in the background: `vpio vm --timeout SECS
#                          --stats --nic NIC ... --cmdline CMDLINE`, serial
#                          in $tmp/NAME.out, stderr in $tmp/NAME.err;
#                          $vm_prefix (an array, e.g. `ip netns exec NS`)
#                          goes in front of vpio
#   vm_wait NAME...        wait for them; statuses in vm_rc[NAME]
#   vm_kvm_lost NAME...    true (and $kvm_why set) when one of them exited
#                          with 68, vpio's "KVM unavailable": the caller
#                          reports SKIP, not FAIL
#   wait_line FILE PATTERN PID   until FILE has PATTERN (20 s), false if
#                          PID ended first
#   result NAME APP        the last `RESULT app=APP` line of NAME's serial
#   key NAME LINE          the value of NAME=... in LINE
#   vm_show NAME...        their whole serial output (|) and vpio's stderr
#                          (!, with --stats), for the log
#   sw_new VAR TAG         VAR = a switch name unique to this run (TAG + our
#                          PID), removed on exit
#   ping_verdict CHECK A B PEER_IP [PEER_MAC]
#                          PASS/FAIL/SKIP of `ping count=5` in VM A against
#                          `echo` in VM B (and, with PEER_MAC, that ARP
#                          resolved PEER_IP to it)
#   udp_verdict CHECK A B N RATE
#                          PASS/FAIL/SKIP of `udp-send count=N rate=RATE` in
#                          VM A -> `udp-recv count=N` in VM B: loss 0, in order
[ "${BASH_SOURCE[0]}" = "$0" ] && exit 0

declare -A vm_pid=() vm_rc=()
vm_prefix=()
_switches=()
# Not $(make_tmpdir): in a subshell its _tmpdirs+= would be lost and the
# directory left behind.
tmp=$(mktemp -d /tmp/vpio-test.XXXXXX) || exit 1
_tmpdirs+=("$tmp")

# Extra clean-up steps (e.g. deleting a network namespace), run after our
# processes are gone.
_cleanup_hooks=()
_vm_cleanup() {
    local s h
    cleanup # lib.sh: our own processes by PID, then our temp dirs
    for s in "${_switches[@]}"; do "$VPIO" switch rm -f "$s" >/dev/null 2>&1; done
    for h in "${_cleanup_hooks[@]}"; do "$h"; done
}
trap _vm_cleanup EXIT
# Interrupted (Ctrl-C, a CI job's TERM): exit, so the EXIT trap cleans up.
trap 'exit 130' INT
trap 'exit 143' TERM HUP

vm_setup() {
    local c
    [ -x "$VPIO" ] || { fail "$1: $VPIO missing (make)"; finish; }
    [ -r "$GUEST" ] || { fail "$1: $GUEST missing (make guest)"; finish; }
    local why
    why=$(kvm_unavailable)
    if [ -n "$why" ]; then
        for c in "$@"; do skip "$c: $why — no VM was booted under vpio"; done
        finish
    fi
}

sw_new() {
    local s="$2$$"
    _switches+=("$s")
    printf -v "$1" '%s' "$s"
}

vm_start() {
    local name=$1 secs=$2 cmd=$3
    shift 3
    local nics=() n
    for n in "$@"; do nics+=(--nic "$n"); done
    rm -f "$tmp/$name.out" "$tmp/$name.err"
    # `timeout` is only a safety net should vpio itself hang after the guest
    # (--timeout ends the guest); it passes our TERM on to vpio at cleanup.
    timeout -k 5 $((secs + 20)) "${vm_prefix[@]}" "$VPIO" vm --kernel "$GUEST" \
        --timeout "$secs" --stats "${nics[@]}" --cmdline "$cmd" \
        >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null &
    vm_pid[$name]=$!
    vm_rc[$name]=
    track_pid "$!"
}

vm_wait() {
    local n
    for n in "$@"; do
        wait "${vm_pid[$n]}"
        vm_rc[$n]=$?
    done
}

vm_kvm_lost() {
    local n
    for n in "$@"; do
        if [ "${vm_rc[$n]}" = 68 ]; then
            kvm_why=$(grep -m1 -i kvm "$tmp/$n.err" || head -n 1 "$tmp/$n.err")
            kvm_why="$n: vpio vm exit status 68 (KVM unavailable): ${kvm_why:0:200}"
            return 0
        fi
    done
    return 1
}

wait_line() {
    for _ in $(seq 200); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

result() { tr -d '\r' <"$tmp/$1.out" 2>/dev/null | grep "^RESULT app=$2" | tail -n 1; }

key() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

vm_show() {
    local n
    for n in "$@"; do
        echo "--- $n: exit status ${vm_rc[$n]:-?} ---"
        tr -d '\r' <"$tmp/$n.out" 2>/dev/null | sed 's/^/  | /'
        sed 's/^/  ! /' "$tmp/$n.err" 2>/dev/null
    done
}

# Why a VM's check failed, in one line: its status, RESULT, last words.
vm_why() {
    local n=$1 app=$2
    echo "$n: status ${vm_rc[$n]:-?}, result '$(result "$n" "$app")', last output '$(tr -d '\r' <"$tmp/$n.out" 2>/dev/null | tail -n 2 | tr '\n' '|')' stderr '$(tail -n 2 "$tmp/$n.err" 2>/dev/null | tr '\n' '|')'"
}

ping_verdict() {
    local check=$1 a=$2 b=$3 ip=$4 mac=${5:-} p e
    p=$(result "$a" ping)
    e=$(result "$b" echo)
    if vm_kvm_lost "$a" "$b"; then
        skip "$check: $kvm_why"
    elif [ "${vm_rc[$a]}" != 1 ] || [ "$(key sent "$p")" != 5 ] || [ "$(key received "$p")" != 5 ] ||
        [ "$(key loss "$p")" != 0 ] || [ "$(key bad "$p")" != 0 ]; then
        fail "$check: want status 1 and 5 of 5 replies; $(vm_why "$a" ping)"
    elif [ "${vm_rc[$b]}" != 1 ] || [ "$(key icmp "$e")" != 5 ]; then
        fail "$check: echo should answer 5 requests; $(vm_why "$b" echo)"
    elif [ -n "$mac" ] && ! tr -d '\r' <"$tmp/$a.out" | grep -q "$ip is at $mac"; then
        fail "$check: ARP did not resolve $ip to $mac: $(tr -d '\r' <"$tmp/$a.out" | grep -i arp | head -n 3)"
    else
        pass "$check ($((SECONDS - t0))s; $(grep -o 'received=[0-9]* rtt_min_us=[0-9]* rtt_avg_us=[0-9]*' <<<"$p"))"
    fi
}

udp_verdict() {
    local check=$1 a=$2 b=$3 n=$4 rate=$5 s r
    s=$(result "$a" udp-send)
    r=$(result "$b" udp-recv)
    if vm_kvm_lost "$a" "$b"; then
        skip "$check: $kvm_why"
    elif [ "${vm_rc[$a]}" != 1 ] || [ "$(key pkts "$s")" != "$n" ] || [ "$(key drops "$s")" != 0 ]; then
        fail "$check: sender: want status 1, pkts=$n drops=0; $(vm_why "$a" udp-send)"
    elif [ "${vm_rc[$b]}" != 1 ] || [ -z "$(key drops "$r")" ]; then
        fail "$check: receiver reported no loss figure; $(vm_why "$b" udp-recv)"
    elif [ "$(key pkts "$r")" != "$n" ] || [ "$(key drops "$r")" != 0 ] || [ "$(key ooo "$r")" != 0 ]; then
        fail "$check: $(key pkts "$r") of $n datagrams arrived, loss $(key drops "$r"), out of order $(key ooo "$r"): $r"
    else
        pass "$check ($((SECONDS - t0))s; $n datagrams at $rate/s, received $(key pkts "$r"), loss $(key drops "$r"))"
    fi
}
