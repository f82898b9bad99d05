/* Glue between the stack's netif and the guest's e1000 driver. Guest only:
 * unlike the stack's files it includes the driver header. */
#ifndef GUEST_NET_NETIF_E1000_H
#define GUEST_NET_NETIF_E1000_H
#include "drivers/e1000.h"
#include "net/net.h"

struct netif_e1000 {
    struct netif nif;
    struct e1000 *nic;
    u64 tx_waits; /* frames that found the TX ring full and waited for room */
};

/* Fills in nif from a probed NIC; the stack's address is `ip`. */
void netif_e1000_init(struct netif_e1000 *ne, struct e1000 *nic, u32 ip);
/* Hands up to `budget` received frames to the stack, then gives the
 * descriptors back to the NIC with one RDT write. Returns frames taken. */
unsigned netif_e1000_poll(struct netif_e1000 *ne, struct net_stack *st, unsigned budget);
/* Hands over any deferred transmit tail (send combining), then halts until
 * an interrupt (the NIC's or the timer tick) unless a frame is waiting. */
void netif_e1000_wait(struct netif_e1000 *ne);
#endif
