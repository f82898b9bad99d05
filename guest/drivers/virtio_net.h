/* Ring-3 virtio-net driver (virtio 1.0 over modern PCI: virtio_pci.h) with
 * split virtqueues (virtqueue.h): RX queue 0, TX queue 1. Features taken
 * when offered: VERSION_1 (required), MRG_RXBUF, EVENT_IDX, MAC, STATUS; no
 * offloads, no control queue (QEMU stays promiscuous, vhost back-ends do
 * not filter; the stack filters by MAC).
 *
 * Buffers. Every slot is a pair of descriptors, fixed at probe: 2i is a
 * 12-byte virtio-net header in a per-slot array, 2i+1 the 2 KiB frame
 * buffer (VERSION_1 means any layout is fine). So a slot buffer holds a bare
 * Ethernet frame at offset 0, exactly as an e1000 slot does, and buffers
 * can migrate between an e1000 and a virtio-net NIC (fwd's zero copy).
 * A queue of size Q gives Q/2 slots.
 *
 * Disciplines, as the e1000 driver has them (docs/guest-virtio.md):
 *  - TX: one avail.idx publication per batch (per ring sync, or per frame
 *    on the per-packet API) and a notify only when the device asked for it
 *    (EVENT_IDX avail_event, or !NO_NOTIFY). TX completions never
 *    interrupt, except while the driver sleeps on a full ring.
 *  - RX: buffers go back a quarter ring at a time (or all when the ring ran
 *    dry), one publication and at most one notify each.
 *  - NAPI: RX interrupts stay suppressed while the driver polls; before it
 *    sleeps it asks for one (used_event = what it has read), issues a full
 *    barrier and looks again: the race-free sleep.
 *  - Interrupts: MSI-X entry 0 for both queues (edge, no ISR read), else
 *    INTx through the IOAPIC (level; the ring-0 stub reads the ISR, which
 *    deasserts it).
 * The device is untrusted: used ids, lengths and indices are checked; a
 * bad one is refused and counted (bad_used), never followed. */
#ifndef GUEST_VIRTIO_NET_H
#define GUEST_VIRTIO_NET_H
#include "kernel.h"
#include "virtio_pci.h"
#include "virtqueue.h"

#define VIRTIO_NET_F_MAC (1ull << 5)
#define VIRTIO_NET_F_MRG_RXBUF (1ull << 15)
#define VIRTIO_NET_F_STATUS (1ull << 16)
#define VNET_HDR_LEN 12
#define VNET_BUF 2048
#define VNET_MAX_SLOTS (VQ_MAX_SIZE / 2)
#define VNET_WANT_QSIZE 1024 /* asked for; the device may offer less (QEMU: 256 by default) */

struct vnet {
    int index;    /* which virtio-net on bus 0 (PCI order) */
    int irq_slot; /* nic_irqs[] slot and vector offset: NIC_MAX - 1 - index */
    struct virtio_pci vp;
    struct virtq rxq, txq;
    u8 mac[6];
    u64 features;
    bool msix, irqs_on;
    u8 gsi;
    u32 nrx, ntx;        /* slots per queue */
    u8 *rx_hdr, *tx_hdr; /* 16 bytes per slot */
    u8 *rxbuf, *txbuf;   /* the initial frame buffers */

    /* TX: slot i = descriptors 2i, 2i+1; posted in order, completed in any. */
    u32 tx_tail, tx_clean;      /* next to fill, oldest not completed */
    u8 tx_busy[VNET_MAX_SLOTS]; /* given to the device, not yet used */
    /* RX: pairs 0..nrx-2 circulate (one fewer than ring positions, so the
     * ring can never look empty when full); ring position p holds the frame
     * of pair rx_pair_at[p]. */
    u32 rx_next;      /* next ring position to fill from the used ring */
    u32 rx_posted;    /* positions before it were given back */
    u32 rx_read;      /* per-packet API: next position to read */
    u32 rx_frag_left; /* MRG_RXBUF: buffers still to come of this frame */
    u16 rx_pair_at[VNET_MAX_SLOTS];
    u16 rx_len[VNET_MAX_SLOTS];
    u8 rx_flags[VNET_MAX_SLOTS]; /* NM_MOREFRAG / NM_RX_ERROR values */
    u8 rx_busy[VNET_MAX_SLOTS];  /* pair given to the device */

    u64 tx_pkts, tx_bytes, tx_full, rx_pkts, rx_bytes, rx_errors, bad_used;
};

/* The index-th virtio-net (1af4:1041 or 1af4:1000) on bus 0. 0 or -1. */
int vnet_probe(struct vnet *v, int index, const struct cmdline *cl);
bool vnet_pci_match(const struct pci_dev *d);

/* Per-packet API (the socket path): copy a frame into the next TX slot and
 * publish it (notify only if asked); -1 if the ring is full. */
int vnet_tx(struct vnet *v, const void *frame, u32 len);
/* Reclaims completed TX slots; returns slots still in flight. */
u32 vnet_tx_reclaim(struct vnet *v);
static inline u32 vnet_tx_space(const struct vnet *v)
{
    return (v->tx_clean + v->ntx - 1 - v->tx_tail) % v->ntx;
}
/* The TX ring is full: sleep (interrupt at the next completion, barrier,
 * re-check) until the device completes one or the timer ticks. */
void vnet_tx_wait(struct vnet *v);
/* RX: the next frame (flags: NM_MOREFRAG / NM_RX_ERROR), advance past it,
 * give buffers back in batches. */
bool vnet_rx_peek(struct vnet *v, const u8 **data, u32 *len, u8 *flags);
void vnet_rx_advance(struct vnet *v);
void vnet_rx_refill(struct vnet *v);
void vnet_rx_wait(struct vnet *v);
/* The race-free sleep in two halves, for a sleep over several NICs: after
 * the caller read irq_seq, arm this NIC's RX interrupt and say whether it
 * is still empty; after the sleep (or instead of it), suppress again. */
bool vnet_rx_sleep_arm(struct vnet *v);
void vnet_rx_sleep_end(struct vnet *v);

/* Pulls one used RX entry into ring position rx_next: false if none (or
 * the ring positions are exhausted). Shared by both APIs. */
bool vnet_rx_fetch(struct vnet *v);
/* Gives ring positions [rx_posted, upto) back to the device: one
 * publication, a notify only if asked. */
void vnet_rx_give(struct vnet *v, u32 upto);
/* The frame buffer of ring position pos (RX), or of slot i (TX); set_buf
 * points the slot's descriptor at another buffer (NM_BUF_CHANGED). */
u8 *vnet_rx_buf(const struct vnet *v, u32 pos);
void vnet_rx_set_buf(struct vnet *v, u32 pos, u8 *buf);
u8 *vnet_tx_buf(const struct vnet *v, u32 i);
void vnet_tx_set_buf(struct vnet *v, u32 i, u8 *buf);
/* Hands TX slot i (len bytes) to the device, not yet published. */
void vnet_tx_post(struct vnet *v, u32 i, u32 len);
/* Publishes the TX slots posted since the last publication; notify if asked. */
void vnet_tx_publish(struct vnet *v);

int vnet_stats_str(struct vnet *v, char *buf, size_t size);
void vnet_stats_reset(struct vnet *v);
/* Guest-side view of the counters pktgen prints. */
static inline u64 vnet_kicks(const struct vnet *v)
{
    return v->txq.kicks + v->rxq.kicks;
}
static inline u64 vnet_reg_writes(const struct vnet *v)
{
    return v->vp.reg_writes + vnet_kicks(v);
}
#endif
