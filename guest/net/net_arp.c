/* ARP (RFC 826) for IPv4 over Ethernet: answer requests for our address,
 * resolve destinations with a small cache whose entries expire, and hold
 * one packet per destination while it is being resolved.
 *
 * Entry life: FREE -> PENDING (request sent, one packet may wait) ->
 * VALID (MAC known until deadline) -> expired: PENDING again. A VALID
 * entry in the last quarter of its life sends one refresh request but
 * stays usable, so a steady stream does not stall at expiry. A PENDING
 * entry is retried from net_poll and freed after NET_ARP_RETRIES. */
#include "net.h"

#define ARP_LEN 28
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

static const uint8_t mac_broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t mac_zero[6];

static struct arp_entry *arp_find(struct net_stack *st, uint32_t ip)
{
    for (int i = 0; i < NET_ARP_ENTRIES; i++)
        if (st->arp[i].state != ARP_FREE && st->arp[i].ip == ip)
            return &st->arp[i];
    return NULL;
}

/* A free entry, else the VALID entry closest to expiry; NULL if every
 * entry is pending (never evict a resolution in progress). */
static struct arp_entry *arp_alloc(struct net_stack *st, uint32_t ip)
{
    struct arp_entry *victim = NULL;
    for (int i = 0; i < NET_ARP_ENTRIES; i++) {
        struct arp_entry *e = &st->arp[i];
        if (e->state == ARP_FREE) {
            victim = e;
            break;
        }
        if (e->state == ARP_VALID && (!victim || e->deadline_ns < victim->deadline_ns))
            victim = e;
    }
    if (!victim) {
        st->c.arp_cache_full++;
        return NULL;
    }
    memset(victim, 0, offsetof(struct arp_entry, q)); /* q is rewritten before use */
    victim->ip = ip;
    return victim;
}

static void arp_send(struct net_stack *st, uint16_t op, const uint8_t eth_dst[6],
                     const uint8_t tha[6], uint32_t tpa)
{
    uint8_t *a = st->ctl + ETH_HLEN;
    net_put16(a, 1); /* hardware: Ethernet */
    net_put16(a + 2, ETH_TYPE_IPV4);
    a[4] = 6;
    a[5] = 4;
    net_put16(a + 6, op);
    memcpy(a + 8, st->nif->mac, 6);
    net_put32(a + 14, st->nif->ip);
    memcpy(a + 18, tha, 6);
    net_put32(a + 24, tpa);
    if (eth_output(st, st->ctl, eth_dst, ETH_TYPE_ARP, ARP_LEN, 0) == 0) {
        if (op == ARP_OP_REQUEST)
            st->c.arp_request_tx++;
        else
            st->c.arp_reply_tx++;
    }
}

static void arp_request(struct net_stack *st, struct arp_entry *e, uint64_t now)
{
    e->retries++;
    e->deadline_ns = now + NET_ARP_RETRY_NS;
    arp_send(st, ARP_OP_REQUEST, mac_broadcast, mac_zero, e->ip);
}

/* Sender confirmed: entry VALID, and the packet that waited goes out. */
static void arp_learn(struct net_stack *st, struct arp_entry *e, const uint8_t mac[6])
{
    memcpy(e->mac, mac, 6);
    e->state = ARP_VALID;
    e->retries = 0;
    e->refreshing = false;
    e->deadline_ns = net_now(st) + st->arp_ttl_ns;
    if (e->qlen) {
        unsigned n = e->qlen;
        e->qlen = 0;
        memcpy(st->tx + ETH_HLEN, e->q, n);
        eth_output(st, st->tx, e->mac, ETH_TYPE_IPV4, n, 0);
    }
}

static bool mac_is_group(const uint8_t *mac)
{
    return mac[0] & 1; /* multicast and broadcast */
}

static bool ip_is_special(uint32_t ip)
{
    return ip == 0 || ip == IPV4_BROADCAST || (ip >> 28) == 0xe; /* multicast */
}

void arp_input(struct net_stack *st, const uint8_t *p, unsigned len)
{
    struct net_counters *c = &st->c;
    c->arp_rx++;
    if (len < ARP_LEN) {
        c->arp_short++;
        return;
    }
    if (net_get16(p) != 1 || net_get16(p + 2) != ETH_TYPE_IPV4 || p[4] != 6 || p[5] != 4) {
        c->arp_bad_format++;
        return;
    }
    uint16_t op = net_get16(p + 6);
    if (op != ARP_OP_REQUEST && op != ARP_OP_REPLY) {
        c->arp_bad_op++;
        return;
    }
    const uint8_t *sha = p + 8;
    uint32_t spa = net_get32(p + 14);
    uint32_t tpa = net_get32(p + 24);
    uint32_t me = st->nif->ip;
    /* Never cache a group MAC, a special address or our own address
     * (someone claiming it is a conflict, not a neighbour). */
    if (mac_is_group(sha) || ip_is_special(spa) || spa == me) {
        c->arp_bad_sender++;
        return;
    }
    /* RFC 826 merge: update the sender if we know it already... */
    struct arp_entry *e = arp_find(st, spa);
    if (e)
        arp_learn(st, e, sha);
    if (tpa != me) {
        c->arp_not_for_us++;
        return;
    }
    /* ...and add it if the packet is for us: it will talk to us. */
    if (!e && (e = arp_alloc(st, spa)) != NULL)
        arp_learn(st, e, sha);
    if (op == ARP_OP_REQUEST) {
        c->arp_request_rx++;
        arp_send(st, ARP_OP_REPLY, sha, sha, spa);
    } else {
        c->arp_reply_rx++;
    }
}

int arp_resolve(struct net_stack *st, uint32_t ip, uint8_t mac[6])
{
    uint64_t now = net_now(st);
    struct arp_entry *e = arp_find(st, ip);
    if (e && e->state == ARP_VALID) {
        if (now < e->deadline_ns) {
            if (!e->refreshing && e->deadline_ns - now < st->arp_ttl_ns / 4) {
                e->refreshing = true; /* one early request; the entry stays usable */
                st->c.arp_refresh++;
                arp_send(st, ARP_OP_REQUEST, e->mac, mac_zero, ip);
            }
            memcpy(mac, e->mac, 6);
            return 0;
        }
        st->c.arp_expired++;
        e->state = ARP_PENDING;
        e->retries = 0;
        e->qlen = 0;
        arp_request(st, e, now);
        return -NET_EAGAIN;
    }
    if (!e) {
        e = arp_alloc(st, ip);
        if (!e)
            return -NET_EAGAIN;
        e->state = ARP_PENDING;
        arp_request(st, e, now);
    }
    return -NET_EAGAIN;
}

/* Sends the IPv4 packet at st->tx + ETH_HLEN (ip_len bytes) to dst, or
 * parks it in dst's ARP entry until the reply comes. */
int arp_output(struct net_stack *st, uint32_t dst, unsigned ip_len, unsigned flags)
{
    uint8_t mac[6];
    if (dst == IPV4_BROADCAST)
        return eth_output(st, st->tx, mac_broadcast, ETH_TYPE_IPV4, ip_len, flags);
    if (arp_resolve(st, dst, mac) == 0)
        return eth_output(st, st->tx, mac, ETH_TYPE_IPV4, ip_len, flags);
    struct arp_entry *e = arp_find(st, dst);
    if (!e) { /* cache full of pending entries */
        st->c.arp_queue_dropped++;
        return 0;
    }
    if (flags & NETIF_TX_CSUM_UDP) {
        /* The NIC would have finished the checksum; a parked packet is
         * sent later without offload, so finish it here. */
        uint8_t *ip = st->tx + ETH_HLEN;
        unsigned ihl = (ip[0] & 0xf) * 4u;
        uint8_t *udp = ip + ihl;
        uint16_t sum = net_csum(udp, ip_len - ihl); /* the field holds the pseudo sum */
        net_put16(udp + 6, sum ? sum : 0xffff);
    }
    if (e->qlen)
        st->c.arp_queue_replaced++;
    memcpy(e->q, st->tx + ETH_HLEN, ip_len);
    e->qlen = (uint16_t)ip_len;
    st->c.arp_queued++;
    return 0;
}

void arp_flush(struct net_stack *st)
{
    memset(st->arp, 0, sizeof(st->arp));
}

void net_poll(struct net_stack *st)
{
    uint64_t now = net_now(st);
    for (int i = 0; i < NET_ARP_ENTRIES; i++) {
        struct arp_entry *e = &st->arp[i];
        if (e->state != ARP_PENDING || now < e->deadline_ns)
            continue;
        if (e->retries >= NET_ARP_RETRIES) {
            st->c.arp_timeout++;
            if (e->qlen)
                st->c.arp_queue_dropped++;
            e->state = ARP_FREE;
            e->qlen = 0;
            continue;
        }
        arp_request(st, e, now);
    }
}
