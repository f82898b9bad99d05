/* Uplinks: one switch port joined to one Linux network interface.
 *
 * Two data paths behind one interface: AF_XDP (uplink_xdp.c, libxdp's
 * <xdp/xsk.h>, native or generic/SKB mode) and AF_PACKET with TPACKET_V3
 * memory-mapped rings (uplink_packet.c). The caller (src/cli/cmd_uplink.c)
 * runs one data-path thread:
 *   interface -> switch: uplink_rx_burst hands out validated frames that
 *     point into the kernel's ring memory; the caller passes them to
 *     vpio_port_send_batch (which copies them) and then calls
 *     uplink_rx_release to give the ring memory back to the kernel.
 *   switch -> interface: uplink_tx_reserve hands out free transmit buffers
 *     (in ring memory), the caller fills them with vpio_port_recv_batch and
 *     calls uplink_tx_commit with the frames it got (their lengths set).
 * Everything the kernel writes into shared ring memory (descriptor
 * addresses, lengths, offsets, status words) is validated by uplink_frame.c
 * before use: a bad entry is a dropped frame and a counter.
 *
 * A struct uplink is used by one thread. */
#ifndef VPIO_UPLINK_H
#define VPIO_UPLINK_H

#include <stddef.h>
#include <stdint.h>

#include "vpio/switch.h"

enum uplink_mode { UPLINK_XDP, UPLINK_PACKET };

/* Counters of one uplink (process-local, written by the data-path thread;
 * read by the same thread when printing). Each frame is counted once. */
struct uplink_counters {
    /* interface -> switch */
    uint64_t rx_frames, rx_bytes; /* handed to the switch (rx_sw_drops of them went nowhere) */
    uint64_t rx_runts;            /* shorter than an Ethernet header */
    uint64_t rx_oversize;         /* longer than the switch's largest frame */
    uint64_t rx_truncated;        /* the kernel captured less than the frame */
    uint64_t rx_bad_desc;         /* ring entry with an impossible address/offset/length */
    uint64_t rx_outgoing;         /* AF_PACKET: the host's own outgoing frames, skipped */
    uint64_t rx_vlan;             /* VLAN tag re-inserted from the ring entry */
    uint64_t rx_csum_partial;     /* checksum not filled in by the sender (offload): passed on */
    uint64_t rx_kernel_drops;     /* the kernel dropped (ring full, frame too big for XDP) */
    uint64_t rx_sw_drops;         /* handed to the switch, delivered to no port */
    /* switch -> interface */
    uint64_t tx_frames, tx_bytes; /* queued on the interface */
    uint64_t tx_no_buf;           /* interface ring full: dropped */
    uint64_t tx_too_long;         /* longer than the interface ring's buffers: dropped */
    uint64_t tx_link_down;        /* arrived while the interface was down: dropped */
    uint64_t tx_errors;           /* rejected by the kernel (bad format, send error) */
    /* link */
    uint64_t link_downs, link_ups;
};

struct uplink_config {
    const char *ifname;
    uint32_t queue;     /* XDP: the interface's RX queue to bind */
    int xdp_skb;        /* XDP: 1 generic/SKB mode only, 0 try native first */
    int promisc;        /* put the interface in promiscuous mode while open */
    uint32_t max_frame; /* the switch's largest frame (VPIO_SW_MAX_FRAME) */
};

struct uplink;

/* Open the data path on cfg->ifname. On failure returns a negative errno and
 * writes one line saying why into why. */
int uplink_open(struct uplink **out, enum uplink_mode mode, const struct uplink_config *cfg,
                struct uplink_counters *ctr, char *why, size_t whylen);
void uplink_close(struct uplink *u);
/* Descriptor to poll() for POLLIN (frames to receive). */
int uplink_fd(const struct uplink *u);
/* Human description of the path in use, e.g. "AF_XDP skb mode, queue 0". */
const char *uplink_describe(const struct uplink *u);
/* ifindex the path is bound to. */
int uplink_ifindex(const struct uplink *u);

/* Up to n validated received frames (at most UPLINK_BURST); every pkts[i]
 * points into ring memory valid until uplink_rx_release. */
#define UPLINK_BURST 256
unsigned uplink_rx_burst(struct uplink *u, struct vpio_pkt *pkts, unsigned n);
void uplink_rx_release(struct uplink *u);

/* Up to n free transmit buffers (buf, cap set; at most UPLINK_BURST). */
unsigned uplink_tx_reserve(struct uplink *u, struct vpio_rxpkt *bufs, unsigned n);
/* Send bufs[0..k) (len set, k <= the reserved count; the rest go back). */
void uplink_tx_commit(struct uplink *u, struct vpio_rxpkt *bufs, unsigned k, unsigned reserved);
/* Reclaim completed transmissions, kick the kernel if it waits; returns < 0
 * (-ENETDOWN, -ENXIO, ...) when the interface is unusable. */
int uplink_tx_flush(struct uplink *u);
/* Pull the kernel's own drop counters into ctr (cheap, call now and then). */
void uplink_poll_stats(struct uplink *u);

/* Backend operations (one table per data path). */
struct uplink_ops {
    int (*open)(struct uplink *u, char *why, size_t whylen);
    void (*close)(struct uplink *u);
    unsigned (*rx_burst)(struct uplink *u, struct vpio_pkt *pkts, unsigned n);
    void (*rx_release)(struct uplink *u);
    unsigned (*tx_reserve)(struct uplink *u, struct vpio_rxpkt *bufs, unsigned n);
    void (*tx_commit)(struct uplink *u, struct vpio_rxpkt *bufs, unsigned k, unsigned reserved);
    int (*tx_flush)(struct uplink *u);
    void (*poll_stats)(struct uplink *u);
};
extern const struct uplink_ops uplink_xdp_ops, uplink_packet_ops;

/* Common part of an open uplink; each backend keeps its state behind priv. */
struct uplink {
    const struct uplink_ops *ops;
    struct uplink_config cfg;
    char ifname[32];
    int ifindex;
    int fd;         /* for poll() */
    int promisc_fd; /* AF_PACKET socket holding the promiscuous membership, or -1 */
    struct uplink_counters *ctr;
    char desc[96];
    void *priv;
    /* frames of the last rx_burst: VLAN re-insertion scatter lists */
    struct iovec iov[UPLINK_BURST][3];
    uint8_t vtag[UPLINK_BURST][4];
};

/* Promiscuous membership through an AF_PACKET socket (released on close). */
int uplink_promisc_open(int ifindex);

#endif
