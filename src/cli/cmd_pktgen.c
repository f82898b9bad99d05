/* vpio pktgen: send or receive frames on a switch port, like netmap's
 * pkt-gen. TX fills its TX ring's buffers once with the frame and then only
 * sets lengths and advances head, one txsync per batch; RX waits on the RX
 * ring (vpio_port_poll), counts frames and releases them. Prints the rate
 * once a second and a final RESULT line. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/pktgen.h"
#include "vpio/switch.h"

static const char usage_text[] =
    "usage: vpio pktgen -i SWITCH:PORT -f tx|rx [options]\n"
    "  -i IF        switch port, e.g. vale0:a (created if needed)\n"
    "  -f tx|rx     send or receive\n"
    "  -l LEN       frame length in bytes without CRC, 14..%u (default 60)\n"
    "  -n COUNT     stop after COUNT frames (tx: sent, rx: received)\n"
    "  -T SECONDS   stop after SECONDS (with -n: whichever comes first)\n"
    "  -W SECONDS   rx: also stop once no frame came for SECONDS (after the first)\n"
    "  -b BATCH     frames per ring sync, 1..%u (default 256; tx only)\n"
    "  -d DSTMAC    destination MAC (default ff:ff:ff:ff:ff:ff)\n"
    "  -s SRCMAC    source MAC (default 02:00:00:00:PP:NN, PP = pid & 255, NN = port id)\n"
    "  -q           no per-second rate lines\n"
    "  -B           rx: busy-poll (never sleep in the futex)\n"
    "Without -n and -T it runs until interrupted. Ends with one line\n"
    "RESULT app=pktgen role=tx|rx pkts=N bytes=N pps=N bps=N drops=N errs=N\n"
    "(tx: pkts delivered to >= 1 port, drops not delivered; rx: pkts received,\n"
    "drops = frames for this port dropped by the switch, ring full).\n";

int pktgen_parse_mac(const char *s, uint8_t mac[6])
{
    unsigned v[6];
    char tail;
    if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
        return -1;
    for (int i = 0; i < 6; i++) {
        if (v[i] > 255)
            return -1;
        mac[i] = (uint8_t)v[i];
    }
    return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (!*s || *s == '-')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

int pktgen_parse(int argc, char **argv, struct pktgen_opts *o, char *err, size_t errlen)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    o->tx = -1;
    o->len = 60;
    o->batch = 256;
    memset(o->dst, 0xff, 6);
    optind = 0; /* full re-initialisation (glibc), so parse can run twice */
    opterr = 0;
    int c;
    uint64_t v;
    while ((c = getopt_long(argc, argv, ":i:f:l:n:T:W:b:d:s:qBh", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            printf(usage_text, VPIO_SW_MAX_FRAME, VPIO_SW_RING_SLOTS - 1);
            return 1;
        case 'i':
            o->ifname = optarg;
            if (!strchr(optarg, ':')) {
                snprintf(err, errlen, "-i %s: expected SWITCH:PORT, e.g. vale0:a", optarg);
                return -1;
            }
            break;
        case 'f':
            if (!strcmp(optarg, "tx"))
                o->tx = 1;
            else if (!strcmp(optarg, "rx"))
                o->tx = 0;
            else {
                snprintf(err, errlen, "-f %s: expected tx or rx", optarg);
                return -1;
            }
            break;
        case 'l':
            if (parse_u64(optarg, &v) || v < VPIO_SW_MIN_FRAME || v > VPIO_SW_MAX_FRAME) {
                snprintf(err, errlen, "-l %s: frame length must be %u..%u", optarg,
                         VPIO_SW_MIN_FRAME, VPIO_SW_MAX_FRAME);
                return -1;
            }
            o->len = (uint32_t)v;
            break;
        case 'n':
            if (parse_u64(optarg, &v) || v == 0) {
                snprintf(err, errlen, "-n %s: expected a positive count", optarg);
                return -1;
            }
            o->count = v;
            break;
        case 'T':
        case 'W': {
            char *end;
            errno = 0;
            double d = strtod(optarg, &end);
            if (errno || *end || !(d > 0) || d > 1e7) {
                snprintf(err, errlen, "-%c %s: expected a positive number of seconds", c, optarg);
                return -1;
            }
            if (c == 'T')
                o->seconds = d;
            else
                o->idle = d;
            break;
        }
        case 'b':
            if (parse_u64(optarg, &v) || v < 1 || v > VPIO_SW_RING_SLOTS - 1) {
                snprintf(err, errlen, "-b %s: batch must be 1..%u", optarg, VPIO_SW_RING_SLOTS - 1);
                return -1;
            }
            o->batch = (uint32_t)v;
            break;
        case 'd':
            if (pktgen_parse_mac(optarg, o->dst)) {
                snprintf(err, errlen, "-d %s: expected a MAC like 02:00:00:00:00:01", optarg);
                return -1;
            }
            break;
        case 's':
            if (pktgen_parse_mac(optarg, o->src) || (o->src[0] & 1)) {
                snprintf(err, errlen, "-s %s: expected a unicast MAC like 02:00:00:00:00:01",
                         optarg);
                return -1;
            }
            o->src_set = 1;
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'B':
            o->busy = 1;
            break;
        case ':':
            snprintf(err, errlen, "option -%c needs an argument", optopt);
            return -1;
        default:
            if (optopt)
                snprintf(err, errlen, "unknown option -%c", optopt);
            else
                snprintf(err, errlen, "unknown option %s", argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
        return -1;
    }
    if (!o->ifname) {
        snprintf(err, errlen, "missing -i SWITCH:PORT");
        return -1;
    }
    if (o->tx < 0) {
        snprintf(err, errlen, "missing -f tx|rx");
        return -1;
    }
    if (o->tx) {
        uint32_t slots = (o->len + VPIO_SW_BUF_SIZE - 1) / VPIO_SW_BUF_SIZE;
        if ((uint64_t)o->batch * slots > VPIO_SW_RING_SLOTS - 1) {
            snprintf(err, errlen, "-b %u with -l %u needs more than %u slots", o->batch, o->len,
                     VPIO_SW_RING_SLOTS - 1);
            return -1;
        }
    }
    return 0;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Cheap clock (vDSO, ~4 ms resolution) for the per-batch checks: a precise
 * clock_gettime costs ~80 ns on this kind of VM, too much per frame. */
static double now_coarse(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void report_line(const char *role, double dt, uint64_t pkts, uint64_t bytes)
{
    if (dt <= 0)
        dt = 1e-9;
    printf("pktgen %s: %.3f Mpps %.3f Gbit/s\n", role, (double)pkts / dt / 1e6,
           (double)bytes * 8 / dt / 1e9);
    fflush(stdout);
}

static void fill_frame(uint8_t *f, uint32_t len, const struct pktgen_opts *o)
{
    memset(f, 0, len);
    memcpy(f, o->dst, 6);
    memcpy(f + 6, o->src, 6);
    f[12] = 0x88; /* local experimental ethertype 0x88b5 */
    f[13] = 0xb5;
    for (uint32_t i = 14; i < len; i++)
        f[i] = (uint8_t)i;
}

static int run_tx(struct vpio_port *p, const struct pktgen_opts *o, uint64_t *pkts, uint64_t *bytes,
                  uint64_t *drops, double *elapsed)
{
    struct vpio_ring *r = vpio_port_txring(p);
    uint32_t nfr = (o->len + VPIO_SW_BUF_SIZE - 1) / VPIO_SW_BUF_SIZE;
    uint8_t *frame = malloc(o->len);
    if (!frame)
        return -1;
    fill_frame(frame, o->len, o);
    /* Prefill every slot's buffer with its part of the frame: frames always
     * start at slot indices that are multiples of nfr?  No: they start
     * anywhere, so give every slot the fragment for every position. For one
     * slot per frame (len <= 2048) every buffer holds the whole frame; for
     * longer frames we rewrite the buffers as we go (below). */
    for (uint32_t i = 0; i < VPIO_SW_RING_SLOTS; i++)
        memcpy(vpio_ring_buf(p, r, i), frame,
               o->len < VPIO_SW_BUF_SIZE ? o->len : VPIO_SW_BUF_SIZE);
    double t0 = now_s(), last = t0, tend = o->seconds > 0 ? t0 + o->seconds : 1e300;
    uint64_t sent = 0, ok = 0, lastok = 0;
    while (!stop) {
        uint64_t want = o->batch;
        if (o->count && o->count - sent < want)
            want = o->count - sent;
        if (!want)
            break;
        uint32_t h = r->head & (VPIO_SW_RING_SLOTS - 1); /* the ring is shared: mask */
        for (uint64_t k = 0; k < want; k++) {
            uint32_t left = o->len, off = 0;
            while (left) {
                uint32_t c = left < VPIO_SW_BUF_SIZE ? left : VPIO_SW_BUF_SIZE;
                if (nfr > 1)
                    memcpy(vpio_ring_buf(p, r, h), frame + off, c);
                left -= c;
                off += c;
                r->slot[h].len = (uint16_t)c;
                r->slot[h].flags = left ? VPIO_SLOT_MOREFRAG : 0;
                h = vpio_ring_next(h);
            }
        }
        r->head = r->cur = h;
        int n = vpio_port_txsync(p);
        if (n > 0)
            ok += (uint64_t)n;
        sent += want;
        double t = now_coarse();
        if (t - last >= 1.0) {
            if (!o->quiet)
                report_line("tx", t - last, ok - lastok, (ok - lastok) * o->len);
            last = t;
            lastok = ok;
        }
        if (t >= tend)
            break;
    }
    *elapsed = now_s() - t0;
    *pkts = ok;
    *bytes = ok * o->len;
    *drops = sent - ok;
    free(frame);
    return 0;
}

static int run_rx(struct vpio_port *p, const struct pktgen_opts *o, uint64_t *pkts, uint64_t *bytes,
                  double *elapsed)
{
    struct vpio_ring *r = vpio_port_rxring(p);
    double t0 = now_s(), tend = o->seconds > 0 ? t0 + o->seconds : 1e300;
    double first = 0, lastpkt = 0, last = t0;
    uint64_t n = 0, b = 0, lastn = 0, lastb = 0;
    while (!stop && (!o->count || n < o->count)) {
        double t = now_coarse();
        if (t >= tend || (o->idle > 0 && n && t - lastpkt >= o->idle))
            break;
        int ms = (int)((tend - t) * 1000) + 1;
        vpio_port_poll(p, VPIO_POLL_RX, o->busy ? 0 : ms < 200 ? ms : 200);
        /* ring fields live in shared memory: mask what we read */
        uint32_t i = r->head & (VPIO_SW_RING_SLOTS - 1), tail = r->tail & (VPIO_SW_RING_SLOTS - 1);
        uint64_t got = 0;
        while (i != tail) {
            struct vpio_slot *s = &r->slot[i];
            b += s->len;
            if (!(s->flags & VPIO_SLOT_MOREFRAG))
                got++;
            i = vpio_ring_next(i);
        }
        r->head = r->cur = i;
        if (got) {
            t = now_s();
            if (!n)
                first = last = t;
            lastpkt = t;
            n += got;
        }
        if (n && t - last >= 1.0) {
            if (!o->quiet)
                report_line("rx", t - last, n - lastn, b - lastb);
            last = t;
            lastn = n;
            lastb = b;
        }
    }
    vpio_port_rxsync(p); /* release the last slots */
    *pkts = n;
    *bytes = b;
    *elapsed = n > 1 ? lastpkt - first : now_s() - t0;
    return 0;
}

int cmd_pktgen(int argc, char **argv)
{
    struct pktgen_opts o;
    char err[256];
    int rc = pktgen_parse(argc, argv, &o, err, sizeof err);
    if (rc == 1)
        return 0;
    if (rc < 0) {
        fprintf(stderr, "vpio pktgen: %s (see vpio pktgen --help)\n", err);
        return 2;
    }
    struct vpio_port *p;
    rc = vpio_port_open(&p, o.ifname, 0);
    if (rc < 0) {
        fprintf(stderr, "vpio pktgen: cannot open port %s: %s\n", o.ifname,
                vpio_switch_strerror(rc));
        return 1;
    }
    if (!o.src_set) {
        uint8_t def[6] = {0x02, 0, 0, 0, (uint8_t)(getpid() & 0xff), (uint8_t)vpio_port_id(p)};
        memcpy(o.src, def, 6);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    uint64_t pkts = 0, bytes = 0, drops = 0;
    double dt = 0;
    if (o.tx)
        rc = run_tx(p, &o, &pkts, &bytes, &drops, &dt);
    else
        rc = run_rx(p, &o, &pkts, &bytes, &dt);
    struct vpio_port_stats st;
    vpio_port_stats(p, &st);
    if (!o.tx)
        drops = st.rx_drops;
    uint64_t errs = o.tx ? st.tx_errs : st.rx_errs;
    if (dt <= 0)
        dt = 1e-9;
    printf("RESULT app=pktgen role=%s pkts=%" PRIu64 " bytes=%" PRIu64 " pps=%.0f bps=%.0f "
           "drops=%" PRIu64 " errs=%" PRIu64 "\n",
           o.tx ? "tx" : "rx", pkts, bytes, (double)pkts / dt, (double)bytes * 8 / dt, drops, errs);
    fflush(stdout);
    vpio_port_close(p);
    return rc < 0 ? 1 : 0;
}
