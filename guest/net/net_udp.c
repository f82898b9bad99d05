/* UDP (RFC 768) and its sockets. A socket is a slot in the stack's table
 * with a bounded receive queue of copied datagrams; the queue is allocated
 * when the socket is created, so receive never allocates. */
#include "net.h"

static struct udp_sock *sock_get(struct net_stack *st, int sd)
{
    if (sd < 0 || sd >= NET_MAX_SOCKETS || !st->socks[sd].used)
        return NULL;
    return &st->socks[sd];
}

static struct udp_sock *sock_by_port(struct net_stack *st, uint16_t port)
{
    for (int i = 0; i < NET_MAX_SOCKETS; i++)
        if (st->socks[i].used && st->socks[i].port == port)
            return &st->socks[i];
    return NULL;
}

void udp_input(struct net_stack *st, uint32_t src, uint32_t dst, const uint8_t *p, unsigned len)
{
    struct net_counters *c = &st->c;
    c->udp_rx++;
    if (len < UDP_HLEN) {
        c->udp_short++;
        return;
    }
    unsigned ulen = net_get16(p + 4);
    if (ulen < UDP_HLEN || ulen > len) {
        c->udp_bad_len++;
        return;
    }
    if (net_get16(p + 6) == 0) {
        c->udp_zero_csum++; /* the sender did not compute one: allowed over IPv4 */
    } else {
        uint32_t sum = net_pseudo_sum(src, dst, IPV4_PROTO_UDP, ulen);
        if (net_csum_fold(net_csum_add(sum, p, ulen)) != 0) {
            c->udp_bad_csum++;
            return;
        }
    }
    struct udp_sock *s = sock_by_port(st, net_get16(p + 2));
    if (!s) {
        c->udp_no_port++;
        return;
    }
    if (s->tail - s->head >= NET_SOCK_QLEN) {
        c->udp_queue_full++;
        s->rx_drops++;
        return;
    }
    struct net_dgram *d = &s->q[s->tail % NET_SOCK_QLEN];
    unsigned n = ulen - UDP_HLEN; /* <= 1480 - 8 by the IP checks and the MTU */
    if (n > UDP_MAX_PAYLOAD) {    /* a jumbo frame from a NIC with a larger MTU */
        c->udp_bad_len++;
        return;
    }
    d->ip = src;
    d->port = net_get16(p);
    d->len = (uint16_t)n;
    memcpy(d->data, p + UDP_HLEN, n);
    s->tail++;
    s->rx_pkts++;
    s->rx_bytes += n;
    c->udp_delivered++;
}

int udp_socket(struct net_stack *st)
{
    for (int i = 0; i < NET_MAX_SOCKETS; i++) {
        struct udp_sock *s = &st->socks[i];
        if (s->used)
            continue;
        memset(s, 0, sizeof(*s));
        s->q = net_zalloc(NET_SOCK_QLEN * sizeof(*s->q));
        if (!s->q)
            return -NET_ENOMEM;
        s->used = true;
        return i;
    }
    return -NET_EMFILE;
}

int udp_close(struct net_stack *st, int sd)
{
    struct udp_sock *s = sock_get(st, sd);
    if (!s)
        return -NET_EBADF;
    net_free(s->q, NET_SOCK_QLEN * sizeof(*s->q));
    memset(s, 0, sizeof(*s));
    return 0;
}

static uint16_t ephemeral_port(struct net_stack *st)
{
    for (unsigned tries = 0; tries < 65536 - NET_EPHEMERAL_FIRST; tries++) {
        uint16_t p = st->next_ephemeral;
        st->next_ephemeral = p == 65535 ? NET_EPHEMERAL_FIRST : (uint16_t)(p + 1);
        if (!sock_by_port(st, p))
            return p;
    }
    return 0; /* cannot happen with NET_MAX_SOCKETS sockets */
}

int udp_bind(struct net_stack *st, int sd, uint16_t port)
{
    struct udp_sock *s = sock_get(st, sd);
    if (!s)
        return -NET_EBADF;
    if (s->port)
        return -NET_EINVAL;
    if (port == 0)
        port = ephemeral_port(st);
    else if (sock_by_port(st, port))
        return -NET_EADDRINUSE;
    s->port = port;
    return 0;
}

int udp_sendto(struct net_stack *st, int sd, uint32_t ip, uint16_t port, const void *buf,
               unsigned len)
{
    struct udp_sock *s = sock_get(st, sd);
    if (!s)
        return -NET_EBADF;
    if (ip == 0 || port == 0 || (len && !buf))
        return -NET_EINVAL;
    if (len > st->nif->mtu - IPV4_HLEN - UDP_HLEN)
        return -NET_EMSGSIZE;
    if (!s->port) {
        int rc = udp_bind(st, sd, 0);
        if (rc < 0)
            return rc;
    }
    uint8_t *u = net_tx_l4(st);
    unsigned ulen = UDP_HLEN + len;
    net_put16(u, s->port);
    net_put16(u + 2, port);
    net_put16(u + 4, (uint16_t)ulen);
    memcpy(u + UDP_HLEN, buf, len);
    uint32_t pseudo = net_pseudo_sum(st->nif->ip, ip, IPV4_PROTO_UDP, ulen);
    unsigned flags = 0;
    if (st->nif->features & NETIF_F_TX_UDP_CSUM) {
        /* The NIC sums the datagram (with this field in it) and stores the
         * complement: leave it the folded pseudo-header sum. */
        net_put16(u + 6, (uint16_t)~net_csum_fold(pseudo));
        flags = NETIF_TX_CSUM_UDP;
        st->c.udp_tx_offload++;
    } else {
        net_put16(u + 6, 0);
        uint16_t sum = net_csum_fold(net_csum_add(pseudo, u, ulen));
        net_put16(u + 6, sum ? sum : 0xffff); /* 0 means "no checksum" */
    }
    int rc = ipv4_output(st, ip, IPV4_PROTO_UDP, ulen, flags);
    if (rc < 0)
        return rc;
    st->c.udp_tx++;
    s->tx_pkts++;
    s->tx_bytes += len;
    return (int)len;
}

int udp_recvfrom(struct net_stack *st, int sd, void *buf, unsigned cap, uint32_t *ip,
                 uint16_t *port)
{
    struct udp_sock *s = sock_get(st, sd);
    if (!s)
        return -NET_EBADF;
    if (s->head == s->tail)
        return -NET_EAGAIN;
    const struct net_dgram *d = &s->q[s->head % NET_SOCK_QLEN];
    if (buf)
        memcpy(buf, d->data, d->len < cap ? d->len : cap);
    if (ip)
        *ip = d->ip;
    if (port)
        *port = d->port;
    int n = d->len;
    s->head++;
    return n;
}

unsigned udp_pending(const struct net_stack *st, int sd)
{
    if (sd < 0 || sd >= NET_MAX_SOCKETS || !st->socks[sd].used)
        return 0;
    return st->socks[sd].tail - st->socks[sd].head;
}

const struct udp_sock *udp_sock_get(const struct net_stack *st, int sd)
{
    if (sd < 0 || sd >= NET_MAX_SOCKETS || !st->socks[sd].used)
        return NULL;
    return &st->socks[sd];
}
