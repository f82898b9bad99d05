/* vpio pktgen: send or receive frames on a switch port, like netmap's
 * pkt-gen. TX fills its TX ring's buffers once with the frame and then only
 * sets lengths and advances head, one txsync per batch; RX waits on the RX
 * ring (vpio_port_poll), counts frames and releases them. Prints the rate
 * once a second and a final RESULT line. */
#include <inttypes.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/opts.h"
#include "cli/pktgen.h"
#include "vpio/switch.h"
#include "vpio/clock.h"

static const char pktgen_epilog[] =
    "Without -n and -T it runs until interrupted. Ends with one line\n"
    "RESULT app=pktgen role=tx|rx pkts=N bytes=N pps=N bps=N drops=N errs=N\n"
    "(tx: pkts delivered to >= 1 port, drops not delivered; rx: pkts received,\n"
    "drops = frames for this port dropped by the switch, ring full).\n";

static int set_ifname(const char *arg, void *ctx, char *err, size_t errlen)
{
    if (!vpio_port_name_valid(arg)) {
        snprintf(err, errlen, "expected SWITCH:PORT, e.g. vale0:a (names of [A-Za-z0-9_.-])");
        return -1;
    }
    *(const char **)ctx = arg;
    return 0;
}

/* -T, -W: a positive number of seconds. */
static int set_seconds(const char *arg, void *ctx, char *err, size_t errlen)
{
    double d;
    if (opts_parse_double(arg, 0, 1e7, &d) < 0 || !(d > 0)) {
        snprintf(err, errlen, "expected a positive number of seconds");
        return -1;
    }
    *(double *)ctx = d;
    return 0;
}

static int set_src(const char *arg, void *ctx, char *err, size_t errlen)
{
    struct pktgen_opts *o = ctx;
    if (opts_parse_mac(arg, o->src) < 0 || (o->src[0] & 1)) {
        snprintf(err, errlen, "expected a unicast MAC like 02:00:00:00:00:01");
        return -1;
    }
    o->src_set = 1;
    return 0;
}

static const char *const directions[] = {"rx", "tx", NULL}; /* index = pktgen_opts.tx */

int pktgen_parse(int argc, char **argv, struct pktgen_opts *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->tx = -1;
    memset(o->dst, 0xff, 6);
    uint64_t len = 60, batch = 256, count = 0;
    bool quiet = false, busy = false;
    char len_help[80], batch_help[80];
    snprintf(len_help, sizeof len_help, "frame length in bytes without CRC, %u..%u (default 60)",
             VPIO_SW_MIN_FRAME, VPIO_SW_MAX_FRAME);
    snprintf(batch_help, sizeof batch_help, "frames per ring sync, 1..%u (default 256; tx only)",
             VPIO_SW_RING_SLOTS - 1);
    const struct opt_def defs[] = {
        {'i', NULL, OPT_CALL, "SWITCH:PORT", "switch port, e.g. vale0:a (created if needed)",
         .out = &o->ifname, .call = set_ifname},
        {'f', NULL, OPT_CHOICE, "tx|rx", "send or receive", .out = &o->tx, .choices = directions},
        {'l', NULL, OPT_UINT, "LEN", len_help, .out = &len, .min = VPIO_SW_MIN_FRAME,
         .max = VPIO_SW_MAX_FRAME},
        {'n', NULL, OPT_UINT, "COUNT", "stop after COUNT frames (tx: sent, rx: received)",
         .out = &count, .min = 1},
        {'T', NULL, OPT_CALL, "SECONDS", "stop after SECONDS (with -n: whichever comes first)",
         .out = &o->seconds, .call = set_seconds},
        {'W', NULL, OPT_CALL, "SECONDS",
         "rx: also stop once no frame came for SECONDS (after the first)", .out = &o->idle,
         .call = set_seconds},
        {'b', NULL, OPT_UINT, "BATCH", batch_help, .out = &batch, .min = 1,
         .max = VPIO_SW_RING_SLOTS - 1},
        {'d', NULL, OPT_MAC, "DSTMAC", "destination MAC (default ff:ff:ff:ff:ff:ff)",
         .out = o->dst},
        {'s', NULL, OPT_CALL, "SRCMAC",
         "source MAC (default 02:00:00:00:PP:NN, PP = pid & 255, NN = port id)", .out = o,
         .call = set_src},
        {'q', NULL, OPT_FLAG, NULL, "no per-second rate lines", .out = &quiet},
        {'B', NULL, OPT_FLAG, NULL, "rx: busy-poll (never sleep in the futex)", .out = &busy},
    };
    const struct opt_spec spec = {"usage: vpio pktgen -i SWITCH:PORT -f tx|rx [options]", NULL,
                                  defs, OPTS_COUNT(defs), pktgen_epilog};
    int first;
    int r = opts_parse(&spec, argc, argv, &first, err, errlen);
    if (r != 0)
        return r;
    o->len = (uint32_t)len;
    o->batch = (uint32_t)batch;
    o->count = count;
    o->quiet = quiet;
    o->busy = busy;
    if (first < argc) {
        snprintf(err, errlen, "unexpected argument '%s'", argv[first]);
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
    double t0 = vpio_now_s(), last = t0, tend = o->seconds > 0 ? t0 + o->seconds : 1e300;
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
        double t = vpio_now_coarse_s();
        if (t - last >= 1.0) {
            if (!o->quiet)
                report_line("tx", t - last, ok - lastok, (ok - lastok) * o->len);
            last = t;
            lastok = ok;
        }
        if (t >= tend)
            break;
    }
    *elapsed = vpio_now_s() - t0;
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
    double t0 = vpio_now_s(), tend = o->seconds > 0 ? t0 + o->seconds : 1e300;
    double first = 0, lastpkt = 0, last = t0;
    uint64_t n = 0, b = 0, lastn = 0, lastb = 0;
    while (!stop && (!o->count || n < o->count)) {
        double t = vpio_now_coarse_s();
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
            t = vpio_now_s();
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
    *elapsed = n > 1 ? lastpkt - first : vpio_now_s() - t0;
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
