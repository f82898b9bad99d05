/* The e1000 as a netif. Transmit waits a bounded time for ring space, the
 * way a blocking socket waits for its send buffer: a sender that outruns
 * the NIC is slowed down (it sleeps until the NIC completes descriptors),
 * not made to drop. */
#include "net/netif_e1000.h"
#include "io.h"

#define TX_WAIT_NS 20000000ull /* give up on a stuck ring after 20 ms */

static int e1000_netif_tx(struct netif *nif, const void *frame, unsigned len, unsigned flags)
{
    struct netif_e1000 *ne = nif->drv;
    (void)flags; /* no NETIF_F_TX_UDP_CSUM advertised: the stack sums */
    if (e1000_tx(ne->nic, frame, len) == 0)
        return 0;
    ne->tx_waits++;
    u64 end = rdtsc() + tsc_hz / (1000000000ull / TX_WAIT_NS);
    do {
        /* Sleep, don't spin: the core may be the one that drains the ring
         * (the CSB's host I/O thread). */
        e1000_tx_wait(ne->nic);
        if (e1000_tx(ne->nic, frame, len) == 0)
            return 0;
    } while ((int64_t)(rdtsc() - end) < 0);
    return -1;
}

void netif_e1000_init(struct netif_e1000 *ne, struct e1000 *nic, u32 ip)
{
    memset(ne, 0, sizeof(*ne));
    ne->nic = nic;
    memcpy(ne->nif.mac, nic->mac, 6);
    ne->nif.ip = ip;
    ne->nif.mtu = NET_MTU;
    ne->nif.tx = e1000_netif_tx;
    ne->nif.drv = ne;
}

unsigned netif_e1000_poll(struct netif_e1000 *ne, struct net_stack *st, unsigned budget)
{
    const u8 *data;
    u32 len;
    unsigned n = 0;
    while (n < budget && e1000_rx_peek(ne->nic, &data, &len)) {
        /* A frame the NIC flagged (CRC, length) or split over descriptors
         * is not handed up; the driver counts it in rx_errors. */
        volatile struct e1000_rx_desc *d = &ne->nic->rx[ne->nic->rx_next];
        if (!d->errors && (d->status & 0x02 /* EOP */))
            net_input(st, data, len);
        e1000_rx_advance(ne->nic);
        n++;
    }
    if (n)
        e1000_rx_refill(ne->nic);
    return n;
}

void netif_e1000_wait(struct netif_e1000 *ne)
{
    /* Send combining may hold back a tail; nothing stays unsent while we
     * sleep. Then the driver's race-free wait (CSB: flag, barrier, re-check). */
    if (ne->nic->tx_tail != ne->nic->tx_hw_tail)
        e1000_tx_flush(ne->nic);
    e1000_rx_wait(ne->nic);
}
