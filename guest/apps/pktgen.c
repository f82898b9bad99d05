/* pktgen: send or count Ethernet frames on an e1000, like netmap's pkt-gen.
 *   pktgen tx [count=N] [len=BYTES] [dst=MAC] [nic=I] [delay=MS]
 *   pktgen rx [count=N] [nic=I] [timeout=S] [idle=MS]
 * Frames are len bytes without FCS (60..1514), EtherType 0x88b5 (local
 * experimental), payload a 32-bit sequence number. tx uses the "classic"
 * discipline (one TDT write per frame). rx polls the ring, sleeping in
 * `wait` (woken by the NIC interrupt or the timer tick) when it is empty.
 * Ends with: RESULT app=pktgen role=tx|rx pkts= bytes= pps= drops= ... */
#include "apps.h"
#include "drivers/e1000.h"
#include "io.h"

#define ETHERTYPE 0x88b5

static struct e1000 nic;

static u64 rate(u64 n, u64 ns)
{
    u64 us = ns / 1000;
    return us ? n * 1000000 / us : 0;
}

static int do_tx(const struct cmdline *cl)
{
    u64 count = 1000, len = 60, delay = 0;
    u8 dst[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    cmdline_u64(cl, "count", &count);
    cmdline_u64(cl, "len", &len);
    cmdline_u64(cl, "delay", &delay);
    const char *d = cmdline_get(cl, "dst");
    if ((d && !parse_mac(d, dst)) || len < 60 || len > 1514) {
        printf("pktgen: error: bad dst= or len= (60..1514)\n");
        return EXIT_USAGE;
    }
    static u8 frame[1514];
    memcpy(frame, dst, 6);
    memcpy(frame + 6, nic.mac, 6);
    frame[12] = ETHERTYPE >> 8;
    frame[13] = ETHERTYPE & 0xff;
    if (delay)
        delay_us(delay * 1000);

    printf("pktgen: tx %lu frames of %lu bytes\n", count, len);
    u64 t0 = rdtsc();
    for (u64 i = 0; i < count; i++) {
        memcpy(frame + 14, &i, 4);
        while (e1000_tx(&nic, frame, (u32)len) < 0)
            cpu_relax();
    }
    /* Wait for the device to finish (every descriptor done), 5 s at most. */
    u64 end = rdtsc() + 5 * tsc_hz;
    while (e1000_tx_reclaim(&nic) && (int64_t)(rdtsc() - end) < 0)
        cpu_relax();
    u64 ns = tsc_to_ns(rdtsc() - t0);
    u32 left = e1000_tx_reclaim(&nic);
    printf("RESULT app=pktgen role=tx pkts=%lu bytes=%lu pps=%lu drops=%u ns=%lu ring_full=%lu "
           "irqs=%u\n",
           nic.tx_pkts, nic.tx_bytes, rate(nic.tx_pkts, ns), left, ns, nic.tx_full,
           nic_irqs[nic.index]);
    return left ? EXIT_FAIL : EXIT_OK;
}

static int do_rx(const struct cmdline *cl)
{
    u64 count = 0, timeout = 30, idle_ms = 2000;
    cmdline_u64(cl, "count", &count);
    cmdline_u64(cl, "timeout", &timeout);
    cmdline_u64(cl, "idle", &idle_ms);
    u64 pkts = 0, bytes = 0, other = 0, wakeups = 0;
    u64 start = rdtsc(), first = 0, last = 0;
    u64 deadline = start + timeout * tsc_hz;
    printf("pktgen: rx ready (count %lu, timeout %lu s)\n", count, timeout);
    for (;;) {
        const u8 *data;
        u32 len;
        u32 n = 0;
        while (n < E1000_NRX && e1000_rx_peek(&nic, &data, &len)) {
            if (len >= 14 && data[12] == ETHERTYPE >> 8 && data[13] == (ETHERTYPE & 0xff)) {
                pkts++;
                bytes += len;
            } else {
                other++;
            }
            e1000_rx_advance(&nic);
            n++;
        }
        u64 now = rdtsc();
        if (n) {
            e1000_rx_refill(&nic);
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
            e1000_take_icr(&nic);
            cli();
            if (!e1000_rx_peek(&nic, &data, &len))
                sys_wait();
            sti();
            wakeups++;
        }
    }
    u64 ns = first ? tsc_to_ns(last - first) : 0;
    u64 missed = e1000_missed(&nic);
    u64 drops = (count > pkts ? count - pkts : 0) + missed;
    printf("RESULT app=pktgen role=rx pkts=%lu bytes=%lu pps=%lu drops=%lu ns=%lu other=%lu "
           "missed=%lu rx_errors=%lu irqs=%u wakeups=%lu\n",
           pkts, bytes, rate(pkts, ns), drops, ns, other, missed, nic.rx_errors,
           nic_irqs[nic.index], wakeups);
    return (count && pkts < count) ? EXIT_FAIL : EXIT_OK;
}

int pktgen_main(const struct cmdline *cl)
{
    u64 index = 0;
    cmdline_u64(cl, "nic", &index);
    const char *role = cl->argc ? cl->argv[0] : cmdline_get(cl, "role");
    if (!role || (strcmp(role, "tx") && strcmp(role, "rx"))) {
        printf("pktgen: error: usage: pktgen tx|rx [count=N] [len=BYTES] [dst=MAC] [nic=I]\n");
        return EXIT_USAGE;
    }
    if (e1000_probe(&nic, (int)index, cl) < 0) {
        printf("RESULT app=pktgen role=%s ok=0 error=nic-probe nic=%lu\n", role, index);
        return EXIT_FAIL;
    }
    return role[0] == 't' ? do_tx(cl) : do_rx(cl);
}
