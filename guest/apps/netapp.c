/* Shared set-up of the network applications: one NIC (e1000 or
 * virtio-net), one stack. */
#include "netapp.h"
#include "io.h"

#define TIMER_MS 50 /* ARP retries need no finer clock */

static u64 stack_clock(void *ctx)
{
    (void)ctx;
    return now_ns();
}

/* ip=/peer= must be dotted quads inside 198.18.0.0/15. */
static bool get_ip(const struct cmdline *cl, const char *key, u32 *ip, const char *app)
{
    const char *s = cmdline_get(cl, key);
    if (!s) {
        printf("%s: error: %s= is required (an address in 198.18.0.0/15)\n", app, key);
        return false;
    }
    if (!net_parse_ip(s, ip) || !net_ip_allowed(*ip)) {
        printf("%s: error: %s=%s is not an address in 198.18.0.0/15\n", app, key, s);
        return false;
    }
    return true;
}

static int fail(const char *name, const char *error)
{
    printf("RESULT app=%s ok=0 error=%s\n", name, error);
    return EXIT_FAIL;
}

int netapp_open(struct netapp *na, const struct cmdline *cl, const char *name, bool need_peer)
{
    memset(na, 0, sizeof(*na));
    na->name = name;
    u64 arp_wait = 30;
    const char *index = cmdline_get(cl, "nic");
    cmdline_u64(cl, "arp_wait", &arp_wait);
    if (!get_ip(cl, "ip", &na->ip, name) || (need_peer && !get_ip(cl, "peer", &na->peer, name))) {
        printf("RESULT app=%s ok=0 error=usage\n", name);
        return EXIT_USAGE;
    }
    if (need_peer && na->peer == na->ip) {
        printf("%s: error: peer= is our own address\n", name);
        printf("RESULT app=%s ok=0 error=usage\n", name);
        return EXIT_USAGE;
    }
    u8 mac[6];
    const char *m = cmdline_get(cl, "mac");
    if (m && (!parse_mac(m, mac) || (mac[0] & 1))) {
        printf("%s: error: mac=%s is not a unicast MAC (aa:bb:cc:dd:ee:ff)\n", name, m);
        printf("RESULT app=%s ok=0 error=usage\n", name);
        return EXIT_USAGE;
    }
    if (nic_probe(&na->nic, index, 0, cl) < 0)
        return fail(name, "nic-probe");
    if (m)
        nic_set_mac(&na->nic, mac);
    if (na->nic.kind == NIC_E1000) {
        netif_e1000_init(&na->ne, &na->nic.e1000, na->ip);
        na->nif = &na->ne.nif;
    } else {
        netif_virtio_init(&na->nv, &na->nic.vnet, na->nic.mac, na->ip);
        na->nif = &na->nv.nif;
    }
    na->st = net_stack_new(na->nif, stack_clock, NULL);
    if (!na->st)
        return fail(name, "no-memory");
    char ipbuf[16];
    net_format_ip(ipbuf, na->ip);
    printf("%s: ip %s mac %02x:%02x:%02x:%02x:%02x:%02x nic %s (%s)\n", name, ipbuf,
           na->nic.mac[0], na->nic.mac[1], na->nic.mac[2], na->nic.mac[3], na->nic.mac[4],
           na->nic.mac[5], index ? index : "0", nic_kind_name(na->nic.kind));
    if (!need_peer) {
        nic_stats_reset(&na->nic); /* the run's counters start here */
        return 0;
    }

    /* The peer may still be booting: keep asking (arp_resolve starts a new
     * round after each give-up) until arp_wait runs out. */
    net_format_ip(ipbuf, na->peer);
    u64 deadline = rdtsc() + netapp_tsc_ms(arp_wait * 1000);
    while (arp_resolve(na->st, na->peer, na->peer_mac) != 0) {
        if ((int64_t)(rdtsc() - deadline) > 0) {
            printf("%s: error: no ARP reply from %s in %lu s\n", name, ipbuf, arp_wait);
            netapp_report(na);
            return fail(name, "arp-timeout");
        }
        if (!netapp_service(na, 64))
            netapp_wait(na);
    }
    nic_stats_reset(&na->nic);
    printf("%s: peer %s is at %02x:%02x:%02x:%02x:%02x:%02x\n", name, ipbuf, na->peer_mac[0],
           na->peer_mac[1], na->peer_mac[2], na->peer_mac[3], na->peer_mac[4], na->peer_mac[5]);
    return 0;
}

static u32 tx_reclaim(struct netapp *na)
{
    return na->nic.kind == NIC_E1000 ? e1000_tx_reclaim(&na->nic.e1000)
                                     : vnet_tx_reclaim(&na->nic.vnet);
}

unsigned netapp_service(struct netapp *na, unsigned budget)
{
    struct e1000 *e = &na->nic.e1000;
    bool e1k = na->nic.kind == NIC_E1000;
    unsigned n = e1k ? netif_e1000_poll(&na->ne, na->st, budget)
                     : netif_virtio_poll(&na->nv, na->st, budget);
    u64 now = rdtsc();
    if ((int64_t)(now - na->next_timer_tsc) >= 0) {
        na->next_timer_tsc = now + netapp_tsc_ms(TIMER_MS);
        net_poll(na->st);
        tx_reclaim(na);
    } else if (e1k && e->tx_tail != e->tx_hw_tail) {
        e1000_tx_reclaim(e); /* sc: hands the deferred tail over once the irq came */
    }
    return n;
}

void netapp_wait(struct netapp *na)
{
    if (na->nic.kind == NIC_E1000)
        netif_e1000_wait(&na->ne);
    else
        netif_virtio_wait(&na->nv);
}

void netapp_tx_drain(struct netapp *na, u64 ms)
{
    u64 end = rdtsc() + netapp_tsc_ms(ms);
    nic_tx_flush(&na->nic); /* sc: the end of the burst */
    while (tx_reclaim(na) && (int64_t)(rdtsc() - end) < 0) {
        netapp_service(na, 64);
        cpu_relax();
    }
}

const char *netapp_nic_stats(struct netapp *na)
{
    static char buf[320];
    nic_stats_str(&na->nic, buf, sizeof(buf));
    return buf;
}

u64 netapp_tx_waits(const struct netapp *na)
{
    return na->nic.kind == NIC_E1000 ? na->ne.tx_waits : na->nv.tx_waits;
}

void netapp_report(struct netapp *na)
{
    struct nic_counts c;
    nic_counts(&na->nic, &c);
    net_print_counters(na->st);
    printf("%s: nic tx_pkts=%lu tx_full=%lu tx_waits=%lu rx_pkts=%lu rx_errors=%lu irqs=%u\n",
           na->name, c.tx_pkts, c.tx_full, netapp_tx_waits(na), c.rx_pkts, c.rx_errors,
           nic_irqs[na->nic.irq_slot]);
}
