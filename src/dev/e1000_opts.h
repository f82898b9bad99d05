/* The e1000's own --nic options (the part of a --nic spec after the
 * backend and mac that src/net hands over as net_nic_spec.dev_opts):
 *   mitigation=on|off   emulate interrupt moderation (default on)
 *   csb=on|off          offer the CSB extension (default on; docs/csb.md)
 *   csb_poll_us=N       CSB I/O thread poll before sleeping, 1..1000000 (default 50) */
#ifndef VPIO_E1000_OPTS_H
#define VPIO_E1000_OPTS_H

#include <stdbool.h>
#include <stddef.h>

struct e1000_nic_opts {
    bool mitigation;
    bool csb;
    unsigned csb_poll_us; /* 0: the thread's default (E1000_CSB_POLL_US_DEFAULT) */
};

/* Parses "key=value[,key=value]..." ("" or NULL: all defaults). Each option
 * at most once; an unknown option or a bad value is an error. 0, or -1
 * with a message in err. */
int e1000_nic_opts_parse(const char *s, struct e1000_nic_opts *out, char *err, size_t errlen);

#endif
