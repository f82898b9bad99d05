/* ping: ICMP echo requests to the peer, with round-trip times.
 *   ping ip=A peer=B [count=5] [interval=MS] [len=56] [wait=MS] [nic=I]
 * One request every interval ms (default 200); after the last, replies are
 * awaited up to wait ms (default 1000). The payload starts with the send
 * time (ns) so a reply carries its own RTT; the stack stamps each reply
 * when it takes it from the NIC. Ends with
 *   RESULT app=ping sent= received= rtt_min_us= rtt_avg_us= rtt_max_us= loss= */
#include "io.h"
#include "netapp.h"

#define PING_ID 0x7670 /* "vp" */

static struct netapp na;
static u8 payload[UDP_MAX_PAYLOAD];

struct ping_stats {
    u64 received, dup, bad, rtt_min, rtt_max, rtt_sum;
    u8 seen[256]; /* bit per sequence number mod 2048: duplicates */
};

static void take_replies(struct ping_stats *ps, u64 sent, u64 len)
{
    struct net_echo e;
    while (icmp_echo_recv(na.st, &e) == 0) {
        u64 stamp;
        if (e.id != PING_ID || e.from != na.peer || e.len != len || e.seq >= sent) {
            ps->bad++;
            continue;
        }
        memcpy(&stamp, e.data, 8);
        u8 bit = (u8)(1u << (e.seq & 7));
        u8 *slot = &ps->seen[(e.seq >> 3) & 255];
        if (*slot & bit) {
            ps->dup++;
            continue;
        }
        *slot |= bit;
        u64 rtt = e.rx_ns > stamp ? e.rx_ns - stamp : 0;
        ps->received++;
        ps->rtt_sum += rtt;
        if (ps->received == 1 || rtt < ps->rtt_min)
            ps->rtt_min = rtt;
        if (rtt > ps->rtt_max)
            ps->rtt_max = rtt;
        char from[16];
        net_format_ip(from, e.from);
        printf("ping: %u bytes from %s: seq=%u rtt=%lu.%03lu ms\n", e.len + 8, from, e.seq,
               rtt / 1000000, rtt / 1000 % 1000);
    }
}

int ping_main(const struct cmdline *cl)
{
    u64 count = 5, interval = 200, len = 56, wait_ms = 1000;
    cmdline_u64(cl, "count", &count);
    cmdline_u64(cl, "interval", &interval);
    cmdline_u64(cl, "len", &len);
    cmdline_u64(cl, "wait", &wait_ms);
    if (len < 8 || len > NET_MTU - IPV4_HLEN - ICMP_HLEN || count == 0 || count > 2048) {
        printf("ping: error: len=8..1472, count=1..2048\n");
        printf("RESULT app=ping ok=0 error=usage\n");
        return EXIT_USAGE;
    }
    int rc = netapp_open(&na, cl, "ping", true);
    if (rc)
        return rc;
    for (u64 i = 8; i < len; i++)
        payload[i] = (u8)i;
    static struct ping_stats ps;
    u64 sent = 0, send_fail = 0;
    u64 next = rdtsc();
    while (sent < count) {
        u64 stamp = now_ns();
        memcpy(payload, &stamp, 8);
        if (icmp_echo_send(na.st, na.peer, PING_ID, (u16)sent, payload, (unsigned)len) < 0)
            send_fail++;
        sent++;
        next += netapp_tsc_ms(interval);
        while ((int64_t)(rdtsc() - next) < 0 && ps.received < count) {
            if (!netapp_service(&na, 64))
                netapp_wait(&na);
            take_replies(&ps, sent, len);
        }
    }
    u64 end = rdtsc() + netapp_tsc_ms(wait_ms);
    while (ps.received < count && (int64_t)(rdtsc() - end) < 0) {
        if (!netapp_service(&na, 64))
            netapp_wait(&na);
        take_replies(&ps, sent, len);
    }
    u64 avg = ps.received ? ps.rtt_sum / ps.received : 0;
    printf("RESULT app=ping sent=%lu received=%lu rtt_min_us=%lu rtt_avg_us=%lu rtt_max_us=%lu "
           "loss=%lu dup=%lu bad=%lu send_fail=%lu len=%lu %s\n",
           sent, ps.received, ps.rtt_min / 1000, avg / 1000, ps.rtt_max / 1000, sent - ps.received,
           ps.dup, ps.bad, send_fail, len, netapp_nic_stats(&na));
    netapp_report(&na);
    return ps.received == sent ? EXIT_OK : EXIT_FAIL;
}
