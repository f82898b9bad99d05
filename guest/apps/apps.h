#ifndef GUEST_APPS_H
#define GUEST_APPS_H
#include "kernel.h"
int selftest_main(const struct cmdline *cl);
int pktgen_main(const struct cmdline *cl);
int fwd_main(const struct cmdline *cl);
int crash_main(const struct cmdline *cl);
int idle_main(const struct cmdline *cl);
int probe_main(const struct cmdline *cl);
#endif
