#!/usr/bin/env bash
# `vpio vm --nic` failures: a wrong value is a usage error (64), a resource
# that fails (a file, a switch port) a set-up failure (70), and a VM that
# fails after creating a switch removes it. --stats shows every error
# counter, also when 0.
set -u
. "$(dirname "$0")/lib/lib.sh"
make_tmpdir tmp
sw=vpne$$
trap 'rm -f /dev/shm/vpio-$sw; cleanup' EXIT

why=$(kvm_unavailable)
if [ -n "$why" ]; then
    for t in nic-bad-value nic-bad-backend nic-unwritable-pcap nic-port-twice nic-stats-errors; do
        skip "$t: $why (the VM is created before its NICs)"
    done
    finish
fi
[ -r "$GUEST" ] || { fail "guest image $GUEST missing (make guest)"; finish; }

# expect NAME STATUS NEEDLE -- command...
expect() {
    local name=$1 want=$2 needle=$3
    shift 4
    "$@" >"$tmp/out" 2>"$tmp/err"
    local got=$?
    if [ "$got" -ne "$want" ]; then
        fail "$name: exit status $got, expected $want ($(head -c 300 "$tmp/err"))"
        return 1
    elif [ -n "$needle" ] && ! grep -q -- "$needle" "$tmp/err"; then
        fail "$name: stderr lacks '$needle': $(head -c 300 "$tmp/err")"
        return 1
    fi
    return 0
}

vm() { timeout 60 "$VPIO" vm --kernel "$GUEST" --cmdline selftest --timeout 30 "$@"; }

expect nic-bad-value 64 "mac" -- vm --nic null,mac=zz && pass nic-bad-value
expect nic-bad-backend 64 "unknown backend" -- vm --nic bogus && pass nic-bad-backend
expect nic-unwritable-pcap 70 "pcap" -- vm --nic "pcap:$tmp/no-such-dir/x.pcap" &&
    pass nic-unwritable-pcap

# The second --nic finds the port taken: set-up failure, and the switch the
# first --nic created is gone again.
if expect nic-port-twice 70 "$sw:a" -- vm --nic "$sw:a" --nic "$sw:a"; then
    if [ -e "/dev/shm/vpio-$sw" ]; then
        fail "nic-port-twice: /dev/shm/vpio-$sw left behind"
    else
        pass "nic-port-twice (status 70, switch removed)"
    fi
fi

# A VM that runs: every error counter is printed, 0 or not.
if expect nic-stats-errors 1 "" -- vm --nic null --stats; then
    if grep -q '^vpio stats: errors irq_errors=[0-9]' "$tmp/err" &&
        grep -q '^vpio stats: e1000-0 errors bind_errors=[0-9]* irqfd_errors=[0-9]* io_source_errors=[0-9]' "$tmp/err"; then
        pass "nic-stats-errors ($(grep -h -o 'irq_errors=[0-9]*\|bind_errors=[0-9]*' "$tmp/err" | tr '\n' ' '))"
    else
        fail "nic-stats-errors: error counters missing: $(grep '^vpio stats' "$tmp/err" | tr '\n' '|')"
    fi
fi
finish
