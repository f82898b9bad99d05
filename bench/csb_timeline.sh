#!/usr/bin/env bash
# Where a CSB VM pair's time goes on two cores: runs bench/vm_pair.sh (ring
# API by default, txmode csb), records the scheduler for WINDOW_MS in the
# middle of the run (`perf sched record`: sched_switch / sched_wakeup), and
# prints, per thread of the two `vpio vm` processes (vCPU "vpio", "csb-io",
# "sw-rx"), how often it ran, its run time, the time it waited runnable for
# its core after being woken (sch delay: the hand-over cost), and the time
# it slept; then the same for everything else that ran on the two cores.
#   bench/csb_timeline.sh [-m MODE] [-a ring|socket] [-w WINDOW_MS] [-t SECONDS]
# Needs root (perf on all CPUs) and /dev/kvm. The raw timeline stays in
# build/csb-timeline/ (perf sched timehist -i build/csb-timeline/sched.data).
set -u
cd "$(dirname "$0")/.."
mode=csb api=ring win=20 secs=4
while getopts "m:a:w:t:h" o; do
    case $o in
    m) mode=$OPTARG ;; a) api=$OPTARG ;; w) win=$OPTARG ;; t) secs=$OPTARG ;;
    *) sed -n '2,12p' "$0"; exit 2 ;;
    esac
done
command -v perf >/dev/null || { echo "csb_timeline: needs perf (linux-perf)" >&2; exit 1; }
out=build/csb-timeline
mkdir -p "$out"
bench/vm_pair.sh -a "$api" -m "$mode" -t "$secs" >"$out/pair.txt" 2>&1 &
pair=$!
sleep "$(awk -v s="$secs" 'BEGIN {print s / 2 + 0.5}')"
pids=$(pgrep -f "vpio vm .*--nic pair" | tr '\n' ' ')
perf sched record -a -o "$out/sched.data" -- sleep "$(awk -v w="$win" 'BEGIN {print w / 1000}')" \
    >/dev/null 2>&1
wait "$pair"
grep -a RESULT "$out/pair.txt" | cut -c1-160
perf sched timehist -i "$out/sched.data" >"$out/timehist.txt" 2>/dev/null
echo "window ${win} ms, vpio vm pids: $pids"
# timehist: time cpu task[tid/pid] wait sch-delay run (ms)
awk -v pids="$pids" '
    BEGIN { n = split(pids, p, " "); for (i = 1; i <= n; i++) vm[p[i]] = i }
    $3 ~ /\[/ {
        task = $3; tid = task; sub(/.*\[/, "", tid); sub(/\].*/, "", tid)
        split(tid, tp, "/"); pid = (tp[2] != "") ? tp[2] : tp[1]
        name = task; sub(/\[.*/, "", name)
        who = (pid in vm) ? "VM" vm[pid] " " name : "other " name
        runs[who]++; wait[who] += $4; delay[who] += $5; run[who] += $6
    }
    END {
        printf "%-28s %6s %10s %12s %10s %14s\n", "thread", "runs", "run ms", "sch delay ms", "wait ms", "delay/run us"
        fflush()
        cmd = "sort -k1,1"
        for (w in runs)
            printf "%-28s %6d %10.3f %12.3f %10.3f %14.1f\n", w, runs[w], run[w], delay[w], wait[w], 1000 * delay[w] / runs[w] | cmd
        close(cmd)
    }' "$out/timehist.txt"
echo "VM1 is the receiver (started first), VM2 the sender; sch delay = woken but waiting for a core."
