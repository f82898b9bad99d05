/* The network applications (docs/guest-net.md). */
#ifndef GUEST_APPS_NET_APPS_H
#define GUEST_APPS_NET_APPS_H
#include "kernel.h"
int udp_send_main(const struct cmdline *cl);
int udp_recv_main(const struct cmdline *cl);
int ping_main(const struct cmdline *cl);
int echo_main(const struct cmdline *cl);
int udp_rr_main(const struct cmdline *cl);
#endif
