/* fwd: an L2 forwarder between two e1000 NICs through the netmap-style ring
 * API (drivers/nm_ring.h): a middlebox VM, like netmap's bridge.
 *   fwd [a=0] [b=1] [batch=N] [duration=S] [idle=MS] [count=N] [copy=1] [promisc=0]
 * plus the driver's options (txmode=classic|sc|csb, itr= tidv= tadv= rdtr=
 * radv=), applied to both NICs.
 *
 * Every frame received on NIC a goes out on NIC b and vice versa. Per loop:
 * one rxsync per port (gives back the slots forwarded last time, reports new
 * frames), then for each direction up to `batch` frames (default 64) move
 * from the RX ring to the other port's TX ring, then one txsync per port
 * that got frames (one tail update per batch, subject to the discipline).
 *
 * Zero copy by default: the RX slot's buffer and the free TX slot's buffer
 * are swapped and both slots marked NM_BUF_CHANGED, so the next syncs point
 * the TX descriptor at the received frame and the RX descriptor at the
 * buffer the TX slot had (buffers migrate between the NICs; all are 2 KiB
 * DMA buffers in identity-mapped RAM). copy=1 copies into the TX slot's own
 * buffer instead.
 *
 * A frame waits in its RX ring while the other port's TX ring is full
 * (backpressure: fwd itself never drops a good frame); the NIC then counts
 * what it cannot place (MPC). Frames flagged with an RX error or spanning
 * several slots are dropped and counted (bad=). When both RX rings are
 * empty, fwd hands over anything send combining deferred and sleeps
 * (race free over both NICs: nm_rx_wait_any) until a NIC interrupt or the
 * timer tick.
 *
 * Stops after `duration` seconds (default 30), after `idle` ms without a
 * frame once the first has come (default 2000; 0 = never), or once `count`
 * frames were forwarded in total. The NICs are promiscuous unless promisc=0.
 * Ends with:
 *   RESULT app=fwd pkts= bytes= pps= drops= a_to_b= b_to_a= bad= missed_a=
 *   missed_b= tx_left= ns= wakeups= tx_full= batch= mode=swap|copy
 *   a_txmode= a_tdt_writes= ... b_txmode= ... irqs_a= irqs_b=
 * drops = bad + missed_a + missed_b + tx_left (descriptors not completed at
 * the end). */
#include "apps.h"
#include "drivers/nic.h"
#include "io.h"

struct fwd_dir {
    u64 pkts, bytes, bad;
    bool in_frag; /* the previous slot had NM_MOREFRAG: drop up to its end */
};

static struct nic nics[2]; /* each an e1000 or a virtio-net */
static struct nm_port ports[2];
static char stats[2][400];

static u64 rate(u64 n, u64 ns)
{
    u64 us = ns / 1000;
    return us ? n * 1000000 / us : 0;
}

/* Moves up to batch frames from src's RX ring to dst's TX ring; returns the
 * RX slots consumed (frames moved plus bad ones dropped). */
static u32 fwd_move(struct nm_port *src, struct nm_port *dst, u32 batch, bool copy,
                    struct fwd_dir *d)
{
    struct nm_ring *rx = &src->rx, *tx = &dst->tx;
    u32 avail = nm_ring_space(rx), space = nm_ring_space(tx);
    if (avail > batch)
        avail = batch;
    u32 ri = rx->cur, ti = tx->cur, used = 0;
    while (used < avail) {
        struct nm_slot *rs = &rx->slot[ri];
        bool bad = d->in_frag || (rs->flags & (NM_RX_ERROR | NM_MOREFRAG)) || rs->len < 14 ||
                   rs->len > tx->buf_size;
        if (bad) {
            d->in_frag = (rs->flags & NM_MOREFRAG) != 0;
            if (!d->in_frag)
                d->bad++; /* counted once per frame, at its last slot */
        } else {
            if (!space)
                break; /* the frame waits in its RX ring */
            struct nm_slot *ts = &tx->slot[ti];
            if (copy) {
                memcpy(ts->buf, rs->buf, rs->len);
            } else {
                u8 *b = ts->buf;
                ts->buf = rs->buf;
                rs->buf = b;
                ts->flags |= NM_BUF_CHANGED;
                rs->flags |= NM_BUF_CHANGED;
            }
            ts->len = rs->len;
            d->pkts++;
            d->bytes += rs->len;
            space--;
            ti = nm_ring_next(tx, ti);
        }
        ri = nm_ring_next(rx, ri);
        used++;
    }
    rx->head = rx->cur = ri;
    tx->head = tx->cur = ti;
    return used;
}

/* "txmode=sc tdt_writes=1 ..." -> "P_txmode=sc P_tdt_writes=1 ..." */
static void prefix_keys(char *out, size_t size, const char *in, char p)
{
    size_t o = 0;
    bool start = true;
    for (; *in && o + 3 < size; in++) {
        if (start && *in != ' ') {
            out[o++] = p;
            out[o++] = '_';
        }
        start = *in == ' ';
        out[o++] = *in;
    }
    out[o] = 0;
}

int fwd_main(const struct cmdline *cl)
{
    u64 ia = 0, ib = 1, batch = 64, dur_ms = 30000, idle_ms = 2000, count = 0, copy = 0;
    u64 promisc = 1;
    cmdline_u64(cl, "a", &ia);
    cmdline_u64(cl, "b", &ib);
    cmdline_u64(cl, "batch", &batch);
    cmdline_u64(cl, "idle", &idle_ms);
    cmdline_u64(cl, "count", &count);
    cmdline_u64(cl, "copy", &copy);
    cmdline_u64(cl, "promisc", &promisc);
    const char *dur = cmdline_get(cl, "duration");
    if ((dur && !parse_seconds_ms(dur, &dur_ms)) || ia == ib || ia >= NIC_MAX || ib >= NIC_MAX ||
        batch < 1 || batch > E1000_RING_MAX - 1) {
        printf("fwd: error: usage: fwd [a=0] [b=1] [batch=1..%u] [duration=S] [idle=MS] "
               "[count=N] [copy=1] [promisc=0] [txmode=classic|sc|csb]\n",
               E1000_RING_MAX - 1);
        return EXIT_USAGE;
    }
    u64 idx[2] = {ia, ib};
    const char *spec[2] = {cmdline_get(cl, "a"), cmdline_get(cl, "b")};
    for (int k = 0; k < 2; k++) {
        /* a=/b= as nic= (drivers/nic.h): I, e1000[:I] or virtio[:I]. */
        const char *sp = spec[k] && (spec[k][0] < '0' || spec[k][0] > '9') ? spec[k] : NULL;
        if (nic_probe(&nics[k], sp, (int)idx[k], cl) < 0) {
            printf("RESULT app=fwd ok=0 error=nic-probe nic=%s\n", spec[k] ? spec[k] : "-");
            return EXIT_FAIL;
        }
        nic_set_promisc(&nics[k], promisc != 0);
        nic_open(&ports[k], &nics[k]);
    }
    ia = (u64)nics[0].irq_slot;
    ib = (u64)nics[1].irq_slot;
    struct nm_port *const both[2] = {&ports[0], &ports[1]};
    struct fwd_dir dir[2] = {{0}, {0}}; /* [0]: a -> b, [1]: b -> a */
    u32 base_irqs[2] = {nic_irqs[ia], nic_irqs[ib]};
    nic_stats_reset(&nics[0]);
    nic_stats_reset(&nics[1]);
    (void)nic_missed(&nics[0]); /* MPC is clear on read: start from 0 */
    (void)nic_missed(&nics[1]);
    printf("fwd: ready a=%s b=%s batch %lu %s, duration %lu ms, idle %lu ms\n",
           nic_kind_name(nics[0].kind), nic_kind_name(nics[1].kind), batch, copy ? "copy" : "swap", dur_ms, idle_ms);

    u64 start = rdtsc(), first = 0, last = 0, wakeups = 0, tx_full = 0;
    u64 deadline = start + dur_ms * (tsc_hz / 1000);
    for (;;) {
        nm_rxsync(&ports[0]); /* give back what was forwarded, see new frames */
        nm_rxsync(&ports[1]);
        u32 m0 = fwd_move(&ports[0], &ports[1], (u32)batch, copy, &dir[0]);
        u32 m1 = fwd_move(&ports[1], &ports[0], (u32)batch, copy, &dir[1]);
        if (m0)
            nm_txsync(&ports[1]); /* one tail update per batch */
        if (m1)
            nm_txsync(&ports[0]);
        u64 now = rdtsc();
        if (m0 || m1) {
            if (!first)
                first = now;
            last = now;
        }
        if (count && dir[0].pkts + dir[1].pkts >= count)
            break;
        if ((int64_t)(now - deadline) > 0)
            break;
        if (idle_ms && first && now - last > idle_ms * (tsc_hz / 1000))
            break;
        if (m0 || m1)
            continue;
        if (nm_ring_empty(&ports[0].rx) && nm_ring_empty(&ports[1].rx)) {
            /* Idle: nothing may stay deferred while we sleep. */
            nm_txsync(&ports[0]);
            nm_txsync(&ports[1]);
            nic_tx_flush(&nics[0]);
            nic_tx_flush(&nics[1]);
            nm_rx_wait_any(both, 2);
            wakeups++;
        } else {
            /* Frames wait for TX slots: reclaim completed ones. */
            nm_txsync(&ports[0]);
            nm_txsync(&ports[1]);
            tx_full++;
            cpu_relax();
        }
    }
    nm_rxsync(&ports[0]); /* give the last slots back */
    nm_rxsync(&ports[1]);
    u32 left = nm_tx_drain(&ports[0], 1000000) + nm_tx_drain(&ports[1], 1000000);
    u64 ns = first ? tsc_to_ns(last - first) : 0;
    u64 missed_a = nic_missed(&nics[0]), missed_b = nic_missed(&nics[1]);
    u64 pkts = dir[0].pkts + dir[1].pkts, bytes = dir[0].bytes + dir[1].bytes;
    u64 bad = dir[0].bad + dir[1].bad;
    char buf[320];
    nic_stats_str(&nics[0], buf, sizeof(buf));
    prefix_keys(stats[0], sizeof(stats[0]), buf, 'a');
    nic_stats_str(&nics[1], buf, sizeof(buf));
    prefix_keys(stats[1], sizeof(stats[1]), buf, 'b');
    printf("RESULT app=fwd pkts=%lu bytes=%lu pps=%lu drops=%lu a_to_b=%lu b_to_a=%lu bad=%lu "
           "missed_a=%lu missed_b=%lu tx_left=%u ns=%lu wakeups=%lu tx_full=%lu batch=%lu "
           "mode=%s syncs_a=%lu syncs_b=%lu %s %s irqs_a=%u irqs_b=%u\n",
           pkts, bytes, rate(pkts, ns), bad + missed_a + missed_b + left, dir[0].pkts, dir[1].pkts,
           bad, missed_a, missed_b, left, ns, wakeups, tx_full, batch, copy ? "copy" : "swap",
           ports[0].tx.syncs, ports[1].tx.syncs, stats[0], stats[1], nic_irqs[ia] - base_irqs[0],
           nic_irqs[ib] - base_irqs[1]);
    return left ? EXIT_FAIL : EXIT_OK;
}
