/* vpio pktgen: options (parsed separately so that tests can check them). */
#ifndef VPIO_CLI_PKTGEN_H
#define VPIO_CLI_PKTGEN_H

#include <stddef.h>
#include <stdint.h>

struct pktgen_opts {
    const char *ifname; /* -i switch:port */
    int tx;             /* -f tx (1) | rx (0) */
    uint32_t len;       /* -l frame length without CRC, 14..VPIO_SW_MAX_FRAME */
    uint64_t count;     /* -n frames (0 = no limit) */
    double seconds;     /* -T duration (0 = no limit) */
    double idle;        /* -W rx: stop after this long without frames, once some came */
    uint32_t batch;     /* -b frames per sync, 1..VPIO_SW_RING_SLOTS-1 (rx: ignored) */
    uint8_t dst[6];     /* -d */
    uint8_t src[6];     /* -s */
    int src_set;
    int quiet; /* -q: no per-second lines */
    int busy;  /* -B rx: busy-poll the ring, never sleep */
};

/* Returns 0 and fills o, 1 for --help (usage printed to stdout), or -1 with a
 * message in err. */
int pktgen_parse(int argc, char **argv, struct pktgen_opts *o, char *err, size_t errlen);

#endif
