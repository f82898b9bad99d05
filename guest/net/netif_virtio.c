/* virtio-net as a netif. Transmit waits a bounded time for ring space, as
 * the e1000 glue does (a blocking socket's send buffer), asleep. */
#include "net/netif_virtio.h"
#include "io.h"

#define TX_WAIT_NS 20000000ull /* give up on a stuck ring after 20 ms */

static int virtio_netif_tx(struct netif *nif, const void *frame, unsigned len, unsigned flags)
{
    struct netif_virtio *nv = nif->drv;
    (void)flags; /* no NETIF_F_TX_UDP_CSUM advertised: the stack sums */
    if (vnet_tx(nv->nic, frame, len) == 0)
        return 0;
    nv->tx_waits++;
    u64 end = rdtsc() + tsc_hz / (1000000000ull / TX_WAIT_NS);
    do {
        vnet_tx_wait(nv->nic);
        if (vnet_tx(nv->nic, frame, len) == 0)
            return 0;
    } while ((int64_t)(rdtsc() - end) < 0);
    return -1;
}

void netif_virtio_init(struct netif_virtio *nv, struct vnet *nic, const u8 mac[6], u32 ip)
{
    memset(nv, 0, sizeof(*nv));
    nv->nic = nic;
    memcpy(nv->nif.mac, mac, 6);
    nv->nif.ip = ip;
    nv->nif.mtu = NET_MTU;
    nv->nif.tx = virtio_netif_tx;
    nv->nif.drv = nv;
}

unsigned netif_virtio_poll(struct netif_virtio *nv, struct net_stack *st, unsigned budget)
{
    const u8 *data;
    u32 len;
    u8 flags;
    unsigned n = 0;
    while (n < budget && vnet_rx_peek(nv->nic, &data, &len, &flags)) {
        /* Frames the driver flagged (short, or spread over buffers) are not
         * handed up; it counted them in rx_errors. */
        if (!flags)
            net_input(st, data, len);
        vnet_rx_advance(nv->nic);
        n++;
    }
    vnet_rx_refill(nv->nic);
    return n;
}

void netif_virtio_wait(struct netif_virtio *nv)
{
    vnet_rx_refill(nv->nic); /* everything read goes back before we sleep */
    vnet_rx_wait(nv->nic);
}
