/* Stack life and its counters. */
#include "net.h"

void net_stack_init(struct net_stack *st, struct netif *nif, uint64_t (*clock_ns)(void *),
                    void *clock_ctx)
{
    memset(st, 0, sizeof(*st));
    st->nif = nif;
    if (!nif->mtu || nif->mtu > NET_MTU)
        nif->mtu = NET_MTU;
    st->clock_ns = clock_ns;
    st->clock_ctx = clock_ctx;
    st->arp_ttl_ns = NET_ARP_TTL_NS;
    st->ip_id = 1;
    st->next_ephemeral = NET_EPHEMERAL_FIRST;
}

struct net_stack *net_stack_new(struct netif *nif, uint64_t (*clock_ns)(void *), void *ctx)
{
    struct net_stack *st = net_zalloc(sizeof(*st));
    if (st)
        net_stack_init(st, nif, clock_ns, ctx);
    return st;
}

void net_stack_free(struct net_stack *st)
{
    if (!st)
        return;
    for (int i = 0; i < NET_MAX_SOCKETS; i++)
        if (st->socks[i].used)
            udp_close(st, i);
    net_free(st, sizeof(*st));
}

uint64_t net_now(struct net_stack *st)
{
    return st->clock_ns ? st->clock_ns(st->clock_ctx) : 0;
}

void net_print_counters(const struct net_stack *st)
{
    const struct net_counters *c = &st->c;
    int n = 0;
    net_printf("net:");
#define NET_X_PRINT(name)                                                                          \
    if (c->name) {                                                                                 \
        net_printf("%s %s=%lu", n &&n % 6 == 0 ? "\nnet:" : "", #name, (unsigned long)c->name);    \
        n++;                                                                                       \
    }
    NET_COUNTERS(NET_X_PRINT)
#undef NET_X_PRINT
    net_printf("%s\n", n ? "" : " (all zero)");
}

/* Frames and packets the stack received and could not use, plus packets it
 * could not send. Informational receive outcomes (options skipped, zero
 * UDP checksum, ARP for someone else) are not drops. */
uint64_t net_drops_total(const struct net_stack *st)
{
    const struct net_counters *c = &st->c;
    return c->tx_nic_full + c->eth_short + c->eth_not_for_us + c->eth_vlan + c->eth_unknown_type +
           c->arp_short + c->arp_bad_format + c->arp_bad_op + c->arp_bad_sender +
           c->arp_queue_replaced + c->arp_queue_dropped + c->ip_short + c->ip_bad_version +
           c->ip_bad_ihl + c->ip_bad_len + c->ip_bad_csum + c->ip_fragment + c->ip_not_for_us +
           c->ip_bad_src + c->ip_unknown_proto + c->ip_tx_too_big + c->icmp_short +
           c->icmp_bad_csum + c->icmp_echo_queue_full + c->udp_short + c->udp_bad_len +
           c->udp_bad_csum + c->udp_no_port + c->udp_queue_full;
}
