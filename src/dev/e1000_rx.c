/* e1000 model: receive.
 *
 * e1000_rx_poll_locked() first hands the backlog (frames that arrived while
 * the guest had no free descriptors) to the guest, then pulls frames from
 * the backend. A frame passes the address filters and the length check
 * (CVE-2012-6075), then needs enough
 * descriptors between RDH and RDT for its length plus the 4-byte FCS
 * (unless RCTL.SECRC) in buffers of the RCTL size.
 *
 * Two ways in:
 *  - direct (the common case: every frame the guest accepts fits one
 *    buffer): the free descriptors are copied and checked, their buffers
 *    handed to the backend, which copies frames straight into them
 *    (net_recv_batch: one copy from a switch ring to the guest); then each
 *    frame is filtered, padded, written back (length, DD, EOP) and RDH
 *    advances. A backend that can hold frames (rx_pending: the switch port)
 *    is not read while the guest has no free descriptor: frames wait in it,
 *    bounded by its ring, and are dropped and counted there when it is full.
 *  - staged (long frames over several descriptors, backends that cannot
 *    hold frames): one frame at a time into rx_buf; all its descriptors are
 *    copied and checked before any byte is written. A frame that does not
 *    fit waits in the backlog (bounded, cfg.rx_backlog_max); once the
 *    backlog is full further frames are dropped and counted in MPC (and RXO
 *    is raised): never lost silently.
 *
 * Who calls it: the guest's RDT write (a "pull", inside its exit), the CSB
 * I/O thread, and the backend's arrival notice (e1000_rx_arrived). A pull
 * that delivered frames marks the guest as polling: for
 * E1000_RX_PULL_GRACE_NS the arrival notice leaves the frames to the
 * guest's next pull instead of delivering them (and interrupting) from
 * another thread -- host-side batching: received frames go to the guest in
 * bursts, and a polling guest's core is not shared with a delivery thread. */
#include <stdlib.h>
#include <string.h>

#include "dev/e1000_internal.h"

#define ETH_ZLEN 60
/* The longest frames RCTL allows, as the backend carries them (no FCS).
 * The 8254x manual (ROC, RLEC: "Packets over 1522 bytes are oversized if
 * LongPacketEnable is 0b ... if it exceeds 16384 bytes" with LPE, counting
 * "from <Destination Address> through <CRC>, inclusively") counts the
 * 4-byte CRC, so without LPE a full-size VLAN-tagged frame (1514 + 4-byte
 * tag = 1518, 1522 on the wire) is the longest accepted. (QEMU compares
 * 1522 with the frame without its FCS and so accepts 4 bytes more than the
 * hardware does.) */
#define ETH_MAX_NO_LPE (1522 - 4)
#define ETH_MAX_LPE (16384 - 4)
#define RX_MAX_DESCS (E1000_RX_FRAME_MAX / 256 + 2)

#define RX_DIRECT_BATCH 64 /* descriptors handed to the backend per call */

enum rx_result { RX_DELIVERED, RX_DROPPED, RX_NEED_DESC };

int e1000_rx_alloc(struct e1000 *dev)
{
    dev->rx_buf = malloc(E1000_RX_FRAME_MAX);
    dev->backlog = calloc(dev->backlog_max, sizeof(*dev->backlog));
    return dev->rx_buf && dev->backlog ? 0 : -1;
}

static void backlog_clear(struct e1000 *dev, bool count)
{
    while (dev->backlog_n) {
        struct e1000_rx_frame *f = &dev->backlog[dev->backlog_head];
        free(f->data);
        f->data = NULL;
        if (count)
            e1000_drop(dev, E1000_DROP_RX_DISABLED);
        dev->backlog_head = (dev->backlog_head + 1) % dev->backlog_max;
        dev->backlog_n--;
    }
    dev->backlog_head = 0;
}

void e1000_rx_free(struct e1000 *dev)
{
    if (dev->backlog)
        backlog_clear(dev, false);
    free(dev->backlog);
    free(dev->rx_buf);
    dev->backlog = NULL;
    dev->rx_buf = NULL;
}

void e1000_rx_reset(struct e1000 *dev)
{
    if (dev->backlog)
        backlog_clear(dev, true); /* a reset flushes the receive FIFO */
}

static uint32_t buffer_size(uint32_t rctl)
{
    uint32_t bsize = (rctl & E1000_RCTL_BSIZE_MASK) >> E1000_RCTL_BSIZE_SHIFT;
    if (rctl & E1000_RCTL_BSEX) {
        static const uint32_t ext[4] = {2048, 16384, 8192, 4096};
        return ext[bsize];
    }
    static const uint32_t std[4] = {2048, 1024, 512, 256};
    return std[bsize];
}

static uint32_t mta_hash(uint32_t rctl, const uint8_t *a)
{
    switch ((rctl & E1000_RCTL_MO_MASK) >> E1000_RCTL_MO_SHIFT) {
    case 0:
        return ((a[4] >> 4) | (a[5] << 4)) & 0xFFF;
    case 1:
        return ((a[4] >> 3) | (a[5] << 5)) & 0xFFF;
    case 2:
        return ((a[4] >> 2) | (a[5] << 6)) & 0xFFF;
    default:
        return (a[4] | (a[5] << 8)) & 0xFFF;
    }
}

/* Address and VLAN filters. */
static bool rx_accept(struct e1000 *dev, const uint8_t *f, uint32_t len)
{
    uint32_t rctl = R(dev, E1000_RCTL);
    if (len < 14)
        return false;
    if ((rctl & E1000_RCTL_VFE) && e1000_be16(f + 12) == (R(dev, E1000_VET) & 0xFFFF) &&
        len >= 18) {
        uint32_t vid = e1000_be16(f + 14) & 0xFFF;
        if (!(R(dev, E1000_VFTA + 4 * (vid >> 5)) & (1u << (vid & 31))))
            return false;
    }
    if (f[0] & 1) {
        bool bcast = (f[0] & f[1] & f[2] & f[3] & f[4] & f[5]) == 0xFF;
        if (rctl & E1000_RCTL_MPE)
            return true;
        if (bcast)
            return rctl & E1000_RCTL_BAM;
        uint32_t h = mta_hash(rctl, f);
        return (R(dev, E1000_MTA + 4 * (h >> 5)) >> (h & 31)) & 1;
    }
    if (rctl & E1000_RCTL_UPE)
        return true;
    uint32_t lo = e1000_le32(f), hi = e1000_le16(f + 4);
    for (int i = 0; i < E1000_RA_ENTRIES; i++) {
        uint32_t ral = R(dev, E1000_RA + 8 * i), rah = R(dev, E1000_RA + 8 * i + 4);
        if ((rah & E1000_RAH_AV) && ral == lo && (rah & 0xFFFF) == hi)
            return true;
    }
    return false;
}

static void rx_stats(struct e1000 *dev, const uint8_t *f, uint32_t len)
{
    dev->stats.rx_frames++;
    dev->stats.rx_bytes += len;
    e1000_stat_inc(dev, E1000_GPRC);
    e1000_stat_inc(dev, E1000_TPR);
    dev->gorc += len + 4;
    dev->tor += len + 4;
    if (f[0] & 1)
        e1000_stat_inc(dev,
                       (f[0] & f[1] & f[2] & f[3] & f[4] & f[5]) == 0xFF ? E1000_BPRC : E1000_MPRC);
}

/* The RX ring as the registers describe it: size, head, tail, base. false
 * if it cannot be used (not set up, or indices out of range: CVE-2016-1981,
 * counted). */
struct rx_ring {
    uint32_t n, head, tail;
    uint64_t base;
};
static bool rx_ring_get(struct e1000 *dev, struct rx_ring *r, bool count)
{
    r->n = R(dev, E1000_RDLEN) / E1000_DESC_SIZE;
    r->head = R(dev, E1000_RDH);
    r->tail = R(dev, E1000_RDT);
    r->base = ((uint64_t)R(dev, E1000_RDBAH) << 32) | R(dev, E1000_RDBAL);
    if (r->n == 0)
        return false;
    if (r->head >= r->n || r->tail >= r->n) {
        if (count)
            e1000_guest_error(dev, E1000_GERR_RING_INDEX);
        return false;
    }
    return true;
}
static uint32_t rx_ring_free(const struct rx_ring *r)
{
    return (r->tail + r->n - r->head) % r->n;
}

/* Descriptor write-back: length, DD (+EOP); the data is written before
 * (release: a guest polling DD on another CPU sees the data with it). */
static void rx_writeback(uint8_t *desc, uint32_t len, bool eop)
{
    uint8_t wb[8];
    e1000_put_le16(wb, (uint16_t)len);
    e1000_put_le16(wb + 2, 0); /* packet checksum */
    wb[4] = E1000_RXD_STAT_DD | E1000_RXD_STAT_IXSM | (eop ? E1000_RXD_STAT_EOP : 0);
    wb[5] = 0; /* errors */
    e1000_put_le16(wb + 6, 0);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    memcpy(desc + 8, wb, 8);
}

/* RXDMT0: free descriptors fell to the RCTL.RDMTS fraction of the ring. */
static uint32_t rx_threshold_cause(uint32_t rctl, uint32_t left, uint32_t n)
{
    uint32_t rdmts = (rctl & E1000_RCTL_RDMTS_MASK) >> E1000_RCTL_RDMTS_SHIFT;
    return rdmts < 3 && left <= (n >> (rdmts + 1)) ? E1000_ICR_RXDMT0 : 0;
}

static uint32_t rx_max_len(uint32_t rctl)
{
    return (rctl & E1000_RCTL_LPE) ? ETH_MAX_LPE : ETH_MAX_NO_LPE;
}

/* A frame longer than RCTL allows: a length error with a good CRC (the
 * backend's frames have no bad ones), so RLEC and ROC both count it. */
static void rx_oversize_n(struct e1000 *dev, uint64_t n)
{
    static const uint32_t regs[] = {E1000_ROC, E1000_RLEC};
    for (unsigned i = 0; i < 2; i++) { /* saturating, as the hardware's */
        uint64_t v = (uint64_t)R(dev, regs[i]) + n;
        R(dev, regs[i]) = v > UINT32_MAX || v < n ? UINT32_MAX : (uint32_t)v;
    }
    dev->stats.drops[E1000_DROP_RX_OVERSIZE] += n;
}
static void rx_oversize(struct e1000 *dev)
{
    rx_oversize_n(dev, 1);
}

/* Frames the backend dropped because they were longer than the room it
 * was given (net_recv, net_recv_batch) since it showed `before`: only an
 * increase counts (a backend that lowered it must not count 2^64). */
static void rx_backend_oversize(struct e1000 *dev, uint64_t before)
{
    uint64_t now = net_rx_too_long(dev->backend);
    if (now > before)
        rx_oversize_n(dev, now - before);
}

/* Places one frame into guest buffers. */
static enum rx_result rx_deliver(struct e1000 *dev, const uint8_t *f, uint32_t len, uint32_t *cause)
{
    uint32_t rctl = R(dev, E1000_RCTL);
    if (!(rctl & E1000_RCTL_EN)) {
        e1000_drop(dev, E1000_DROP_RX_DISABLED);
        return RX_DROPPED;
    }
    if (!rx_accept(dev, f, len)) {
        e1000_drop(dev, E1000_DROP_RX_FILTER);
        return RX_DROPPED;
    }
    if (len > rx_max_len(rctl)) { /* CVE-2012-6075 */
        rx_oversize(dev);
        return RX_DROPPED;
    }
    struct rx_ring ring;
    if (!rx_ring_get(dev, &ring, true))
        return RX_NEED_DESC; /* not set up yet, or CVE-2016-1981: no free descriptor */
    uint32_t n = ring.n, head = ring.head;
    uint32_t data_len = len < ETH_ZLEN ? ETH_ZLEN : len;
    uint32_t total = data_len + ((rctl & E1000_RCTL_SECRC) ? 0 : 4);
    uint32_t bsize = buffer_size(rctl);
    uint32_t need = (total + bsize - 1) / bsize;
    uint32_t avail = rx_ring_free(&ring);
    if (need > RX_MAX_DESCS || need > n - 1) { /* can never fit this ring */
        e1000_drop(dev, E1000_DROP_RX_OVERSIZE);
        return RX_DROPPED;
    }
    if (avail < need)
        return RX_NEED_DESC;

    /* Phase 1: copy and check every descriptor the frame needs. */
    uint64_t base = ring.base;
    if (base > UINT64_MAX - (uint64_t)n * E1000_DESC_SIZE) { /* the ring would wrap 2^64 */
        e1000_guest_error(dev, E1000_GERR_DESC_DMA);
        e1000_drop(dev, E1000_DROP_RX_DMA);
        return RX_DROPPED;
    }
    uint8_t *bufs[RX_MAX_DESCS];
    uint8_t *descs[RX_MAX_DESCS];
    for (uint32_t i = 0, h = head, off = 0; i < need; i++, h = (h + 1) % n) {
        uint8_t *dp =
            guest_mem_ptr(dev->mem, base + (uint64_t)h * E1000_DESC_SIZE, E1000_DESC_SIZE);
        if (!dp) {
            e1000_guest_error(dev, E1000_GERR_DESC_DMA);
            e1000_drop(dev, E1000_DROP_RX_DMA);
            return RX_DROPPED;
        }
        uint64_t addr;
        memcpy(&addr, dp, 8);
        addr = e1000_le64((const uint8_t *)&addr);
        uint32_t chunk = total - off < bsize ? total - off : bsize;
        bufs[i] = guest_mem_ptr(dev->mem, addr, chunk);
        descs[i] = dp;
        if (!bufs[i]) {
            e1000_guest_error(dev, E1000_GERR_BUF_DMA);
            e1000_drop(dev, E1000_DROP_RX_DMA);
            return RX_DROPPED;
        }
        off += chunk;
    }
    /* Phase 2: data (frame, zero padding, zero FCS), then the write-back. */
    for (uint32_t i = 0, off = 0; i < need; i++) {
        uint32_t chunk = total - off < bsize ? total - off : bsize;
        uint32_t from_frame = off < len ? (len - off < chunk ? len - off : chunk) : 0;
        memcpy(bufs[i], f + off, from_frame);
        memset(bufs[i] + from_frame, 0, chunk - from_frame);
        rx_writeback(descs[i], chunk, i + 1 == need);
        off += chunk;
    }
    dev->stats.rx_descs += need;
    head = (head + need) % n;
    R(dev, E1000_RDH) = head;
    rx_stats(dev, f, len);
    *cause |= e1000_rx_done_event(dev);
    *cause |= rx_threshold_cause(rctl, avail - need, n);
    return RX_DELIVERED;
}

/* The direct way in is usable: every frame the guest accepts (plus FCS)
 * fits one buffer, with one byte to spare so that an over-long frame shows
 * as longer than allowed instead of being cut to fit. *cap: what the
 * backend may copy into one buffer; *fcs: bytes of FCS to add. */
static bool rx_direct_ok(uint32_t rctl, uint32_t *cap, uint32_t *fcs)
{
    uint32_t max = rx_max_len(rctl);
    *fcs = (rctl & E1000_RCTL_SECRC) ? 0 : 4;
    uint32_t room = buffer_size(rctl) - *fcs;
    if (room <= max)
        return false;
    *cap = max + 1;
    return true;
}

/* Receives up to `budget` frames straight into the free descriptors'
 * buffers (see the top of the file). Returns the frames taken from the
 * backend (delivered or dropped), 0 if it had none, or -1 if it cannot be
 * used now: no free descriptor, or the ring or its first descriptor is not
 * usable this way (the staged path then takes one frame and counts what is
 * wrong). A frame does not fit its buffer only if it is longer than the
 * guest allows: the backend drops it (its rx_drops) and it is counted here
 * as oversize. */
static int rx_direct(struct e1000 *dev, uint32_t rctl, unsigned budget, uint32_t *cause,
                     unsigned *delivered)
{
    uint32_t cap, fcs;
    struct rx_ring ring;
    if (!(rctl & E1000_RCTL_EN) || !rx_direct_ok(rctl, &cap, &fcs) ||
        !rx_ring_get(dev, &ring, false))
        return -1;
    if (ring.base > UINT64_MAX - (uint64_t)ring.n * E1000_DESC_SIZE)
        return -1;
    uint32_t free_descs = rx_ring_free(&ring);
    unsigned k = free_descs < budget ? free_descs : budget;
    if (k > RX_DIRECT_BATCH)
        k = RX_DIRECT_BATCH;
    struct vpio_rxpkt bufs[RX_DIRECT_BATCH];
    uint8_t *descs[RX_DIRECT_BATCH];
    for (unsigned i = 0; i < k; i++) {
        uint32_t h = (ring.head + i) % ring.n;
        uint8_t *dp =
            guest_mem_ptr(dev->mem, ring.base + (uint64_t)h * E1000_DESC_SIZE, E1000_DESC_SIZE);
        uint8_t *buf = NULL;
        if (dp) {
            uint64_t addr;
            memcpy(&addr, dp, 8); /* read once */
            buf = guest_mem_ptr(dev->mem, e1000_le64((const uint8_t *)&addr), cap + fcs);
        }
        if (!buf) { /* stop before it; the staged path deals with it when it is first */
            k = i;
            break;
        }
        descs[i] = dp;
        bufs[i] = (struct vpio_rxpkt){.buf = buf, .cap = cap};
    }
    if (k == 0)
        return -1;
    uint64_t too_long = net_rx_too_long(dev->backend);
    unsigned got = net_recv_batch(dev->backend, bufs, k);
    rx_backend_oversize(dev, too_long);
    uint32_t max = cap - 1, w = 0;
    for (unsigned j = 0; j < got; j++) {
        uint32_t len = bufs[j].len;
        if (len > max) { /* CVE-2012-6075 */
            rx_oversize(dev);
            continue;
        }
        if (!rx_accept(dev, bufs[j].buf, len)) {
            e1000_drop(dev, E1000_DROP_RX_FILTER);
            continue;
        }
        if (w != j) /* a dropped frame before it: move it down into the next buffer */
            memmove(bufs[w].buf, bufs[j].buf, len);
        uint32_t data_len = len < ETH_ZLEN ? ETH_ZLEN : len;
        memset(bufs[w].buf + len, 0, data_len + fcs - len);
        rx_writeback(descs[w], data_len + fcs, true);
        rx_stats(dev, bufs[w].buf, len);
        *cause |= e1000_rx_done_event(dev);
        w++;
    }
    if (w) {
        dev->stats.rx_descs += w;
        R(dev, E1000_RDH) = (ring.head + w) % ring.n;
        *cause |= rx_threshold_cause(rctl, free_descs - w, ring.n);
        *delivered += w;
    }
    return (int)got;
}

static void missed(struct e1000 *dev, uint32_t *cause)
{
    e1000_drop(dev, E1000_DROP_RX_NO_DESC);
    e1000_stat_inc(dev, E1000_MPC);
    *cause |= E1000_ICR_RXO;
}

static void backlog_push(struct e1000 *dev, const uint8_t *f, uint32_t len, uint32_t *cause)
{
    if (dev->backlog_n == dev->backlog_max) {
        missed(dev, cause);
        return;
    }
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) {
        missed(dev, cause);
        return;
    }
    memcpy(copy, f, len);
    unsigned slot = (dev->backlog_head + dev->backlog_n) % dev->backlog_max;
    dev->backlog[slot] = (struct e1000_rx_frame){len, copy};
    dev->backlog_n++;
    dev->stats.rx_backlogged++;
}

/* Frames a backend that holds them had to drop while the guest had no room
 * (its queue full) are the frames this NIC missed: MPC, drops.rx_no_desc,
 * RXO -- as on real hardware, whose FIFO is what the switch ring stands in
 * for. The count is the backend's; only what is new since the last look. */
static void backend_missed(struct e1000 *dev, uint32_t *cause)
{
    uint64_t total = net_rx_dropped(dev->backend);
    if (total <= dev->rx_be_dropped) { /* nothing new (or a counter reset) */
        dev->rx_be_dropped = total;
        return;
    }
    uint64_t n = total - dev->rx_be_dropped;
    dev->rx_be_dropped = total;
    dev->stats.drops[E1000_DROP_RX_NO_DESC] += n;
    uint64_t mpc = (uint64_t)R(dev, E1000_MPC) + n;
    R(dev, E1000_MPC) = mpc > UINT32_MAX ? UINT32_MAX : (uint32_t)mpc;
    *cause |= E1000_ICR_RXO;
}

unsigned e1000_rx_poll_locked(struct e1000 *dev)
{
    unsigned delivered = 0, budget = E1000_RX_POLL_BUDGET;
    uint32_t cause = 0;
    dev->stats.rx_polls++;
    dev->rx_taken = 0;
    if (dev->csb.enabled)
        e1000_csb_rx_sync(dev); /* the tail comes from guest_rdt */
    dev->depth++;
    while (dev->backlog_n && budget) {
        struct e1000_rx_frame *fr = &dev->backlog[dev->backlog_head];
        enum rx_result r = rx_deliver(dev, fr->data, fr->len, &cause);
        if (r == RX_NEED_DESC)
            break;
        free(fr->data);
        fr->data = NULL;
        dev->backlog_head = (dev->backlog_head + 1) % dev->backlog_max;
        dev->backlog_n--;
        budget--;
        dev->rx_taken++;
        delivered += r == RX_DELIVERED;
    }
    /* A backend that can hold frames keeps them while the guest has no room. */
    bool holds = dev->backend && net_holds_rx(dev->backend);
    while (budget && dev->backend) {
        if (!dev->backlog_n) {
            int got = rx_direct(dev, R(dev, E1000_RCTL), budget, &cause, &delivered);
            if (got == 0)
                break;
            if (got > 0) {
                budget -= (unsigned)got;
                dev->rx_taken += (unsigned)got;
                continue;
            }
        }
        if (holds) {
            struct rx_ring ring;
            if (!rx_ring_get(dev, &ring, false) || rx_ring_free(&ring) == 0)
                break;
        }
        uint64_t too_long = net_rx_too_long(dev->backend);
        ssize_t len = net_recv(dev->backend, dev->rx_buf, E1000_RX_FRAME_MAX);
        rx_backend_oversize(dev, too_long); /* longer than any RCTL allows */
        if (len <= 0)
            break;
        budget--;
        dev->rx_taken++;
        if (dev->backlog_n) { /* keep the order: behind what already waits */
            backlog_push(dev, dev->rx_buf, (uint32_t)len, &cause);
            continue;
        }
        enum rx_result r = rx_deliver(dev, dev->rx_buf, (uint32_t)len, &cause);
        if (r == RX_NEED_DESC)
            backlog_push(dev, dev->rx_buf, (uint32_t)len, &cause);
        delivered += r == RX_DELIVERED;
    }
    if (holds)
        backend_missed(dev, &cause);
    dev->depth--;
    if (dev->csb.enabled)
        e1000_csb_rx_publish(dev); /* host_rdh after the write-backs, before the flag read */
    e1000_post_cause(dev, cause);
    return delivered;
}
