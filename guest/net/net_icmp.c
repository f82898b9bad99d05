/* ICMP echo (RFC 792): answer requests to us; send requests and queue the
 * replies for the ping application. Other ICMP types are counted. */
#include "net.h"

#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8

void icmp_input(struct net_stack *st, uint32_t src, const uint8_t *p, unsigned len)
{
    struct net_counters *c = &st->c;
    c->icmp_rx++;
    if (len < ICMP_HLEN) {
        c->icmp_short++;
        return;
    }
    if (net_csum(p, len) != 0) {
        c->icmp_bad_csum++;
        return;
    }
    if (p[0] == ICMP_ECHO_REQUEST && p[1] == 0) {
        c->icmp_echo_request_rx++;
        if (len > st->nif->mtu - IPV4_HLEN) /* cannot happen with a valid IP length */
            return;
        /* Same identifier, sequence and data; only type and checksum change. */
        uint8_t *r = net_tx_l4(st);
        memmove(r, p, len);
        r[0] = ICMP_ECHO_REPLY;
        net_put16(r + 2, 0);
        net_put16(r + 2, net_csum(r, len));
        if (ipv4_output(st, src, IPV4_PROTO_ICMP, len, 0) == 0)
            c->icmp_echo_reply_tx++;
        return;
    }
    if (p[0] == ICMP_ECHO_REPLY && p[1] == 0) {
        c->icmp_echo_reply_rx++;
        if (st->echo_tail - st->echo_head >= NET_ECHO_QLEN) {
            c->icmp_echo_queue_full++;
            return;
        }
        struct net_echo *e = &st->echo[st->echo_tail % NET_ECHO_QLEN];
        unsigned n = len - ICMP_HLEN;
        e->from = src;
        e->id = net_get16(p + 4);
        e->seq = net_get16(p + 6);
        e->len = (uint16_t)n;
        e->rx_ns = net_now(st);
        memcpy(e->data, p + ICMP_HLEN, n < NET_ECHO_DATA ? n : NET_ECHO_DATA);
        st->echo_tail++;
        return;
    }
    c->icmp_other_type++;
}

int icmp_echo_send(struct net_stack *st, uint32_t ip, uint16_t id, uint16_t seq,
                   const void *payload, unsigned len)
{
    if (len > st->nif->mtu - IPV4_HLEN - ICMP_HLEN)
        return -NET_EMSGSIZE;
    uint8_t *r = net_tx_l4(st);
    r[0] = ICMP_ECHO_REQUEST;
    r[1] = 0;
    net_put16(r + 2, 0);
    net_put16(r + 4, id);
    net_put16(r + 6, seq);
    if (len)
        memcpy(r + ICMP_HLEN, payload, len);
    net_put16(r + 2, net_csum(r, ICMP_HLEN + len));
    int rc = ipv4_output(st, ip, IPV4_PROTO_ICMP, ICMP_HLEN + len, 0);
    if (rc == 0)
        st->c.icmp_echo_request_tx++;
    return rc;
}

int icmp_echo_recv(struct net_stack *st, struct net_echo *out)
{
    if (st->echo_head == st->echo_tail)
        return -NET_EAGAIN;
    *out = st->echo[st->echo_head % NET_ECHO_QLEN];
    st->echo_head++;
    return 0;
}
