/* The back-end side of the vhost-user protocol for one virtio-net device
 * with one queue pair (RX = vring 0, TX = vring 1): features, owner, memory
 * table, vring set-up, start/stop, enable, reply-ack. No I/O on the rings
 * here: vhost_net_port.c moves the frames through dev->vr[i].vq once
 * vhost_dev_ring_ready(). Used by one thread (the port's data thread), so
 * the rings never change under the data path. */
#ifndef VPIO_VHOST_DEV_H
#define VPIO_VHOST_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "vhost/vhost_mem.h"
#include "vhost/vhost_msg.h"
#include "vhost/virtq.h"

/* virtio feature bits */
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX 29
#define VHOST_USER_F_PROTOCOL_FEATURES 30
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_IN_ORDER 35 /* chains are used in the order they were made available */
/* protocol feature bits */
#define VHOST_USER_PROTOCOL_F_MQ 0
#define VHOST_USER_PROTOCOL_F_REPLY_ACK 3

/* What we offer: no checksum / TSO offloads (a frame entering the switch
 * is always complete), no MQ, no logging (no live migration). */
#define VHOST_NET_FEATURES                                                                         \
    ((1ull << VIRTIO_NET_F_MRG_RXBUF) | (1ull << VIRTIO_RING_F_INDIRECT_DESC) |                    \
     (1ull << VIRTIO_RING_F_EVENT_IDX) | (1ull << VHOST_USER_F_PROTOCOL_FEATURES) |                \
     (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_IN_ORDER))
#define VHOST_NET_PROTOCOL_FEATURES (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK)

#define VHOST_NET_RX 0
#define VHOST_NET_TX 1
#define VHOST_NET_NVRINGS 2

struct vhost_vring {
    int kick_fd, call_fd, err_fd; /* -1: none */
    uint32_t num;
    uint64_t desc_uva, avail_uva, used_uva;
    uint16_t base; /* avail index to start from (SET_VRING_BASE) */
    bool addr_set;
    bool started;      /* a kick fd (or NOFD) came and no GET_VRING_BASE since */
    bool enabled;      /* SET_VRING_ENABLE 1, or implicit without protocol features */
    bool setup_failed; /* addresses not in the memory table: counted, not run */
    struct virtq vq;   /* vq.num != 0: running */
};

struct vhost_dev_counters {
    uint64_t msgs;            /* messages handled */
    uint64_t bad_msgs;        /* refused: the connection was closed */
    uint64_t mem_tables;      /* SET_MEM_TABLE accepted */
    uint64_t ring_setup_errs; /* ring addresses that did not translate */
};

struct vhost_dev {
    uint64_t features;          /* acked by SET_FEATURES */
    uint64_t protocol_features; /* acked by SET_PROTOCOL_FEATURES */
    bool features_set, owner;
    struct vhost_mem mem;
    struct vhost_vring vr[VHOST_NET_NVRINGS];
    bool kick_fds_changed; /* set by the handler, cleared by the caller */
    struct vhost_dev_counters c;
    const char *last_error; /* why the last bad message was refused */
    /* Called before a ring stops (GET_VRING_BASE), so that the data path can
     * finish the chains the guest already made available. */
    void (*before_stop)(void *opaque, unsigned ring);
    void *opaque;
};

void vhost_dev_init(struct vhost_dev *d);
/* Forgets the connection: unmaps the memory, closes every fd, clears the
 * negotiated state (counters stay). */
void vhost_dev_reset(struct vhost_dev *d);
/* Handles one received message, sending its reply on sock (sock < 0: no
 * reply is sent, for fuzzing). Takes the message's fds. 0, or -EPROTO etc.:
 * the caller closes the connection (d->last_error says why). */
int vhost_dev_handle(struct vhost_dev *d, struct vhost_msg *m, int sock);
static inline bool vhost_dev_ring_ready(const struct vhost_dev *d, unsigned i)
{
    return d->vr[i].vq.num != 0;
}
/* Bytes of the virtio-net header in front of every frame. */
static inline unsigned vhost_dev_hdr_len(const struct vhost_dev *d)
{
    return (d->features & ((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MRG_RXBUF))) ? 12
                                                                                             : 10;
}
static inline bool vhost_dev_has(const struct vhost_dev *d, unsigned bit)
{
    return (d->features >> bit) & 1;
}

#endif
