/* netmap-style rings over the e1000 driver (see nm_ring.h). Slot i is
 * descriptor i and its buffer, so a sync only walks the slots that changed
 * hands and then updates one tail. */
#include "nm_ring.h"
#include "io.h"
#include "nm_ring_virtio.h"

#define DESC_DD 0x01
#define RXD_EOP 0x02

void nm_open(struct nm_port *p, struct e1000 *nic)
{
    p->nic = nic;
    p->vnet = NULL;
    for (u32 i = 0; i < nic->ntx; i++)
        p->txslot[i] = (struct nm_slot){(u8 *)(uintptr_t)nic->tx[i].addr, 0, 0};
    for (u32 i = 0; i < nic->nrx; i++)
        p->rxslot[i] = (struct nm_slot){(u8 *)(uintptr_t)nic->rx[i].addr, 0, 0};
    nm_ring_init(&p->tx, p->txslot, nic->ntx, nic->tx_tail, E1000_BUF);
    p->tx.tail = (nic->tx_clean + nic->ntx - 1) % nic->ntx;
    nm_ring_init(&p->rx, p->rxslot, nic->nrx, nic->rx_next, E1000_BUF);
    p->rx.tail = nic->rx_next;
}

int nm_txsync(struct nm_port *p)
{
    if (p->vnet)
        return vnet_nm_txsync(p);
    struct nm_ring *r = &p->tx;
    struct e1000 *nic = p->nic;
    const u32 n = nic->ntx;
    u32 head = r->head;
    if (!nm_ring_in_range(head, r->hwcur, r->tail, n) ||
        !nm_ring_in_range(r->cur, head, r->tail, n))
        return -1;
    if (head != r->hwcur) {
        u64 bytes = 0, pkts = 0;
        for (u32 i = r->hwcur; i != head; i = nm_ring_next(r, i)) {
            struct nm_slot *s = &r->slot[i];
            volatile struct e1000_tx_desc *d = &nic->tx[i];
            if (s->flags & NM_BUF_CHANGED) {
                d->addr = (u64)(uintptr_t)s->buf;
                s->flags &= ~NM_BUF_CHANGED;
            }
            u32 len = s->len > E1000_BUF ? E1000_BUF : s->len;
            d->length = (u16)len;
            d->cso = 0;
            d->css = 0;
            d->special = 0;
            d->status = 0;
            d->cmd = nic->txd_cmd;
            bytes += len;
            pkts++;
        }
        nic->tx_pkts += pkts;
        nic->tx_bytes += bytes;
        nic->tx_tail = head;
        r->hwcur = head;
        r->syncs++;
        e1000_tx_commit(nic); /* the one tail update of this sync */
    }
    e1000_tx_reclaim(nic);
    r->tail = (nic->tx_clean + n - 1) % n;
    if (r->tail == r->head && nic->tx_tail != nic->tx_hw_tail) {
        e1000_tx_flush(nic); /* sc: no room left, do not stall */
        nic->tx_full++;
    }
    return 0;
}

int nm_rxsync(struct nm_port *p)
{
    if (p->vnet)
        return vnet_nm_rxsync(p);
    struct nm_ring *r = &p->rx;
    struct e1000 *nic = p->nic;
    const u32 n = nic->nrx;
    u32 head = r->head;
    if (!nm_ring_in_range(head, r->hwcur, r->tail, n) ||
        !nm_ring_in_range(r->cur, head, r->tail, n))
        return -1;
    if (head != r->hwcur) { /* give the released slots back */
        for (u32 i = r->hwcur; i != head; i = nm_ring_next(r, i)) {
            struct nm_slot *s = &r->slot[i];
            volatile struct e1000_rx_desc *d = &nic->rx[i];
            if (s->flags & NM_BUF_CHANGED)
                d->addr = (u64)(uintptr_t)s->buf;
            s->flags = 0;
            d->status = 0;
        }
        r->hwcur = head;
        r->syncs++;
        e1000_rx_give(nic, (head + n - 1) % n); /* the one tail update of this sync */
    }
    /* New frames from tail on, never past the device's tail (hwcur - 1). */
    u32 stop = (r->hwcur + n - 1) % n, i = nic->rx_next;
    u64 pkts = 0, bytes = 0;
    while (i != stop) {
        volatile struct e1000_rx_desc *d = &nic->rx[i];
        u8 status = d->status;
        if (!(status & DESC_DD))
            break;
        barrier(); /* length after DD (x86 keeps loads ordered) */
        struct nm_slot *s = &r->slot[i];
        s->len = d->length;
        s->flags = 0;
        if (d->errors) {
            s->flags = NM_RX_ERROR;
            nic->rx_errors++;
        } else if (!(status & RXD_EOP)) {
            s->flags = NM_MOREFRAG;
        } else {
            pkts++;
            bytes += s->len;
        }
        i = nm_ring_next(r, i);
    }
    nic->rx_pkts += pkts;
    nic->rx_bytes += bytes;
    nic->rx_next = i;
    r->tail = i;
    return 0;
}

u32 nm_tx_pending(const struct nm_port *p)
{
    if (p->vnet)
        return vnet_nm_tx_pending(p);
    return (p->nic->tx_tail + p->nic->ntx - p->nic->tx_clean) % p->nic->ntx;
}

u32 nm_tx_drain(struct nm_port *p, u64 timeout_us)
{
    if (p->vnet)
        return vnet_nm_tx_drain(p, timeout_us);
    u64 end = rdtsc() + tsc_hz / 1000000 * timeout_us;
    e1000_tx_flush(p->nic);
    while (e1000_tx_reclaim(p->nic) && (int64_t)(rdtsc() - end) < 0)
        cpu_relax();
    nm_txsync(p);
    return nm_tx_pending(p);
}

int nm_rx_wait(struct nm_port *p)
{
    if (nm_rxsync(p) < 0)
        return -1;
    if (!nm_ring_empty(&p->rx))
        return 0;
    if (p->vnet)
        vnet_rx_wait(p->vnet);
    else
        e1000_rx_wait(p->nic);
    return nm_rxsync(p);
}

int nm_tx_wait(struct nm_port *p)
{
    if (nm_txsync(p) < 0)
        return -1;
    if (nm_ring_space(&p->tx))
        return 0;
    if (p->vnet)
        vnet_tx_wait(p->vnet);
    else
        e1000_tx_wait(p->nic);
    return nm_txsync(p);
}

int nm_rx_wait_any(struct nm_port *const *ports, unsigned n)
{
    struct e1000 *nics[NIC_MAX] = {0};
    bool empty = true, any_vnet = false;
    if (n > NIC_MAX)
        return -1;
    for (unsigned k = 0; k < n; k++) {
        if (nm_rxsync(ports[k]) < 0)
            return -1;
        empty = empty && nm_ring_empty(&ports[k]->rx);
        nics[k] = ports[k]->nic;
        any_vnet = any_vnet || ports[k]->vnet;
    }
    if (!empty)
        return 0;
    if (!any_vnet) {
        e1000_rx_wait_any(nics, n);
    } else {
        /* NICs of both kinds: the same race-free sleep, armed per NIC. */
        u64 seen = irq_seq_read();
        bool sleep = true;
        for (unsigned k = 0; sleep && k < n; k++)
            sleep = ports[k]->vnet ? vnet_rx_sleep_arm(ports[k]->vnet)
                                   : e1000_rx_sleep_arm(ports[k]->nic);
        if (sleep)
            sys_wait(seen);
        for (unsigned k = 0; k < n; k++) {
            if (ports[k]->vnet)
                vnet_rx_sleep_end(ports[k]->vnet);
            else
                e1000_rx_sleep_end(ports[k]->nic);
        }
    }
    int rc = 0;
    for (unsigned k = 0; k < n; k++)
        rc |= nm_rxsync(ports[k]);
    return rc;
}
