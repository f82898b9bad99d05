/* IPv4 (RFC 791) without fragmentation: every header field that bounds
 * something is checked before use; fragments are dropped (the stack never
 * sends packets larger than the MTU and sets DF on its own). */
#include "net.h"

#define IP_FLAG_DF 0x4000
#define IP_FLAG_MF 0x2000
#define IP_FRAG_OFFSET 0x1fff
#define IP_TTL 64

static bool ip_bad_source(uint32_t ip, uint32_t me)
{
    return ip == 0 || ip == IPV4_BROADCAST || (ip >> 28) == 0xe || ip == me;
}

void ipv4_input(struct net_stack *st, const uint8_t *p, unsigned len)
{
    struct net_counters *c = &st->c;
    c->ip_rx++;
    if (len < IPV4_HLEN) {
        c->ip_short++;
        return;
    }
    if (p[0] >> 4 != 4) {
        c->ip_bad_version++;
        return;
    }
    unsigned hlen = (p[0] & 0xfu) * 4u;
    if (hlen < IPV4_HLEN) {
        c->ip_bad_ihl++;
        return;
    }
    if (hlen > len) {
        c->ip_short++;
        return;
    }
    /* The total length bounds the packet; bytes past it are Ethernet
     * padding of a short frame and are ignored. */
    unsigned total = net_get16(p + 2);
    if (total < hlen || total > len) {
        c->ip_bad_len++;
        return;
    }
    if (net_csum(p, hlen) != 0) {
        c->ip_bad_csum++;
        return;
    }
    if (net_get16(p + 6) & (IP_FLAG_MF | IP_FRAG_OFFSET)) {
        c->ip_fragment++;
        return;
    }
    uint32_t src = net_get32(p + 12), dst = net_get32(p + 16);
    uint32_t me = st->nif->ip;
    if (dst != me && dst != IPV4_BROADCAST) {
        c->ip_not_for_us++;
        return;
    }
    if (ip_bad_source(src, me)) {
        c->ip_bad_src++;
        return;
    }
    if (hlen > IPV4_HLEN)
        c->ip_options++; /* none of them matter to an end host like this one */
    const uint8_t *l4 = p + hlen;
    unsigned l4len = total - hlen;
    switch (p[9]) {
    case IPV4_PROTO_UDP:
        udp_input(st, src, dst, l4, l4len);
        break;
    case IPV4_PROTO_ICMP:
        if (dst == me) /* no echo replies to broadcast pings */
            icmp_input(st, src, l4, l4len);
        else
            c->ip_not_for_us++;
        break;
    default:
        c->ip_unknown_proto++;
        break;
    }
}

/* The payload is at net_tx_l4(st); prepend the header and send. */
int ipv4_output(struct net_stack *st, uint32_t dst, uint8_t proto, unsigned payload_len,
                unsigned flags)
{
    /* No loopback (ARP would never answer for ourselves) and no multicast
     * (no group MAC mapping here). */
    if (dst == st->nif->ip || dst == 0 || (dst >> 28) == 0xe)
        return -NET_EINVAL;
    if (payload_len > st->nif->mtu - IPV4_HLEN) {
        st->c.ip_tx_too_big++;
        return -NET_EMSGSIZE;
    }
    uint8_t *ip = st->tx + ETH_HLEN;
    unsigned total = IPV4_HLEN + payload_len;
    ip[0] = 0x45; /* version 4, 5 words: no options */
    ip[1] = 0;
    net_put16(ip + 2, (uint16_t)total);
    net_put16(ip + 4, st->ip_id++);
    net_put16(ip + 6, IP_FLAG_DF);
    ip[8] = IP_TTL;
    ip[9] = proto;
    net_put16(ip + 10, 0);
    net_put32(ip + 12, st->nif->ip);
    net_put32(ip + 16, dst);
    net_put16(ip + 10, net_csum(ip, IPV4_HLEN));
    st->c.ip_tx++;
    return arp_output(st, dst, total, flags);
}
