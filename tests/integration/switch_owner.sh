#!/usr/bin/env bash
# Port owners and the switch file, host only (no VM):
#  - a `vpio pktgen -f rx` killed with SIGKILL and not reaped by its parent
#    (a zombie) no longer owns its port: its name can be attached again and
#    a sender counts drops instead of queuing into the dead ring;
#  - a switch whose header is corrupted (ready word, creator pid) while a
#    port is live is not recreated under it: the attach fails with one line
#    naming `vpio switch rm -f`, `rm` without -f refuses, `rm -f` removes;
#  - `vpio switch show`, `rm`, `rm -x foo` print one line saying what is
#    wrong, not the usage.
# Uses /dev/shm/vpio-own<pid>*, removed on exit; ends only its own processes.
set -u
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
VPIO=$BUILD/vpio
SW=own$$
tmp=$(mktemp -d /tmp/vpio-owntest.XXXXXX)
pids=()
fails=0
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    sleep 0.1
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -f /dev/shm/vpio-"$SW" /dev/shm/vpio-"$SW"-*
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); }
field() { sed -n "s/^RESULT .* $1=\([0-9]*\).*/\1/p" "$2" | tail -n 1; }
wait_port() { # SWITCH PORT
    for _ in $(seq 100); do
        "$VPIO" switch show "$1" 2>/dev/null | grep -q " $2 " && return 0
        sleep 0.05
    done
    return 1
}
if [ ! -x "$VPIO" ]; then echo "FAIL switch_owner: $VPIO not built"; exit 1; fi
if ! command -v python3 >/dev/null; then echo "SKIP switch_owner: python3 missing (holds the zombie)"; exit 0; fi

# ---- a zombie owner ----
# python3 starts the receiver and never reaps it until told to (stdin EOF).
mkfifo "$tmp/hold"
python3 -c '
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "pktgen", "-i", sys.argv[2] + ":z", "-f", "rx", "-T", "60", "-q"])
open(sys.argv[3] + "/zpid", "w").write(str(pid))
sys.stdin.read()          # until the test closes the pipe
os.waitpid(pid, 0)
' "$VPIO" "$SW" "$tmp" <"$tmp/hold" >"$tmp/holder.log" 2>&1 &
holder=$!
pids+=($holder)
exec 9>"$tmp/hold" # keeps the holder waiting
for _ in $(seq 100); do [ -s "$tmp/zpid" ] && break; sleep 0.05; done
zpid=$(cat "$tmp/zpid" 2>/dev/null)
if [ -z "$zpid" ] || ! wait_port $SW z; then
    fail zombie_owner "the receiver did not attach"
else
    kill -9 "$zpid"
    state=""
    for _ in $(seq 100); do
        state=$(sed 's/.*) \(.\) .*/\1/' /proc/"$zpid"/stat 2>/dev/null)
        [ "$state" = Z ] && break; sleep 0.02
    done
    if [ "$state" != Z ]; then
        fail zombie_owner "the killed receiver is not a zombie (state '$state')"
    else
        # a sender now: its attach reclaims the dead port, every frame is a drop
        timeout 20 "$VPIO" pktgen -i $SW:t -f tx -T 1 -l 60 -q >"$tmp/tx" 2>&1
        tp=$(field pkts "$tmp/tx"); td=$(field drops "$tmp/tx")
        if [ "${tp:-x}" = 0 ] && [ "${td:-0}" -gt 0 ]; then
            pass "zombie_owner_drops (sender: pkts=0 drops=$td while the owner is a zombie)"
        else
            fail zombie_owner_drops "sender pkts=${tp:-?} drops=${td:-?}: frames queued into the dead ring"
        fi
        if timeout 20 "$VPIO" pktgen -i $SW:z -f rx -T 0.3 -q >"$tmp/rx2" 2>&1; then
            pass "zombie_owner_reattach (the name z attached again, pid $zpid still a zombie)"
        else
            fail zombie_owner_reattach "$(head -n 1 "$tmp/rx2")"
        fi
    fi
fi
exec 9>&- # the holder reaps the zombie and exits
wait "$holder" 2>/dev/null

# ---- a header corrupted under a live port ----
SW2=${SW}-c
timeout 60 "$VPIO" pktgen -i $SW2:live -f rx -T 30 -q >"$tmp/live" 2>&1 &
live=$!
pids+=($live)
if ! wait_port $SW2 live; then
    fail corrupt_header "the live receiver did not attach"
else
    ino=$(stat -c %i /dev/shm/vpio-$SW2)
    # ready word (offset 12) and creator pid (offset 72) zeroed
    python3 -c '
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(12); f.write(b"\0\0\0\0")
    f.seek(72); f.write(b"\0\0\0\0")
' /dev/shm/vpio-$SW2
    timeout 30 "$VPIO" pktgen -i $SW2:new -f tx -T 0.2 -q >"$tmp/new" 2>&1
    rc=$?
    lines=$(wc -l <"$tmp/new")
    if [ $rc -ne 0 ] && [ "$lines" -eq 1 ] && grep -q "rm -f" "$tmp/new" &&
        [ "$(stat -c %i /dev/shm/vpio-$SW2 2>/dev/null)" = "$ino" ]; then
        pass "corrupt_header_refused ($(cat "$tmp/new"))"
    else
        fail corrupt_header_refused "rc=$rc, $(head -n 2 "$tmp/new" | tr '\n' ' '), inode $ino -> $(stat -c %i /dev/shm/vpio-$SW2 2>/dev/null)"
    fi
    if ! timeout 30 "$VPIO" switch rm $SW2 >"$tmp/rm" 2>&1 && [ -e /dev/shm/vpio-$SW2 ]; then
        pass "corrupt_header_rm_refused ($(head -n 1 "$tmp/rm"))"
    else
        fail corrupt_header_rm_refused "rm without -f removed a switch with a live port"
    fi
    if timeout 30 "$VPIO" switch rm -f $SW2 >"$tmp/rmf" 2>&1 && [ ! -e /dev/shm/vpio-$SW2 ]; then
        pass corrupt_header_rm_force
    else
        fail corrupt_header_rm_force "$(head -n 1 "$tmp/rmf")"
    fi
fi
kill "$live" 2>/dev/null

# ---- one-line command-line errors ----
for args in "show" "rm" "rm -x foo" "show a b" "list x" "nosuchcmd"; do
    # shellcheck disable=SC2086
    "$VPIO" switch $args >"$tmp/cli" 2>&1
    rc=$?
    n=$(wc -l <"$tmp/cli")
    if [ $rc -eq 2 ] && [ "$n" -eq 1 ] && ! grep -q usage "$tmp/cli"; then
        pass "cli_one_line 'vpio switch $args': $(cat "$tmp/cli")"
    else
        fail "cli_one_line" "'vpio switch $args': rc=$rc, $n lines: $(head -n 1 "$tmp/cli")"
    fi
done
exit $((fails > 0))
