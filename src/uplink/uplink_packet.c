/* The AF_PACKET data path: TPACKET_V3, a memory-mapped RX ring of blocks
 * and a TX ring of fixed frames, PACKET_QDISC_BYPASS (no qdisc on our
 * transmissions), PACKET_LOSS (a frame the kernel cannot send is dropped,
 * not retried forever). Works on every interface type.
 *
 * Shared memory with the kernel: RX blocks are the kernel's while
 * block_status lacks TP_STATUS_USER (we read one block after the kernel
 * sets it, and give it back by writing TP_STATUS_KERNEL); TX frames are ours
 * while tp_status is TP_STATUS_AVAILABLE (we fill one and write
 * TP_STATUS_SEND_REQUEST; the kernel writes AVAILABLE back once sent, or
 * WRONG_FORMAT). Every block is walked by uplink_tp_block_parse before a
 * byte of a frame is read. */
#include "uplink.h"
#include "uplink_frame.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define RX_BLOCK_SIZE (1u << 18) /* 256 KiB: a 64 KiB GRO frame still fits (and is counted) */
#define RX_BLOCKS 16u
#define RX_RETIRE_MS 1u /* a partly filled block goes to user space after 1 ms */
#define TX_FRAME_SIZE 2048u
#define TX_FRAMES 1024u
#define TX_BLOCK_SIZE (1u << 16)
#define TX_DATA_OFS TPACKET_ALIGN(sizeof(struct tpacket3_hdr)) /* no PACKET_TX_HAS_OFF */
#define RX_MAX_FRAMES (RX_BLOCK_SIZE / 64)

struct pkt_state {
    uint8_t *map;
    size_t map_size;
    uint8_t *rx, *tx;
    unsigned rx_block; /* the block we read next */
    int parsed;        /* frames[] holds rx_block's frames */
    unsigned nframes, next;
    unsigned tx_head; /* the next TX frame to fill */
    int tx_pending;   /* frames marked SEND_REQUEST since the last send() */
    struct uplink_tp_frame frames[RX_MAX_FRAMES];
};

static int sockopt_int(int fd, int opt, int v)
{
    return setsockopt(fd, SOL_PACKET, opt, &v, sizeof v);
}

static void pkt_close(struct uplink *u)
{
    struct pkt_state *s = u->priv;
    if (s) {
        if (s->map)
            munmap(s->map, s->map_size);
        free(s);
    }
    if (u->fd >= 0)
        close(u->fd);
    u->fd = -1;
    u->priv = NULL;
}

static int pkt_open(struct uplink *u, char *why, size_t whylen)
{
    struct pkt_state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(why, whylen, "out of memory");
        return -ENOMEM;
    }
    u->priv = s;
    const char *step = "socket(AF_PACKET)";
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    u->fd = fd;
    if (fd < 0)
        goto fail;
    step = "PACKET_VERSION TPACKET_V3";
    if (sockopt_int(fd, PACKET_VERSION, TPACKET_V3) < 0)
        goto fail;
    step = "PACKET_QDISC_BYPASS";
    if (sockopt_int(fd, PACKET_QDISC_BYPASS, 1) < 0)
        goto fail;
    step = "PACKET_LOSS";
    if (sockopt_int(fd, PACKET_LOSS, 1) < 0)
        goto fail;
#ifdef PACKET_IGNORE_OUTGOING
    sockopt_int(fd, PACKET_IGNORE_OUTGOING, 1); /* 4.20+; the walk skips them anyway */
#endif
    struct tpacket_req3 rx = {
        .tp_block_size = RX_BLOCK_SIZE,
        .tp_block_nr = RX_BLOCKS,
        .tp_frame_size = TX_FRAME_SIZE,
        .tp_frame_nr = RX_BLOCK_SIZE / TX_FRAME_SIZE * RX_BLOCKS,
        .tp_retire_blk_tov = RX_RETIRE_MS,
    };
    step = "PACKET_RX_RING";
    if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &rx, sizeof rx) < 0)
        goto fail;
    struct tpacket_req3 tx = {
        .tp_block_size = TX_BLOCK_SIZE,
        .tp_block_nr = TX_FRAMES * TX_FRAME_SIZE / TX_BLOCK_SIZE,
        .tp_frame_size = TX_FRAME_SIZE,
        .tp_frame_nr = TX_FRAMES,
    };
    step = "PACKET_TX_RING";
    if (setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &tx, sizeof tx) < 0)
        goto fail;
    s->map_size = (size_t)RX_BLOCK_SIZE * RX_BLOCKS + (size_t)TX_FRAME_SIZE * TX_FRAMES;
    step = "mmap of the rings";
    s->map = mmap(NULL, s->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (s->map == MAP_FAILED) {
        s->map = NULL;
        goto fail;
    }
    s->rx = s->map;
    s->tx = s->map + (size_t)RX_BLOCK_SIZE * RX_BLOCKS;
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = u->ifindex;
    step = "bind";
    if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0)
        goto fail;
    snprintf(u->desc, sizeof u->desc, "AF_PACKET TPACKET_V3, qdisc bypass");
    return 0;
fail:;
    int e = errno ? errno : EIO;
    snprintf(why, whylen, "AF_PACKET on %s: %s: %s", u->ifname, step, strerror(e));
    pkt_close(u);
    return -e;
}

static struct tpacket_block_desc *rx_block(struct pkt_state *s, unsigned b)
{
    return (struct tpacket_block_desc *)(s->rx + (size_t)b * RX_BLOCK_SIZE);
}

static void release_block(struct pkt_state *s)
{
    struct tpacket_block_desc *bd = rx_block(s, s->rx_block);
    __atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    s->rx_block = (s->rx_block + 1) % RX_BLOCKS;
    s->parsed = 0;
}

static unsigned pkt_rx_burst(struct uplink *u, struct vpio_pkt *pkts, unsigned n)
{
    struct pkt_state *s = u->priv;
    for (unsigned tries = 0; tries <= RX_BLOCKS; tries++) {
        if (!s->parsed) {
            struct tpacket_block_desc *bd = rx_block(s, s->rx_block);
            uint32_t st = __atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE);
            if (!(st & TP_STATUS_USER))
                return 0;
            s->nframes = uplink_tp_block_parse((const uint8_t *)bd, RX_BLOCK_SIZE, u->cfg.max_frame,
                                               s->frames, RX_MAX_FRAMES, u->ctr);
            s->next = 0;
            s->parsed = 1;
        }
        if (s->next < s->nframes) {
            unsigned k = s->nframes - s->next < n ? s->nframes - s->next : n;
            for (unsigned i = 0; i < k; i++) {
                const struct uplink_tp_frame *f = &s->frames[s->next + i];
                unsigned cnt = uplink_vlan_iov(f, u->iov[i], u->vtag[i]);
                if (cnt > 1) {
                    u->ctr->rx_vlan++;
                    pkts[i] = (struct vpio_pkt){.len = f->len + 4, .iovcnt = cnt, .iov = u->iov[i]};
                } else {
                    pkts[i] = (struct vpio_pkt){.data = f->data, .len = f->len};
                }
                if (f->status & TP_STATUS_CSUMNOTREADY)
                    u->ctr->rx_csum_partial++;
            }
            s->next += k;
            return k;
        }
        release_block(s);
    }
    return 0;
}

static void pkt_rx_release(struct uplink *u)
{
    struct pkt_state *s = u->priv;
    if (s->parsed && s->next >= s->nframes)
        release_block(s);
}

static struct tpacket3_hdr *tx_frame(struct pkt_state *s, unsigned i)
{
    return (struct tpacket3_hdr *)(s->tx + (size_t)(i % TX_FRAMES) * TX_FRAME_SIZE);
}

static unsigned pkt_tx_reserve(struct uplink *u, struct vpio_rxpkt *bufs, unsigned n)
{
    struct pkt_state *s = u->priv;
    unsigned k = 0;
    for (; k < n; k++) {
        struct tpacket3_hdr *h = tx_frame(s, s->tx_head + k);
        uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
        if (st == TP_STATUS_WRONG_FORMAT) {
            u->ctr->tx_errors++;
            __atomic_store_n(&h->tp_status, TP_STATUS_AVAILABLE, __ATOMIC_RELAXED);
        } else if (st != TP_STATUS_AVAILABLE) {
            break;
        }
        bufs[k].buf = (uint8_t *)h + TX_DATA_OFS;
        bufs[k].cap = TX_FRAME_SIZE - TX_DATA_OFS;
        bufs[k].len = 0;
    }
    return k;
}

static void pkt_tx_commit(struct uplink *u, struct vpio_rxpkt *bufs, unsigned k, unsigned reserved)
{
    struct pkt_state *s = u->priv;
    (void)reserved; /* unused frames stay AVAILABLE: nothing to give back */
    for (unsigned i = 0; i < k; i++) {
        struct tpacket3_hdr *h = tx_frame(s, s->tx_head + i);
        h->tp_len = bufs[i].len;
        h->tp_snaplen = bufs[i].len;
        h->tp_next_offset = 0; /* V3 TX: fixed-size frames only */
        u->ctr->tx_frames++;
        u->ctr->tx_bytes += bufs[i].len;
        __atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
    }
    s->tx_head = (s->tx_head + k) % TX_FRAMES;
    if (k)
        s->tx_pending = 1;
}

static int pkt_tx_flush(struct uplink *u)
{
    struct pkt_state *s = u->priv;
    if (!s->tx_pending)
        return 0;
    s->tx_pending = 0;
    if (send(u->fd, NULL, 0, MSG_DONTWAIT) < 0) {
        int e = errno;
        if (e == EAGAIN || e == ENOBUFS || e == EINTR) {
            s->tx_pending = 1; /* try again on the next flush */
            return 0;
        }
        if (e == ENETDOWN || e == ENXIO || e == ENODEV)
            return -e;
        u->ctr->tx_errors++;
    }
    return 0;
}

static void pkt_poll_stats(struct uplink *u)
{
    struct tpacket_stats_v3 st;
    socklen_t len = sizeof st;
    if (getsockopt(u->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
        u->ctr->rx_kernel_drops += st.tp_drops; /* reading resets them */
}

const struct uplink_ops uplink_packet_ops = {
    .open = pkt_open,
    .close = pkt_close,
    .rx_burst = pkt_rx_burst,
    .rx_release = pkt_rx_release,
    .tx_reserve = pkt_tx_reserve,
    .tx_commit = pkt_tx_commit,
    .tx_flush = pkt_tx_flush,
    .poll_stats = pkt_poll_stats,
};
