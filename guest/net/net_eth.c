/* Ethernet II: demultiplex received frames, frame outgoing ones. */
#include "net.h"

static const uint8_t eth_broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

void net_input(struct net_stack *st, const uint8_t *frame, unsigned len)
{
    struct net_counters *c = &st->c;
    c->rx_frames++;
    c->rx_bytes += len;
    st->nif->rx_frames++;
    st->nif->rx_bytes += len;
    if (!frame || len < ETH_HLEN) {
        c->eth_short++;
        return;
    }
    /* Our MAC or broadcast only: a NIC in promiscuous mode, or a switch
     * flooding unknown unicast, must not make us answer for others. */
    if (memcmp(frame, st->nif->mac, 6) && memcmp(frame, eth_broadcast, 6)) {
        c->eth_not_for_us++;
        return;
    }
    uint16_t type = net_get16(frame + 12);
    const uint8_t *p = frame + ETH_HLEN;
    unsigned plen = len - ETH_HLEN;
    switch (type) {
    case ETH_TYPE_IPV4:
        ipv4_input(st, p, plen);
        break;
    case ETH_TYPE_ARP:
        arp_input(st, p, plen);
        break;
    case ETH_TYPE_VLAN:
    case ETH_TYPE_QINQ:
        c->eth_vlan++; /* no VLAN support: tagged frames are not ours */
        break;
    default:
        c->eth_unknown_type++;
        break;
    }
}

/* The payload is already at frame + ETH_HLEN (frame is st->tx or st->ctl,
 * both with room for ETH_ZLEN). Short frames are padded to the Ethernet
 * minimum here rather than by the NIC, so the bytes on the wire do not
 * depend on a NIC setting. 0, or -NET_ENOBUFS if the NIC refused. */
int eth_output(struct net_stack *st, uint8_t *frame, const uint8_t dst[6], uint16_t type,
               unsigned payload_len, unsigned flags)
{
    struct netif *nif = st->nif;
    unsigned len = ETH_HLEN + payload_len;
    memcpy(frame, dst, 6);
    memcpy(frame + 6, nif->mac, 6);
    net_put16(frame + 12, type);
    if (len < ETH_ZLEN) {
        memset(frame + len, 0, ETH_ZLEN - len);
        len = ETH_ZLEN;
    }
    if (nif->tx(nif, frame, len, flags) < 0) {
        st->c.tx_nic_full++;
        nif->tx_fail++;
        return -NET_ENOBUFS;
    }
    st->c.tx_frames++;
    st->c.tx_bytes += len;
    nif->tx_frames++;
    nif->tx_bytes += len;
    return 0;
}
