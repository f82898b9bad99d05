/* The ring API (nm_ring.h) over virtio-net: what nm_ring.c calls when a
 * port's NIC is a virtio-net. */
#ifndef GUEST_NM_RING_VIRTIO_H
#define GUEST_NM_RING_VIRTIO_H
#include "nm_ring.h"
#include "virtio_net.h"

int vnet_nm_txsync(struct nm_port *p);
int vnet_nm_rxsync(struct nm_port *p);
u32 vnet_nm_tx_pending(const struct nm_port *p);
u32 vnet_nm_tx_drain(struct nm_port *p, u64 timeout_us);
#endif
