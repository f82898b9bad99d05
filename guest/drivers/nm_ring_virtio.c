/* netmap-style rings over virtio-net (see nm_ring.h for the semantics,
 * virtio_net.h for the buffers). TX slot i is descriptor pair i; an RX
 * ring position holds whichever pair the device used there (rx_pair_at),
 * so a device that completes out of order still yields an in-order ring.
 * One sync = one avail.idx publication per queue and at most one notify,
 * only when the device asked for it. */
#include "nm_ring_virtio.h"
#include "io.h"

void nm_open_vnet(struct nm_port *p, struct vnet *v)
{
    p->nic = NULL;
    p->vnet = v;
    for (u32 i = 0; i < v->ntx; i++)
        p->txslot[i] = (struct nm_slot){vnet_tx_buf(v, i), 0, 0};
    for (u32 i = 0; i < v->nrx; i++)
        p->rxslot[i] = (struct nm_slot){NULL, 0, 0};
    nm_ring_init(&p->tx, p->txslot, v->ntx, v->tx_tail, VNET_BUF);
    p->tx.tail = (v->tx_clean + v->ntx - 1) % v->ntx;
    nm_ring_init(&p->rx, p->rxslot, v->nrx, v->rx_posted, VNET_BUF);
    p->rx.tail = v->rx_posted;
    v->rx_read = v->rx_next = v->rx_posted; /* nothing fetched before open */
}

int vnet_nm_txsync(struct nm_port *p)
{
    struct nm_ring *r = &p->tx;
    struct vnet *v = p->vnet;
    const u32 n = v->ntx;
    u32 head = r->head;
    if (!nm_ring_in_range(head, r->hwcur, r->tail, n) ||
        !nm_ring_in_range(r->cur, head, r->tail, n))
        return -1;
    if (head != r->hwcur) {
        for (u32 i = r->hwcur; i != head; i = nm_ring_next(r, i)) {
            struct nm_slot *s = &r->slot[i];
            if (s->flags & NM_BUF_CHANGED) {
                vnet_tx_set_buf(v, i, s->buf);
                s->flags &= ~NM_BUF_CHANGED;
            }
            vnet_tx_post(v, i, s->len);
        }
        v->tx_tail = head;
        r->hwcur = head;
        r->syncs++;
        vnet_tx_publish(v); /* one publication, a notify only if asked */
    }
    vnet_tx_reclaim(v);
    r->tail = (v->tx_clean + n - 1) % n;
    return 0;
}

int vnet_nm_rxsync(struct nm_port *p)
{
    struct nm_ring *r = &p->rx;
    struct vnet *v = p->vnet;
    const u32 n = v->nrx;
    u32 head = r->head;
    if (!nm_ring_in_range(head, r->hwcur, r->tail, n) ||
        !nm_ring_in_range(r->cur, head, r->tail, n))
        return -1;
    if (head != r->hwcur) { /* give the released slots back */
        for (u32 i = r->hwcur; i != head; i = nm_ring_next(r, i)) {
            struct nm_slot *s = &r->slot[i];
            if (s->flags & NM_BUF_CHANGED)
                vnet_rx_set_buf(v, i, s->buf);
            s->flags = 0;
        }
        r->hwcur = head;
        r->syncs++;
        vnet_rx_give(v, head);
    }
    u32 i = v->rx_next;
    while (vnet_rx_fetch(v)) {
        struct nm_slot *s = &r->slot[i];
        s->buf = vnet_rx_buf(v, i);
        s->len = v->rx_len[i];
        s->flags = v->rx_flags[i];
        i = nm_ring_next(r, i);
    }
    v->rx_read = i;
    r->tail = i;
    return 0;
}

u32 vnet_nm_tx_pending(const struct nm_port *p)
{
    const struct vnet *v = p->vnet;
    return (v->tx_tail + v->ntx - v->tx_clean) % v->ntx;
}

u32 vnet_nm_tx_drain(struct nm_port *p, u64 timeout_us)
{
    u64 end = rdtsc() + tsc_hz / 1000000 * timeout_us;
    while (vnet_tx_reclaim(p->vnet) && (int64_t)(rdtsc() - end) < 0)
        cpu_relax();
    vnet_nm_txsync(p);
    return vnet_nm_tx_pending(p);
}
