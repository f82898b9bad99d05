/* udp-send: a UDP stream through the socket API, like netperf's
 * UDP_STREAM sender.
 *   udp-send ip=A peer=B [port=9000] [sport=N] [len=18] [count=N|duration=S]
 *            [rate=PPS] [nic=I]
 * len is the UDP payload (4..1472; 18 makes 60-byte frames, 1472 makes
 * 1514). The payload starts with a 32-bit sequence number (little endian)
 * so udp-recv can count losses. A full TX ring slows the sender down (the
 * netif waits for room, like a blocking socket); a send that still fails
 * is a drop. Ends with
 *   RESULT app=udp-send pkts= bytes= pps= bps= drops= ns= len= ... */
#include "io.h"
#include "netapp.h"

static struct netapp na;
static u8 payload[UDP_MAX_PAYLOAD];

int udp_send_main(const struct cmdline *cl)
{
    u64 port = 9000, sport = 0, len = 18, count = 0, duration = 0, rate = 0;
    cmdline_u64(cl, "port", &port);
    cmdline_u64(cl, "sport", &sport);
    cmdline_u64(cl, "len", &len);
    cmdline_u64(cl, "count", &count);
    cmdline_u64(cl, "duration", &duration);
    cmdline_u64(cl, "rate", &rate);
    if (!count && !duration)
        count = 1000;
    if (len < 4 || len > UDP_MAX_PAYLOAD || !port || port > 65535 || sport > 65535) {
        printf("udp-send: error: len=4..1472, port=1..65535, sport=0..65535\n");
        printf("RESULT app=udp-send ok=0 error=usage\n");
        return EXIT_USAGE;
    }
    int rc = netapp_open(&na, cl, "udp-send", true);
    if (rc)
        return rc;
    int sd = udp_socket(na.st);
    if (sd < 0 || udp_bind(na.st, sd, (u16)sport) < 0) {
        printf("RESULT app=udp-send ok=0 error=socket\n");
        return EXIT_FAIL;
    }
    for (u64 i = 0; i < len; i++)
        payload[i] = (u8)i;
    char peer[16];
    net_format_ip(peer, na.peer);
    printf("udp-send: %lu bytes to %s:%lu, %s %lu%s\n", len, peer, port,
           count ? "count" : "duration", count ? count : duration, count ? "" : " s");

    u64 t0 = rdtsc();
    u64 end = t0 + netapp_tsc_ms(duration * 1000);
    u64 gap = rate ? tsc_hz / rate : 0; /* TSC ticks between packets */
    u64 pkts = 0, bytes = 0, failed = 0;
    for (u32 seq = 0;; seq++) {
        if (count && seq >= count)
            break;
        u64 now = rdtsc();
        if (duration && (int64_t)(now - end) >= 0)
            break;
        if (gap) {
            u64 due = t0 + seq * gap;
            while ((int64_t)(rdtsc() - due) < 0)
                netapp_service(&na, 32);
        }
        memcpy(payload, &seq, 4);
        int n = udp_sendto(na.st, sd, na.peer, (u16)port, payload, (unsigned)len);
        if (n < 0) {
            failed++;
        } else {
            pkts++;
            bytes += (u64)n;
        }
        if ((seq & 31) == 0)
            netapp_service(&na, 32); /* answer ARP, keep the cache fresh */
    }
    netapp_tx_drain(&na, 2000);
    u64 ns = tsc_to_ns(rdtsc() - t0);
    u64 drops = failed + net_drops_total(na.st);
    printf("RESULT app=udp-send pkts=%lu bytes=%lu pps=%lu bps=%lu drops=%lu ns=%lu len=%lu "
           "frame=%lu tx_waits=%lu irqs=%u %s\n",
           pkts, bytes, netapp_rate(pkts, ns), netapp_rate(bytes * 8, ns), drops, ns, len,
           len + 42 < 60 ? 60 : len + 42, netapp_tx_waits(&na), nic_irqs[na.nic.irq_slot],
           netapp_nic_stats(&na));
    netapp_report(&na);
    return pkts ? EXIT_OK : EXIT_FAIL;
}
