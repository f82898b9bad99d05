#!/usr/bin/env bash
# `vpio vm`: boot the project's guest (selftest) under KVM, and every bad
# input the command must refuse with a clear error and its exit status.
set -u
. "$(dirname "$0")/lib/lib.sh"
make_tmpdir tmp

# expect NAME STATUS NEEDLE -- command...: exit status and a message on stderr
expect() {
    local name=$1 want=$2 needle=$3
    shift 4
    local got
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        fail "$name: exit status $got, expected $want ($(head -c 300 "$tmp/err"))"
    elif [ -n "$needle" ] && ! grep -q -- "$needle" "$tmp/err"; then
        fail "$name: stderr lacks '$needle': $(head -c 300 "$tmp/err")"
    else
        pass "$name"
    fi
}

expect vm-help 0 "" -- "$VPIO" vm --help
grep -q -- "--kernel" "$tmp/out" || fail "vm-help: usage text lacks --kernel"
expect vm-no-kernel 64 "missing --kernel" -- "$VPIO" vm
expect vm-bad-option 64 "unknown option" -- "$VPIO" vm --kernel "$GUEST" --frobnicate
expect vm-mem-too-small 64 "out of range" -- "$VPIO" vm --kernel "$GUEST" --mem 1M
expect vm-mem-too-large 64 "out of range" -- "$VPIO" vm --kernel "$GUEST" --mem 16G
expect vm-missing-file 66 "No such file" -- "$VPIO" vm --kernel "$tmp/nonexistent.elf"
printf 'hello\n' >"$tmp/not-elf"
expect vm-not-elf 66 "not an ELF" -- "$VPIO" vm --kernel "$tmp/not-elf"
expect vm-directory 66 "not a regular file" -- "$VPIO" vm --kernel "$tmp"
expect vm-no-pvh-note 66 "no PVH entry note" -- "$VPIO" vm --kernel "$(command -v ls)"
if command -v python3 >/dev/null; then
    # A PVH ELF whose only segment sits at 256 MiB: outside a 64 MiB guest.
    python3 - "$tmp/far.elf" <<'PY'
import struct, sys
ph_off, note_off, code_off = 64, 64 + 2 * 56, 256
eh = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
eh += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0x10000000, ph_off, 0, 0, 64, 56, 2, 64, 0, 0)
load = struct.pack("<IIQQQQQQ", 1, 5, code_off, 0x10000000, 0x10000000, 16, 16, 16)
note = struct.pack("<IIQQQQQQ", 4, 4, note_off, 0, 0, 20, 20, 4)
body = struct.pack("<III", 4, 4, 18) + b"Xen\0" + struct.pack("<I", 0x10000000)
img = eh + load + note + body
img += bytes(code_off - len(img)) + b"\xf4" * 16
open(sys.argv[1], "wb").write(img)
PY
    expect vm-segment-outside-ram 66 "outside guest RAM" -- "$VPIO" vm --kernel "$tmp/far.elf"
else
    skip "vm-segment-outside-ram: python3 missing to craft the ELF"
fi
[ -r "$GUEST" ] || { fail "guest image $GUEST missing (make guest)"; finish; }

why=$(kvm_unavailable)
if [ -n "$why" ]; then
    expect vm-no-kvm 68 "/dev/kvm" -- "$VPIO" vm --kernel "$GUEST" --cmdline selftest
    skip "vm-selftest: $why — the guest was NOT booted under vpio"
    skip "vm-timeout: $why"
    finish
fi

# The selftest guest, to its RESULT line and debug-exit status 1 (value 0).
timeout 120 "$VPIO" vm --kernel "$GUEST" --cmdline "selftest" --timeout 60 --stats \
    >"$tmp/out" 2>"$tmp/err"
st=$?
if [ "$st" -eq 1 ] && grep -q '^RESULT app=selftest ok=1' "$tmp/out"; then
    pass "vm-selftest ($(grep -o 'first serial byte at [0-9.]* ms' "$tmp/err"), $(grep -o 'run [0-9.]* ms' "$tmp/err"))"
else
    fail "vm-selftest: status $st; $(tail -n 5 "$tmp/out" | tr '\n' '|') $(tail -n 5 "$tmp/err" | tr '\n' '|')"
fi

# A guest that never exits is ended by --timeout with status 124.
timeout 60 "$VPIO" vm --kernel "$GUEST" --cmdline "idle" --timeout 2 >"$tmp/out" 2>"$tmp/err"
st=$?
if [ "$st" -eq 124 ] && grep -q "did not exit within" "$tmp/err"; then
    pass "vm-timeout"
else
    fail "vm-timeout: status $st: $(tail -n 3 "$tmp/err")"
fi
finish
