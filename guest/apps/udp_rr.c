/* udp-rr: UDP request/response, like netperf's UDP_RR. Sends a datagram to
 * an `echo` responder, waits for it to come back, and records the round
 * trip; `inflight=N` keeps N requests outstanding.
 *   udp-rr ip=A peer=B [port=7] [len=18] [count=N|duration=S] [inflight=1]
 *          [timeout=MS] [poll=1] [nic=I]
 * len is the UDP payload (16..1472; 18 makes 60-byte frames). The payload
 * carries a sequence number and the send time (TSC), so a reply is matched
 * to its request without a table. A request with no reply after timeout ms
 * (default 200) is counted as lost and replaced. poll=1 spins on the ring
 * instead of sleeping until an interrupt (the default, as a blocking recv
 * would). Ends with
 *   RESULT app=udp-rr trans= tps= lost= rtt_min_ns= rtt_p50_ns= rtt_p99_ns=
 *          rtt_p999_ns= rtt_max_ns= ns= ...
 * RTT percentiles come from a log-linear histogram (32 steps per power of
 * two: within 3 %). */
#include "io.h"
#include "netapp.h"

#define RR_SUB_BITS 5 /* 32 buckets per power of two */
#define RR_BUCKETS (64 << RR_SUB_BITS)
#define RR_MAX_INFLIGHT 256

static struct netapp na;
static u8 payload[UDP_MAX_PAYLOAD], reply[UDP_MAX_PAYLOAD];
static u64 hist[RR_BUCKETS];

struct rr_stamp { /* the first 16 bytes of every request */
    u64 seq;
    u64 sent_tsc;
};

static unsigned bucket_of(u64 ns)
{
    if (ns < (1u << RR_SUB_BITS))
        return (unsigned)ns;
    unsigned top = 63 - (unsigned)__builtin_clzll(ns); /* >= RR_SUB_BITS */
    unsigned sub = (unsigned)(ns >> (top - RR_SUB_BITS)) & ((1u << RR_SUB_BITS) - 1);
    return ((top - RR_SUB_BITS + 1) << RR_SUB_BITS) + sub;
}

/* The lower edge of a bucket, in ns. */
static u64 bucket_floor(unsigned b)
{
    if (b < (1u << RR_SUB_BITS))
        return b;
    unsigned top = (b >> RR_SUB_BITS) + RR_SUB_BITS - 1;
    u64 sub = b & ((1u << RR_SUB_BITS) - 1);
    return ((u64)1 << top) | (sub << (top - RR_SUB_BITS));
}

/* The smallest RTT with at least per_mille/1000 of the samples at or below. */
static u64 percentile(u64 total, u64 per_mille)
{
    u64 want = (total * per_mille + 999) / 1000, seen = 0;
    for (unsigned b = 0; b < RR_BUCKETS; b++) {
        seen += hist[b];
        if (seen >= want && hist[b])
            return bucket_floor(b);
    }
    return 0;
}

static bool send_request(int sd, u16 port, u64 seq, unsigned len)
{
    struct rr_stamp st = {seq, rdtsc()};
    memcpy(payload, &st, sizeof st);
    return udp_sendto(na.st, sd, na.peer, port, payload, len) >= 0;
}

int udp_rr_main(const struct cmdline *cl)
{
    u64 port = 7, len = 18, count = 0, duration = 0, inflight = 1, timeout_ms = 200, poll = 0;
    cmdline_u64(cl, "port", &port);
    cmdline_u64(cl, "len", &len);
    cmdline_u64(cl, "count", &count);
    cmdline_u64(cl, "duration", &duration);
    cmdline_u64(cl, "inflight", &inflight);
    cmdline_u64(cl, "timeout", &timeout_ms);
    cmdline_u64(cl, "poll", &poll);
    if (!count && !duration)
        count = 1000;
    if (len < sizeof(struct rr_stamp) || len > UDP_MAX_PAYLOAD || !port || port > 65535 ||
        !inflight || inflight > RR_MAX_INFLIGHT || !timeout_ms) {
        printf("udp-rr: error: len=16..1472, port=1..65535, inflight=1..%u, timeout=MS>0\n",
               RR_MAX_INFLIGHT);
        printf("RESULT app=udp-rr ok=0 error=usage\n");
        return EXIT_USAGE;
    }
    int rc = netapp_open(&na, cl, "udp-rr", true);
    if (rc)
        return rc;
    int sd = udp_socket(na.st);
    if (sd < 0 || udp_bind(na.st, sd, 0) < 0) {
        printf("RESULT app=udp-rr ok=0 error=socket\n");
        return EXIT_FAIL;
    }
    for (u64 i = 0; i < len; i++)
        payload[i] = (u8)i;
    char peer[16];
    net_format_ip(peer, na.peer);
    printf("udp-rr: %lu bytes to %s:%lu, %lu in flight, %s %lu%s\n", len, peer, port, inflight,
           count ? "count" : "duration", count ? count : duration, count ? "" : " s");

    u64 t0 = rdtsc(), end = t0 + netapp_tsc_ms(duration * 1000);
    u64 timeout_tsc = netapp_tsc_ms(timeout_ms);
    u64 next_seq = 0, trans = 0, lost = 0, send_fail = 0, stray = 0, outstanding = 0;
    u64 min_ns = ~0ull, max_ns = 0, last_progress = t0;
    u64 valid_from = 0; /* requests below this were given up on */
    for (;;) {
        u64 now = rdtsc();
        bool done = (count && trans + lost >= count) || (duration && (int64_t)(now - end) >= 0);
        if (done && !outstanding)
            break;
        /* keep the window full while there is work left to start */
        while (!done && outstanding < inflight && (!count || next_seq < count)) {
            if (!send_request(sd, (u16)port, next_seq, (unsigned)len)) {
                send_fail++;
                break;
            }
            next_seq++;
            outstanding++;
        }
        netapp_service(&na, 64);
        int n;
        u32 ip;
        u16 from_port;
        while ((n = udp_recvfrom(na.st, sd, reply, sizeof reply, &ip, &from_port)) >= 0) {
            struct rr_stamp st;
            if (ip != na.peer || from_port != port || n < (int)sizeof st) {
                stray++;
                continue;
            }
            memcpy(&st, reply, sizeof st);
            u64 back = rdtsc();
            if (st.seq >= next_seq || st.seq < valid_from || (int64_t)(back - st.sent_tsc) < 0 ||
                !outstanding) {
                stray++; /* not one of ours, or already given up on */
                continue;
            }
            u64 ns = tsc_to_ns(back - st.sent_tsc);
            hist[bucket_of(ns)]++;
            if (ns < min_ns)
                min_ns = ns;
            if (ns > max_ns)
                max_ns = ns;
            trans++;
            outstanding--;
            last_progress = back;
        }
        now = rdtsc();
        if (outstanding && now - last_progress > timeout_tsc) {
            lost += outstanding; /* their replies, if late, are strays */
            outstanding = 0;
            valid_from = next_seq;
            last_progress = now;
        }
        if (done && !outstanding)
            break;
        if (!poll && outstanding)
            netapp_wait(&na);
    }
    u64 ns = tsc_to_ns(rdtsc() - t0);
    printf("RESULT app=udp-rr trans=%lu tps=%lu lost=%lu send_fail=%lu stray=%lu inflight=%lu "
           "len=%lu rtt_min_ns=%lu rtt_p50_ns=%lu rtt_p99_ns=%lu rtt_p999_ns=%lu rtt_max_ns=%lu "
           "ns=%lu irqs=%u %s\n",
           trans, netapp_rate(trans, ns), lost, send_fail, stray, inflight, len, trans ? min_ns : 0,
           percentile(trans, 500), percentile(trans, 990), percentile(trans, 999), max_ns, ns,
           nic_irqs[na.nic.irq_slot], netapp_nic_stats(&na));
    netapp_report(&na);
    return trans ? EXIT_OK : EXIT_FAIL;
}
