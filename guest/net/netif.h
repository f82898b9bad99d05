/* The stack's network interface: what a NIC driver provides (a MAC and a
 * transmit function) and what it calls (net_input, in net.h, for every
 * received frame). Frames are Ethernet without FCS. The driver owns `drv`.
 *
 * Ownership: tx() must copy the frame (or finish with it) before it
 * returns; the stack reuses its buffer for the next frame. net_input()
 * never keeps a pointer to the frame it is given. tx() must not call
 * net_input on the same stack (queue instead): the stack is not reentrant. */
#ifndef GUEST_NET_NETIF_H
#define GUEST_NET_NETIF_H
#include "net_port.h"

/* features: what the NIC does for the stack. */
#define NETIF_F_TX_UDP_CSUM 0x1 /* NIC finishes the UDP checksum (see below) */

/* tx flags for one frame. */
#define NETIF_TX_CSUM_UDP                                                                          \
    0x1 /* the UDP checksum field holds the folded                                                 \
         * pseudo-header sum, not complemented; the                                                \
         * NIC sums from the UDP header (offset                                                    \
         * 14 + IHL*4) to the end of the IP packet                                                 \
         * and stores the complement there */

struct netif {
    uint8_t mac[6];
    uint32_t ip;       /* host byte order: 198.18.0.1 is 0xc6120001 */
    uint32_t features; /* NETIF_F_* */
    unsigned mtu;      /* IP MTU; 1500 unless the driver says otherwise */
    /* Transmit one frame (14..1514 bytes). 0 if queued or sent, negative if
     * the NIC could not take it (ring full): the stack counts a drop. */
    int (*tx)(struct netif *nif, const void *frame, unsigned len, unsigned flags);
    void *drv;
    /* Driver-level counters, kept by the stack around tx() and net_input. */
    uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes, tx_fail;
};
#endif
