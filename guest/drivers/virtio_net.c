/* virtio-net driver, ring 3 (see virtio_net.h). */
#include "virtio_net.h"
#include "io.h"
#include "nm_ring.h"

#define NEXT(i, n) ((i) + 1 == (n) ? 0 : (i) + 1)
#define WANTED                                                                                     \
    (VIRTIO_F_VERSION_1 | VIRTIO_NET_F_MRG_RXBUF | VIRTIO_F_EVENT_IDX | VIRTIO_NET_F_MAC |         \
     VIRTIO_NET_F_STATUS)

static u8 *hdr_at(u8 *base, u32 i)
{
    return base + 16 * i;
}

bool vnet_pci_match(const struct pci_dev *d)
{
    return d->vendor == VIRTIO_VENDOR &&
           (d->device == VIRTIO_DEV_NET_MODERN || d->device == VIRTIO_DEV_NET_TRANSITIONAL);
}

static const struct pci_dev *find_vnet(int index)
{
    for (int i = 0; i < pci_ndevs; i++)
        if (vnet_pci_match(&pci_devs[i]) && index-- == 0)
            return &pci_devs[i];
    return NULL;
}

/* The largest power of two <= min(max, want), at least 2 (one slot). */
static u16 queue_size(u16 max)
{
    u16 s = VNET_WANT_QSIZE;
    while (s > max && s > 2)
        s >>= 1;
    return s <= max ? s : 0;
}

static int setup_queues(struct vnet *v, u16 vector)
{
    struct virtq *qs[2] = {&v->rxq, &v->txq};
    bool ev = (v->features & VIRTIO_F_EVENT_IDX) != 0;
    for (u16 q = 0; q < 2; q++) {
        u16 max = virtio_queue_max(&v->vp, q);
        u16 size = queue_size(max);
        if (!size || vq_init(qs[q], q, size, ev) < 0) {
            printf("virtio-net: queue %u: size %u not usable or no memory\n", q, max);
            return -1;
        }
        u64 notify = 0;
        u16 got = virtio_queue_setup(&v->vp, q, size, vq_desc_addr(qs[q]), vq_avail_addr(qs[q]),
                                     vq_used_addr(qs[q]), vector, &notify);
        if (vector != VIRTIO_NO_VECTOR && got != vector) {
            printf("virtio-net: queue %u refused MSI-X vector %u\n", q, vector);
            return -1;
        }
        qs[q]->notify = (volatile u16 *)notify;
    }
    v->nrx = v->rxq.size / 2;
    v->ntx = v->txq.size / 2;
    return 0;
}

static int setup_buffers(struct vnet *v)
{
    v->rx_hdr = alloc_pages(ALIGN_UP(16ul * v->nrx, PAGE_SIZE) / PAGE_SIZE, 1);
    v->tx_hdr = alloc_pages(ALIGN_UP(16ul * v->ntx, PAGE_SIZE) / PAGE_SIZE, 1);
    v->rxbuf = alloc_pages(v->nrx * VNET_BUF / PAGE_SIZE, 1);
    v->txbuf = alloc_pages(v->ntx * VNET_BUF / PAGE_SIZE, 1);
    if (!v->rx_hdr || !v->tx_hdr || !v->rxbuf || !v->txbuf)
        return -1;
    for (u32 i = 0; i < v->nrx; i++) {
        volatile struct vq_desc *d = &v->rxq.desc[2 * i];
        d[0] = (struct vq_desc){(u64)(uintptr_t)hdr_at(v->rx_hdr, i), VNET_HDR_LEN,
                                VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, (u16)(2 * i + 1)};
        d[1] = (struct vq_desc){(u64)(uintptr_t)(v->rxbuf + i * VNET_BUF), VNET_BUF,
                                VRING_DESC_F_WRITE, 0};
    }
    for (u32 i = 0; i < v->ntx; i++) {
        volatile struct vq_desc *d = &v->txq.desc[2 * i];
        d[0] = (struct vq_desc){(u64)(uintptr_t)hdr_at(v->tx_hdr, i), VNET_HDR_LEN,
                                VRING_DESC_F_NEXT, (u16)(2 * i + 1)};
        d[1] = (struct vq_desc){(u64)(uintptr_t)(v->txbuf + i * VNET_BUF), 0, 0, 0};
    }
    /* Every pair but the last goes to the device (see rx_pair_at). */
    for (u32 p = 0; p + 1 < v->nrx; p++) {
        v->rx_busy[p] = 1;
        vq_add(&v->rxq, (u16)(2 * p));
    }
    v->rx_posted = v->rx_next = v->rx_read = 0;
    return 0;
}

static void setup_irqs(struct vnet *v, bool msix_ok)
{
    int slot = v->irq_slot;
    nic_icr[slot] = 0;
    v->gsi = v->vp.pci->irq_line;
    if (msix_ok) {
        v->msix = true;
        v->irqs_on = true;
        return;
    }
    /* INTx: level, the ring-0 stub reads the ISR (clear on read). */
    nic_icr_addr[slot] = v->vp.isr;
    if (v->gsi && v->gsi != 0xff && v->gsi < ioapic_pins()) {
        ioapic_route(v->gsi, VEC_NIC_FIRST + slot, IOAPIC_LEVEL, IOAPIC_HIGH);
        v->irqs_on = true;
    }
}

int vnet_probe(struct vnet *v, int index, const struct cmdline *cl)
{
    memset(v, 0, sizeof(*v));
    v->index = index;
    if (index < 0 || index >= NIC_MAX)
        return -1;
    v->irq_slot = NIC_MAX - 1 - index;
    const struct pci_dev *d = find_vnet(index);
    if (!d) {
        printf("virtio-net: no virtio-net number %d on bus 0\n", index);
        return -1;
    }
    if (virtio_pci_map(&v->vp, d) < 0)
        return -1;
    u64 msix_opt = 1;
    cmdline_u64(cl, "msix", &msix_opt); /* msix=0: INTx even if MSI-X is there */
    bool use_msix = v->vp.msix_table && msix_opt;
    u16 cmd = pci_read16(d, 0x04);
    /* Memory space + bus master; INTx off when MSI-X is used. */
    pci_write16(d, 0x04, use_msix ? (cmd | 0x406) : ((cmd | 0x6) & ~0x400));

    if (!virtio_reset(&v->vp)) {
        printf("virtio-net: reset did not complete\n");
        return -1;
    }
    virtio_set_status(&v->vp, VIRTIO_S_ACKNOWLEDGE);
    virtio_set_status(&v->vp, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);
    u64 offered = virtio_device_features(&v->vp);
    if (!(offered & VIRTIO_F_VERSION_1)) {
        printf("virtio-net: device offers no VERSION_1 (features 0x%lx): legacy only\n", offered);
        virtio_set_status(&v->vp, VIRTIO_S_FAILED);
        return -1;
    }
    v->features = offered & WANTED;
    virtio_driver_features(&v->vp, v->features);
    u8 st = VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK;
    virtio_set_status(&v->vp, st);
    if (!(virtio_status(&v->vp) & VIRTIO_S_FEATURES_OK)) {
        printf("virtio-net: device refused features 0x%lx\n", v->features);
        virtio_set_status(&v->vp, VIRTIO_S_FAILED);
        return -1;
    }
    u8 vector = (u8)(VEC_NIC_EDGE_FIRST + v->irq_slot);
    bool msix_ok = use_msix && virtio_msix_enable(&v->vp, vector);
    if (msix_ok)
        virtio_config_vector(&v->vp, VIRTIO_NO_VECTOR);
    if (setup_queues(v, msix_ok ? 0 : VIRTIO_NO_VECTOR) < 0 || setup_buffers(v) < 0) {
        virtio_set_status(&v->vp, VIRTIO_S_FAILED);
        return -1;
    }
    if (v->features & VIRTIO_NET_F_MAC) {
        for (int i = 0; i < 6; i++)
            v->mac[i] = virtio_cfg_read8(&v->vp, (u32)i);
    } else {
        const u8 m[6] = {0x02, 0, 0, 0, 0x7e, (u8)(0x10 + index)}; /* locally administered */
        memcpy(v->mac, m, 6);
    }
    setup_irqs(v, msix_ok);
    virtio_set_status(&v->vp, st | VIRTIO_S_DRIVER_OK);
    /* The RX buffers: published, and one notify so a back-end that waits
     * for a kick (rather than reading avail at its next frame) sees them. */
    vq_publish_kick(&v->rxq);
    if (!v->rxq.kicks && v->rxq.notify) {
        *v->rxq.notify = 0;
        v->rxq.kicks++;
    }
    bool up = true;
    if (v->features & VIRTIO_NET_F_STATUS) {
        u64 end = rdtsc() + tsc_hz / 2;
        while (!((up = virtio_cfg_read16(&v->vp, 6) & 1)) && (int64_t)(rdtsc() - end) < 0)
            delay_us(1000);
    }
    printf("virtio-net: nic%d %02x:%02x.%x %04x:%04x mac %02x:%02x:%02x:%02x:%02x:%02x "
           "features 0x%lx rx %u tx %u slots %s vector 0x%x link %s\n",
           index, d->bus, d->slot, d->fn, d->vendor, d->device, v->mac[0], v->mac[1], v->mac[2],
           v->mac[3], v->mac[4], v->mac[5], v->features, v->nrx, v->ntx,
           msix_ok      ? "msix"
           : v->irqs_on ? "intx"
                        : "polling",
           msix_ok ? vector : VEC_NIC_FIRST + v->irq_slot, up ? "up" : "DOWN");
    return 0;
}

/* ---- TX ---- */

u8 *vnet_tx_buf(const struct vnet *v, u32 i)
{
    return (u8 *)(uintptr_t)v->txq.desc[2 * i + 1].addr;
}

void vnet_tx_set_buf(struct vnet *v, u32 i, u8 *buf)
{
    v->txq.desc[2 * i + 1].addr = (u64)(uintptr_t)buf;
}

void vnet_tx_post(struct vnet *v, u32 i, u32 len)
{
    if (len > VNET_BUF)
        len = VNET_BUF;
    v->txq.desc[2 * i + 1].len = len;
    v->tx_busy[i] = 1;
    vq_add(&v->txq, (u16)(2 * i));
    v->tx_pkts++;
    v->tx_bytes += len;
}

void vnet_tx_publish(struct vnet *v)
{
    vq_publish_kick(&v->txq);
}

u32 vnet_tx_reclaim(struct vnet *v)
{
    u32 id, len;
    while (vq_next_used(&v->txq, &id, &len)) {
        u32 i = id / 2;
        if ((id & 1) || i >= v->ntx || !v->tx_busy[i]) {
            v->bad_used++; /* not a head we gave it, or given back twice */
            continue;
        }
        v->tx_busy[i] = 0;
    }
    while (v->tx_clean != v->tx_tail && !v->tx_busy[v->tx_clean])
        v->tx_clean = NEXT(v->tx_clean, v->ntx);
    return (v->tx_tail + v->ntx - v->tx_clean) % v->ntx;
}

int vnet_tx(struct vnet *v, const void *frame, u32 len)
{
    if (!vnet_tx_space(v)) {
        vnet_tx_reclaim(v);
        if (!vnet_tx_space(v)) {
            v->tx_full++;
            return -1;
        }
    }
    if (len > VNET_BUF)
        len = VNET_BUF;
    u32 i = v->tx_tail;
    memcpy(vnet_tx_buf(v, i), frame, len);
    vnet_tx_post(v, i, len);
    v->tx_tail = NEXT(i, v->ntx);
    vnet_tx_publish(v);
    return 0;
}

void vnet_tx_wait(struct vnet *v)
{
    u64 seen = irq_seq_read();
    vnet_tx_reclaim(v);
    if (vnet_tx_space(v))
        return;
    /* Interrupt at the next completion; barrier; look again. */
    bool sleep = v->irqs_on && vq_irq_on_and_empty(&v->txq);
    if (sleep)
        sys_wait(seen);
    vq_irq_off(&v->txq);
    vnet_tx_reclaim(v);
}

/* ---- RX ---- */

u8 *vnet_rx_buf(const struct vnet *v, u32 pos)
{
    return (u8 *)(uintptr_t)v->rxq.desc[2 * v->rx_pair_at[pos] + 1].addr;
}

void vnet_rx_set_buf(struct vnet *v, u32 pos, u8 *buf)
{
    v->rxq.desc[2 * v->rx_pair_at[pos] + 1].addr = (u64)(uintptr_t)buf;
}

bool vnet_rx_fetch(struct vnet *v)
{
    /* Positions in use are [rx_posted, rx_next); at most nrx - 1. */
    if (NEXT(v->rx_next, v->nrx) == v->rx_posted)
        return false;
    u32 id, len;
    for (;;) {
        if (!vq_next_used(&v->rxq, &id, &len))
            return false;
        u32 p = id / 2;
        if ((id & 1) || p + 1 >= v->nrx || !v->rx_busy[p]) {
            v->bad_used++;
            continue;
        }
        v->rx_busy[p] = 0;
        u32 pos = v->rx_next;
        u8 flags = 0;
        u32 flen = len >= VNET_HDR_LEN ? len - VNET_HDR_LEN : 0;
        if (flen > VNET_BUF)
            flen = VNET_BUF;
        if (len < VNET_HDR_LEN + 14)
            flags = NM_RX_ERROR;
        /* MRG_RXBUF: num_buffers in the first buffer's header. */
        if (v->rx_frag_left) {
            v->rx_frag_left--;
        } else if (v->features & VIRTIO_NET_F_MRG_RXBUF) {
            const u8 *h = hdr_at(v->rx_hdr, p);
            u16 nb = h[10] | h[11] << 8;
            v->rx_frag_left = nb > 1 ? nb - 1u : 0;
        }
        if (v->rx_frag_left)
            flags |= NM_MOREFRAG;
        v->rx_pair_at[pos] = (u16)p;
        v->rx_len[pos] = (u16)flen;
        v->rx_flags[pos] = flags;
        if (flags)
            v->rx_errors++;
        else {
            v->rx_pkts++;
            v->rx_bytes += flen;
        }
        v->rx_next = NEXT(pos, v->nrx);
        return true;
    }
}

void vnet_rx_give(struct vnet *v, u32 upto)
{
    if (upto == v->rx_posted)
        return;
    for (u32 pos = v->rx_posted; pos != upto; pos = NEXT(pos, v->nrx)) {
        u16 p = v->rx_pair_at[pos];
        v->rx_busy[p] = 1;
        vq_add(&v->rxq, (u16)(2 * p));
    }
    v->rx_posted = upto;
    vq_publish_kick(&v->rxq);
}

bool vnet_rx_peek(struct vnet *v, const u8 **data, u32 *len, u8 *flags)
{
    if (v->rx_read == v->rx_next && !vnet_rx_fetch(v))
        return false;
    *data = vnet_rx_buf(v, v->rx_read);
    *len = v->rx_len[v->rx_read];
    *flags = v->rx_flags[v->rx_read];
    return true;
}

void vnet_rx_advance(struct vnet *v)
{
    v->rx_read = NEXT(v->rx_read, v->nrx);
}

void vnet_rx_refill(struct vnet *v)
{
    u32 pending = (v->rx_read + v->nrx - v->rx_posted) % v->nrx;
    if (!pending)
        return;
    /* A notify may be an exit: a quarter ring at a time, or everything when
     * nothing is left to read (before the driver sleeps). */
    bool more = v->rx_read != v->rx_next || vq_has_used(&v->rxq);
    if (pending < v->nrx / 4 && more)
        return;
    vnet_rx_give(v, v->rx_read);
}

bool vnet_rx_sleep_arm(struct vnet *v)
{
    if (v->rx_read != v->rx_next)
        return false;
    return vq_irq_on_and_empty(&v->rxq);
}

void vnet_rx_sleep_end(struct vnet *v)
{
    vq_irq_off(&v->rxq);
}

void vnet_rx_wait(struct vnet *v)
{
    u64 seen = irq_seq_read();
    if (vnet_rx_sleep_arm(v))
        sys_wait(seen); /* the NIC's interrupt or the timer tick */
    vnet_rx_sleep_end(v);
}

int vnet_stats_str(struct vnet *v, char *buf, size_t size)
{
    u64 rd = v->vp.reg_reads, wr = vnet_reg_writes(v);
    return snprintf(buf, size,
                    "txmode=virtio tdt_writes=%lu rdt_writes=%lu reg_reads=%lu reg_writes=%lu "
                    "reg_accesses=%lu sc_deferred=0 sc_stalls=0 sc_timeouts=0 csb=0 "
                    "nic=virtio-net tx_kicks_skipped=%lu rx_kicks_skipped=%lu bad_used=%lu "
                    "msix=%d event_idx=%d rx_avail=%u rx_used=%u rx_last_used=%u rx_used_event=%u "
                    "rx_held=%u",
                    v->txq.kicks, v->rxq.kicks, rd, wr, rd + wr, v->txq.kicks_skipped,
                    v->rxq.kicks_skipped, v->bad_used + v->txq.bad_used + v->rxq.bad_used, v->msix,
                    v->txq.event_idx, v->rxq.avail[1], vq_used_idx(&v->rxq), v->rxq.last_used,
                    v->rxq.avail[2 + v->rxq.size],
                    (v->rx_next + v->nrx - v->rx_posted) % v->nrx);
}

void vnet_stats_reset(struct vnet *v)
{
    v->vp.reg_reads = v->vp.reg_writes = 0;
    v->txq.kicks = v->rxq.kicks = v->txq.kicks_skipped = v->rxq.kicks_skipped = 0;
}
