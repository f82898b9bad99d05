/* Glue between the stack's netif and the guest's virtio-net driver. Guest
 * only, like netif_e1000. */
#ifndef GUEST_NET_NETIF_VIRTIO_H
#define GUEST_NET_NETIF_VIRTIO_H
#include "drivers/virtio_net.h"
#include "net/net.h"

struct netif_virtio {
    struct netif nif;
    struct vnet *nic;
    u64 tx_waits; /* frames that found the TX ring full and waited for room */
};

void netif_virtio_init(struct netif_virtio *nv, struct vnet *nic, const u8 mac[6], u32 ip);
/* Hands up to budget received frames to the stack; buffers go back in
 * batches (vnet_rx_refill). Returns frames taken. */
unsigned netif_virtio_poll(struct netif_virtio *nv, struct net_stack *st, unsigned budget);
/* Halts until an interrupt (the NIC's or the timer tick) unless a frame is
 * waiting: the race-free sleep. */
void netif_virtio_wait(struct netif_virtio *nv);
#endif
