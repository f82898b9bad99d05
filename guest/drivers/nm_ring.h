/* A netmap-style ring API over the guest e1000 driver (docs/guest-ring.md).
 *
 * One TX and one RX ring per NIC, each slot mapped 1:1 onto the NIC's
 * descriptor of the same index, and each slot's buffer IS that descriptor's
 * DMA buffer: filling a TX slot writes the frame where the device reads it,
 * reading an RX slot reads where the device wrote it. No copy on either
 * side. An application may swap a slot's buffer for another DMA-able one
 * (any guest RAM: identity mapped) and set NM_BUF_CHANGED; the next sync
 * points the descriptor at it (zero-copy forwarding between NICs).
 *
 * Ring semantics (netmap's):
 *   head  first slot owned by the application      written by the app
 *   cur   wake-up point (and next slot to use)     written by the app
 *   tail  first slot owned by the driver           written by sync
 *   Slots [head, tail) belong to the application; one slot is always empty.
 *   head <= cur <= tail (modulo the ring).
 * TX: fill slots from head, set len (and flags), advance head (= cur) past
 *   them, nm_txsync(): the slots [old head, head) go to the NIC with ONE tail
 *   update (classic: a TDT write; sc: deferred while a TX interrupt is
 *   pending; csb: guest_tdt, TDT only if the host sleeps); completed slots
 *   come back and tail moves on.
 * RX: nm_rxsync() reports new frames in [head, tail); read them, advance
 *   head (= cur) past them, nm_rxsync() again gives them back to the NIC with
 *   ONE tail update (an RDT write, or the CSB).
 * A sync never blocks; nm_rx_wait() sleeps until a frame (or a timer tick).
 * One NIC is driven either through this API or through e1000_tx/rx_peek,
 * not both at once. */
#ifndef GUEST_NM_RING_H
#define GUEST_NM_RING_H
#include "e1000.h"

#define NM_MOREFRAG 0x0001    /* RX: the frame continues in the next slot */
#define NM_BUF_CHANGED 0x0002 /* buf was replaced: reload the descriptor */
#define NM_RX_ERROR 0x0004    /* RX: the NIC flagged an error */

struct nm_slot {
    u8 *buf; /* DMA buffer (physical == virtual), NM_BUF_SIZE */
    u16 len; /* TX: set by the app; RX: set by rxsync */
    u16 flags;
};

struct nm_ring {
    u32 num_slots;
    u32 buf_size;
    u32 head, cur; /* application */
    u32 tail;      /* driver (sync) */
    u32 hwcur;     /* driver private: slots before it were synced */
    u64 syncs;     /* sync calls that handed slots over */
    struct nm_slot *slot;
};

struct vnet;
struct nm_port {
    struct e1000 *nic; /* the NIC: an e1000 ... */
    struct vnet *vnet; /* ... or a virtio-net (nm_open_vnet; nic is then NULL) */
    struct nm_ring tx, rx;
    struct nm_slot txslot[E1000_RING_MAX], rxslot[E1000_RING_MAX]; /* the NIC's ntx/nrx used */
};

static inline u32 nm_ring_next(const struct nm_ring *r, u32 i)
{
    return i + 1 == r->num_slots ? 0 : i + 1;
}
/* Slots the application may use now: [cur, tail). */
static inline u32 nm_ring_space(const struct nm_ring *r)
{
    return (r->tail + r->num_slots - r->cur) % r->num_slots;
}
static inline bool nm_ring_empty(const struct nm_ring *r)
{
    return r->cur == r->tail;
}

/* Opens the rings of a probed NIC (which must not have been used through the
 * per-packet API yet). */
void nm_open(struct nm_port *p, struct e1000 *nic);
/* The same over a probed virtio-net (drivers/virtio_net.h, nm_ring_virtio.c):
 * slots = the queue size / 2, the same semantics. */
void nm_open_vnet(struct nm_port *p, struct vnet *v);
/* Returns 0, or -1 if head/cur are outside [hwcur, tail] (an application
 * bug: nothing is synced). */
int nm_txsync(struct nm_port *p);
int nm_rxsync(struct nm_port *p);
/* TX slots handed to the NIC (or deferred by sc) and not yet completed. */
u32 nm_tx_pending(const struct nm_port *p);
/* Hands over what sc deferred, then reclaims until everything is done or
 * timeout_us passed; returns what is still pending. */
u32 nm_tx_drain(struct nm_port *p, u64 timeout_us);
/* rxsync; if nothing new, sleep (race-free, csb-aware) and rxsync again. */
int nm_rx_wait(struct nm_port *p);
/* txsync; if no slot is free, sleep until the NIC completes some (race-free,
 * csb-aware) and txsync again: netmap's poll(POLLOUT). */
int nm_tx_wait(struct nm_port *p);
/* The same over several ports (a forwarder): rxsync each; if all are empty,
 * sleep once (race free over all of them) and rxsync each again. */
int nm_rx_wait_any(struct nm_port *const *ports, unsigned n);

/* For the ring back-ends (nm_ring.c: e1000, nm_ring_virtio.c: virtio-net). */
/* a in [lo, hi] going forward around a ring of n */
static inline bool nm_ring_in_range(u32 a, u32 lo, u32 hi, u32 n)
{
    return a < n && (a + n - lo) % n <= (hi + n - lo) % n;
}

static inline void nm_ring_init(struct nm_ring *r, struct nm_slot *slots, u32 n, u32 pos,
                                u32 buf_size)
{
    r->num_slots = n;
    r->buf_size = buf_size;
    r->slot = slots;
    r->head = r->cur = r->hwcur = pos;
    r->syncs = 0;
}

#endif
