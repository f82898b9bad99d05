/* The applications the command line can name (first word or app=NAME). */
#include "apps.h"
#include "net_apps.h"

const struct app apps[] = {
    { "selftest", "selftest [hz=N]", selftest_main },
    { "pktgen", "pktgen tx|rx [count=N] [len=BYTES] [dst=MAC] [nic=I]", pktgen_main },
    { "fwd", "fwd [a=0] [b=1] [batch=N] [duration=S] [idle=MS] [count=N] [copy=1]", fwd_main },
    { "crash", "crash [pf] (test: an uncaught exception)", crash_main },
    { "idle", "idle (never exits: for VMM timeout tests)", idle_main },
    { "probe", "probe [nic=I] [txmode=csb] (what each way out of ring 3 costs here)", probe_main },
    { "udp-send", "udp-send ip=A peer=B [port=P] [len=N] [count=N|duration=S] [rate=PPS]", udp_send_main },
    { "udp-recv", "udp-recv ip=A [port=P] [count=N] [duration=S] [idle=MS] [timeout=S]", udp_recv_main },
    { "ping", "ping ip=A peer=B [count=N] [interval=MS] [len=N] [wait=MS]", ping_main },
    { "echo", "echo ip=A [port=P] [duration=S] [count=N]", echo_main },
    { "udp-rr", "udp-rr ip=A peer=B [port=7] [len=N] [count=N|duration=S] [inflight=N] [poll=1]", udp_rr_main },
};
const int napps = sizeof(apps) / sizeof(apps[0]);
