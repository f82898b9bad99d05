/* pktgen: send or count Ethernet frames on a NIC (e1000 or virtio-net) through the netmap-style
 * ring API (drivers/nm_ring.h), like netmap's pkt-gen.
 *   pktgen tx [count=N] [duration=S] [len=BYTES] [dst=MAC] [nic=I] [delay=MS] [batch=N]
 *             [burst=N gap_us=G [seed=S]]   (random bursts and idle gaps)
 *   pktgen rx [count=N] [duration=S] [nic=I] [timeout=S] [idle=MS] [batch=N]
 * plus the driver's options (txmode=classic|sc|csb, itr= tidv= tadv= rdtr=
 * radv=). duration= (seconds, decimals allowed) bounds a run: tx sends until
 * it passes (count unlimited unless given), rx stops then. Frames are len bytes without FCS (60..1514), EtherType 0x88b5
 * (local experimental), payload a 32-bit sequence number, written straight
 * into the TX slots' buffers (the descriptors' DMA buffers: no copy). tx
 * fills up to `batch` slots (default 64), then one txsync (one tail update,
 * subject to the discipline); batch=1 is one sync per frame. rx drains up to
 * `batch` slots (default: all there are) per rxsync, sleeping in `wait`
 * (woken by the NIC interrupt or the timer tick) when the ring is empty.
 * Ends with: RESULT app=pktgen role=tx|rx pkts= bytes= pps= drops= ... then
 * the driver's counters (txmode= tdt_writes= reg_accesses= ...). */
#include "apps.h"
#include "drivers/nic.h"
#include "io.h"

#define ETHERTYPE 0x88b5

static struct nic nic; /* e1000 or virtio-net */
static struct nm_port port;
static char stats[512]; /* the NIC counters: virtio-net prints ~330 bytes */

static u64 rate(u64 n, u64 ns)
{
    u64 us = ns / 1000;
    return us ? n * 1000000 / us : 0;
}

/* n per 1000 packets, for the RESULT line (no floating point in the guest) */
static u64 per_kpkt(u64 n, u64 pkts) { return pkts ? n * 1000 / pkts : 0; }

/* xorshift64: the random burst sizes and gaps (seed= makes a run repeatable). */
static u64 rnd(u64 *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int do_tx(const struct cmdline *cl)
{
    u64 count = 1000, len = 60, delay = 0, batch = 64, dur_ms = 0;
    u64 burst = 0, gap_us = 0, seed = 1;
    u8 dst[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    cmdline_u64(cl, "count", &count);
    cmdline_u64(cl, "len", &len);
    cmdline_u64(cl, "delay", &delay);
    cmdline_u64(cl, "batch", &batch);
    /* burst=N gap_us=G: bursts of 1..N frames, each followed by an idle gap
     * of 0..G us (both uniformly random): every side of the NIC keeps going
     * to sleep and being woken, in every order (the CSB's race-free sleep
     * under test). */
    cmdline_u64(cl, "burst", &burst);
    cmdline_u64(cl, "gap_us", &gap_us);
    cmdline_u64(cl, "seed", &seed);
    if (!seed)
        seed = 1;
    if (parse_seconds_ms(cmdline_get(cl, "duration"), &dur_ms) && dur_ms && !cmdline_get(cl, "count"))
        count = ~0ull;                      /* until the duration has passed */
    const char *d = cmdline_get(cl, "dst");
    u32 max_batch = E1000_RING_MAX - 1; /* a sync moves at most what the ring has room for */
    if ((d && !parse_mac(d, dst)) || len < 60 || len > 1514 || batch < 1 || batch > max_batch) {
        printf("pktgen: error: bad dst=, len= (60..1514) or batch= (1..%u)\n", max_batch);
        return EXIT_USAGE;
    }
    struct nm_ring *r = &port.tx;
    /* Every slot buffer gets the header once; per frame only the sequence
     * number changes. */
    for (u32 i = 0; i < r->num_slots; i++) {
        u8 *f = r->slot[i].buf;
        memset(f, 0, len);
        memcpy(f, dst, 6);
        memcpy(f + 6, nic.mac, 6);
        f[12] = ETHERTYPE >> 8;
        f[13] = ETHERTYPE & 0xff;
    }
    if (delay)
        delay_us(delay * 1000);

    printf("pktgen: tx %lu frames of %lu bytes, batch %lu, duration %lu ms\n", count, len, batch,
           dur_ms);
    u32 base_irqs = nic_irqs[nic.irq_slot];
    nic_stats_reset(&nic);
    u64 t0 = rdtsc(), sent = 0, full = 0;
    u64 t_end = t0 + dur_ms * (tsc_hz / 1000);
    u32 seq = 0;
    u64 burst_left = burst ? 1 + rnd(&seed) % burst : ~0ull, gaps = 0;
    while (sent < count) {
        if (dur_ms && (int64_t)(rdtsc() - t_end) > 0)
            break;
        if (!burst_left) { /* end of a burst: hand it over, stay idle, next burst */
            nic_tx_flush(&nic);
            delay_us(rnd(&seed) % (gap_us + 1));
            gaps++;
            burst_left = 1 + rnd(&seed) % burst;
        }
        u32 space = nm_ring_space(r);
        if (!space) {
            /* Ring full: sleep until the NIC frees slots, leaving the core
             * to whoever drains the ring (csb: the host's I/O thread). */
            full++;
            nm_tx_wait(&port);
            continue;
        }
        u64 n = count - sent;
        if (n > batch)
            n = batch;
        if (n > space)
            n = space;
        if (n > burst_left)
            n = burst_left;
        burst_left -= n;
        u32 cur = r->cur;
        for (u64 k = 0; k < n; k++) {
            struct nm_slot *s = &r->slot[cur];
            memcpy(s->buf + 14, &seq, 4);
            seq++;
            s->len = (u16)len;
            cur = nm_ring_next(r, cur);
        }
        r->head = r->cur = cur;
        sent += n;
        nm_txsync(&port);                   /* one tail update per batch */
    }
    /* Hand over what send combining deferred; wait for completion, 5 s at most. */
    u32 left = nm_tx_drain(&port, 5000000);
    u64 ns = tsc_to_ns(rdtsc() - t0);
    nic_stats_str(&nic, stats, sizeof(stats));
    struct nic_counts c;
    nic_counts(&nic, &c);
    u32 irqs = nic_irqs[nic.irq_slot] - base_irqs;
    printf("RESULT app=pktgen role=tx pkts=%lu bytes=%lu pps=%lu drops=%u ns=%lu ring_full=%lu "
           "irqs=%u bps=%lu batch=%lu syncs=%lu %s tdt_per_kpkt=%lu irqs_per_kpkt=%lu "
           "exits_per_kpkt=%lu gaps=%lu\n",
           c.tx_pkts, c.tx_bytes, rate(c.tx_pkts, ns), left, ns, full, irqs,
           rate(c.tx_bytes * 8, ns), batch, r->syncs, stats, per_kpkt(c.tx_kicks, c.tx_pkts),
           per_kpkt(irqs, c.tx_pkts), per_kpkt(c.reg_reads + c.reg_writes + irqs, c.tx_pkts),
           gaps);
    return left ? EXIT_FAIL : EXIT_OK;
}

static int do_rx(const struct cmdline *cl)
{
    u64 count = 0, timeout = 30, idle_ms = 2000, batch = E1000_RING_MAX, dur_ms = 0;
    cmdline_u64(cl, "count", &count);
    cmdline_u64(cl, "timeout", &timeout);
    parse_seconds_ms(cmdline_get(cl, "duration"), &dur_ms);
    cmdline_u64(cl, "idle", &idle_ms);
    cmdline_u64(cl, "batch", &batch);
    if (!batch)
        batch = E1000_RING_MAX;
    struct nm_ring *r = &port.rx;
    u64 pkts = 0, bytes = 0, other = 0, wakeups = 0;
    u64 start = rdtsc(), first = 0, last = 0;
    u64 deadline = start + timeout * tsc_hz;
    if (dur_ms && dur_ms < timeout * 1000)
        deadline = start + dur_ms * (tsc_hz / 1000);
    u32 base_irqs = nic_irqs[nic.irq_slot];
    nic_stats_reset(&nic);
    printf("pktgen: rx ready (count %lu, timeout %lu s)\n", count, timeout);
    for (;;) {
        nm_rxsync(&port);                   /* gives back what was read, reports new frames */
        u32 n = nm_ring_space(r);
        if (n > batch)
            n = (u32)batch;
        u32 cur = r->cur;
        u64 pkts_before = pkts;
        for (u32 k = 0; k < n; k++) {
            const struct nm_slot *s = &r->slot[cur];
            const u8 *f = s->buf;
            if (!s->flags && s->len >= 14 && f[12] == ETHERTYPE >> 8 &&
                f[13] == (ETHERTYPE & 0xff)) {
                pkts++;
                bytes += s->len;
            } else {
                other++;
            }
            cur = nm_ring_next(r, cur);
        }
        r->head = r->cur = cur;
        u64 now = rdtsc();
        /* The clocks (rate, idle) run on pktgen frames only: the host's own
         * frames (IPv6 on a tap, say) may come long before the sender. */
        if (pkts > pkts_before) {
            if (!first)
                first = now;
            last = now;
        }
        if (count && pkts >= count)
            break;
        if ((int64_t)(now - deadline) > 0)
            break;
        if (first && now - last > idle_ms * (tsc_hz / 1000))
            break;
        if (!n) {
            /* Sleep until an interrupt: the NIC's RXT0 or the next tick. */
            nm_rx_wait(&port);
            wakeups++;
        }
    }
    nm_rxsync(&port);                       /* give the last slots back */
    u64 ns = first ? tsc_to_ns(last - first) : 0;
    /* missed: frames for this NIC dropped because it had no buffer (MPC;
     * on vpio also those its switch port had no room for). drops: with
     * count=, the frames that did not arrive (the missed among them),
     * otherwise the missed. */
    u64 missed = nic_missed(&nic);
    u64 drops = count ? (count > pkts ? count - pkts : 0) : missed;
    nic_stats_str(&nic, stats, sizeof(stats));
    struct nic_counts c;
    nic_counts(&nic, &c);
    u32 irqs = nic_irqs[nic.irq_slot] - base_irqs;
    u64 regs = c.reg_reads + c.reg_writes;     /* the MPC read included */
    printf("RESULT app=pktgen role=rx pkts=%lu bytes=%lu pps=%lu drops=%lu ns=%lu other=%lu "
           "missed=%lu rx_errors=%lu irqs=%u wakeups=%lu bps=%lu batch=%lu syncs=%lu %s "
           "irqs_per_kpkt=%lu exits_per_kpkt=%lu\n",
           pkts, bytes, rate(pkts, ns), drops, ns, other, missed, c.rx_errors, irqs, wakeups,
           rate(bytes * 8, ns), batch, r->syncs, stats, per_kpkt(irqs, pkts),
           per_kpkt(regs + irqs, pkts));
    return (count && pkts < count) ? EXIT_FAIL : EXIT_OK;
}

int pktgen_main(const struct cmdline *cl)
{
    const char *index = cmdline_get(cl, "nic");
    const char *role = cl->argc ? cl->argv[0] : cmdline_get(cl, "role");
    if (!role || (strcmp(role, "tx") && strcmp(role, "rx"))) {
        printf("pktgen: error: usage: pktgen tx|rx [count=N] [len=BYTES] [dst=MAC] [nic=I] "
               "[batch=N] [txmode=classic|sc|csb]\n");
        return EXIT_USAGE;
    }
    if (nic_probe(&nic, index, 0, cl) < 0) {
        printf("RESULT app=pktgen role=%s ok=0 error=nic-probe nic=%s\n", role,
               index ? index : "0");
        return EXIT_FAIL;
    }
    nic_open(&port, &nic);
    return role[0] == 't' ? do_tx(cl) : do_rx(cl);
}
