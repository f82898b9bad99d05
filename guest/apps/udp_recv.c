/* udp-recv: receive a UDP stream through the socket API and count what
 * was lost, like netperf's UDP_STREAM receiver.
 *   udp-recv ip=A [port=9000] [count=N] [duration=S] [idle=MS] [timeout=S] [nic=I]
 * Stops after count datagrams, duration seconds after the first one, idle
 * ms without any (after the first), or timeout seconds in all (default 60).
 * Losses come from the sequence numbers udp-send puts first in each
 * datagram: drops = expected - received, expected being count if given,
 * else the highest sequence seen + 1. Ends with
 *   RESULT app=udp-recv pkts= bytes= pps= bps= drops= ns= ooo= ... */
#include "io.h"
#include "netapp.h"

static struct netapp na;
static u8 buf[UDP_MAX_PAYLOAD];

int udp_recv_main(const struct cmdline *cl)
{
    u64 port = 9000, count = 0, duration = 0, idle_ms = 2000, timeout = 60;
    cmdline_u64(cl, "port", &port);
    cmdline_u64(cl, "count", &count);
    cmdline_u64(cl, "duration", &duration);
    cmdline_u64(cl, "idle", &idle_ms);
    cmdline_u64(cl, "timeout", &timeout);
    if (!port || port > 65535) {
        printf("udp-recv: error: port=1..65535\n");
        printf("RESULT app=udp-recv ok=0 error=usage\n");
        return EXIT_USAGE;
    }
    int rc = netapp_open(&na, cl, "udp-recv", false);
    if (rc)
        return rc;
    int sd = udp_socket(na.st);
    if (sd < 0 || udp_bind(na.st, sd, (u16)port) < 0) {
        printf("RESULT app=udp-recv ok=0 error=socket\n");
        return EXIT_FAIL;
    }
    printf("udp-recv: ready on port %lu\n", port);

    u64 start = rdtsc(), first = 0, last = 0;
    u64 pkts = 0, bytes = 0, ooo = 0, short_dgrams = 0, max_seq = 0, wakeups = 0;
    u32 expect = 0;
    bool any_seq = false;
    for (;;) {
        unsigned got = netapp_service(&na, 128);
        u64 pkts_before = pkts;
        int n;
        while ((n = udp_recvfrom(na.st, sd, buf, sizeof(buf), NULL, NULL)) >= 0) {
            pkts++;
            bytes += (u64)n;
            if (n < 4) {
                short_dgrams++;
                continue;
            }
            u32 seq;
            memcpy(&seq, buf, 4);
            if (seq != expect)
                ooo++; /* a gap (loss) or reordering */
            expect = seq + 1;
            if (!any_seq || seq > max_seq)
                max_seq = seq;
            any_seq = true;
        }
        u64 now = rdtsc();
        /* The clocks (duration, idle) run on datagrams only: ARP or the
         * host's own frames may come long before the sender. */
        if (pkts > pkts_before) {
            if (!first)
                first = now;
            last = now;
        }
        if (count && pkts >= count)
            break;
        if (duration && first && (int64_t)(now - first - netapp_tsc_ms(duration * 1000)) > 0)
            break;
        if (first && now - last > netapp_tsc_ms(idle_ms))
            break;
        if ((int64_t)(now - start - netapp_tsc_ms(timeout * 1000)) > 0)
            break;
        if (!got) {
            netapp_wait(&na);
            wakeups++;
        }
    }
    u64 ns = first ? tsc_to_ns(last - first) : 0;
    u64 expected = count ? count : (any_seq ? max_seq + 1 : 0);
    u64 drops = expected > pkts ? expected - pkts : 0;
    u64 missed = nic_missed(&na.nic);
    printf("RESULT app=udp-recv pkts=%lu bytes=%lu pps=%lu bps=%lu drops=%lu ns=%lu ooo=%lu "
           "expected=%lu sock_drops=%lu stack_drops=%lu nic_missed=%lu short=%lu irqs=%u "
           "wakeups=%lu %s\n",
           pkts, bytes, netapp_rate(pkts, ns), netapp_rate(bytes * 8, ns), drops, ns, ooo, expected,
           udp_sock_get(na.st, sd)->rx_drops, net_drops_total(na.st), missed, short_dgrams,
           nic_irqs[na.nic.irq_slot], wakeups, netapp_nic_stats(&na));
    netapp_report(&na);
    return pkts ? EXIT_OK : EXIT_FAIL;
}
