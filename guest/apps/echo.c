/* echo: a responder. The stack answers ARP and ICMP echo by itself; this
 * app also sends every UDP datagram to its port back to where it came
 * from (RFC 862 style), for the given time.
 *   echo ip=A [port=7] [duration=S] [count=N] [idle=MS] [poll=1] [nic=I]
 * Runs duration seconds (default 30; 0 with count=N: until N datagrams
 * were echoed), or until idle ms pass without a frame once one came (for
 * tests: the responder ends soon after its client). poll=1 spins on the
 * ring instead of sleeping until an interrupt (as udp-rr's poll=1: a round
 * trip then pays no halt, wake-up or interrupt on this side). Ends with
 *   RESULT app=echo pkts= bytes= pps= bps= drops= icmp= arp= ns= */
#include "io.h"
#include "netapp.h"

static struct netapp na;
static u8 buf[UDP_MAX_PAYLOAD];

int echo_main(const struct cmdline *cl)
{
    u64 port = 7, duration = 30, count = 0, idle_ms = 0, poll = 0;
    cmdline_u64(cl, "port", &port);
    cmdline_u64(cl, "poll", &poll);
    cmdline_u64(cl, "idle", &idle_ms);
    cmdline_u64(cl, "duration", &duration);
    cmdline_u64(cl, "count", &count);
    if (!port || port > 65535 || (!duration && !count)) {
        printf("echo: error: port=1..65535 and duration=S or count=N\n");
        printf("RESULT app=echo ok=0 error=usage\n");
        return EXIT_USAGE;
    }
    int rc = netapp_open(&na, cl, "echo", false);
    if (rc)
        return rc;
    int sd = udp_socket(na.st);
    if (sd < 0 || udp_bind(na.st, sd, (u16)port) < 0) {
        printf("RESULT app=echo ok=0 error=socket\n");
        return EXIT_FAIL;
    }
    printf("echo: ready (udp port %lu, %lu s)\n", port, duration);
    u64 t0 = rdtsc(), end = t0 + netapp_tsc_ms(duration * 1000);
    u64 pkts = 0, bytes = 0, failed = 0, last = 0;
    for (;;) {
        unsigned got = netapp_service(&na, 64);
        u64 now = rdtsc();
        if (got)
            last = now;
        if (idle_ms && last && now - last > netapp_tsc_ms(idle_ms))
            break;
        int n;
        u32 ip;
        u16 from_port;
        while ((n = udp_recvfrom(na.st, sd, buf, sizeof(buf), &ip, &from_port)) >= 0) {
            if (udp_sendto(na.st, sd, ip, from_port, buf, (unsigned)n) < 0) {
                failed++;
                continue;
            }
            pkts++;
            bytes += (u64)n;
        }
        if (count && pkts >= count)
            break;
        if (duration && (int64_t)(now - end) >= 0)
            break;
        if (!got && !poll)
            netapp_wait(&na);
    }
    netapp_tx_drain(&na, 1000);
    u64 ns = tsc_to_ns(rdtsc() - t0);
    const struct net_counters *c = &na.st->c;
    printf("RESULT app=echo pkts=%lu bytes=%lu pps=%lu bps=%lu drops=%lu icmp=%lu arp=%lu "
           "ns=%lu %s\n",
           pkts, bytes, netapp_rate(pkts, ns), netapp_rate(bytes * 8, ns),
           failed + net_drops_total(na.st), c->icmp_echo_reply_tx, c->arp_reply_tx, ns,
           netapp_nic_stats(&na));
    netapp_report(&na);
    return EXIT_OK;
}
