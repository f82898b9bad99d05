/* The applications the command line can name (first word or app=NAME). */
#include "apps.h"

const struct app apps[] = {
    { "selftest", "selftest [hz=N]", selftest_main },
    { "pktgen", "pktgen tx|rx [count=N] [len=BYTES] [dst=MAC] [nic=I]", pktgen_main },
    { "crash", "crash [pf] (test: an uncaught exception)", crash_main },
    { "idle", "idle (never exits: for VMM timeout tests)", idle_main },
};
const int napps = sizeof(apps) / sizeof(apps[0]);
